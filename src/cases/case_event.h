// Case events: the operation a `case` ledger event records, and its encoding in the event.
//
// Every change to a case is one event (docs/cases.md, "The event format"):
//   kind             case
//   source.system    nhitrace-cases
//   source.event_id  "<case id>/<op seq>"   (op seq 1 is the open)
//   time             the authoritative time of the change (the injected clock)
//   actor            who did it: a person, an NHI, or nhitrace itself ({"id":"nhitrace",
//                    "type":"system"})
//   rationale        the reason given (required for decisions and state changes)
//   policy           the policy applied (decisions, exceptions, closes, opens), if one is published
//   attributes       {"case": N, "op": "<op>", "op_seq": K, ...the op's members}
//
//   CaseOp op;
//   op.type = OpType::kAssign; op.case_id = 7; op.op_seq = 3; op.owner = "bob";
//   NHI_ASSIGN_OR_RETURN(event::Event e, BuildCaseEvent(op, actor, now_ns, reason, policy));
//   NHI_ASSIGN_OR_RETURN(CaseOp back, DecodeCaseEvent(e));   // == op
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cases/case_model.h"
#include "event/event.h"

namespace nhitrace::cases {

enum class OpType {
  kOpen,
  kSet,
  kAssign,
  kTransition,
  kComment,
  kTask,
  kAttach,
  kLink,
  kDecide,
  kExcept,
  kAcceptRisk,
  kVerify,
  kSupport,
  kClose,
  kReopen,
  kEscalate,
  kSlaBreach,
  kExceptionExpired,
  kReviewDue,
  kJoin,
};
std::string_view OpTypeName(OpType t);
std::optional<OpType> ParseOpType(std::string_view s);

// Things to link: identities, ledger events, findings, grant chains, external tickets.
struct LinkSet {
  std::vector<std::string> identities, findings, chains, tickets;
  std::vector<uint64_t> events;
  bool empty() const {
    return identities.empty() && findings.empty() && chains.empty() && tickets.empty() &&
           events.empty();
  }
  friend bool operator==(const LinkSet&, const LinkSet&) = default;
};

struct PlannedStep {
  uint32_t level = 0;
  std::string to;
  int64_t due_ns = 0;
  friend bool operator==(const PlannedStep&, const PlannedStep&) = default;
};

// Timers fixed from the policy when a case opens, reopens or changes severity.
struct TimerPlan {
  std::optional<int64_t> respond_due_ns, resolve_due_ns;
  std::vector<PlannedStep> escalation;
  friend bool operator==(const TimerPlan&, const TimerPlan&) = default;
};

// One operation. Which members an op uses is in docs/cases.md; the rest stay empty.
struct CaseOp {
  OpType type = OpType::kComment;
  uint64_t case_id = 0;
  uint32_t op_seq = 0;

  // open, set
  std::optional<CaseKind> kind;
  std::optional<Severity> severity;
  std::string title, description, requester;
  std::optional<TimerPlan> timers;  // open, set (severity), reopen
  // open, link, join (join: the finding and its evidence events)
  LinkSet links;
  // open (from a finding), join
  std::string finding, rule;
  // assign: the new owner; escalate: who it is escalated to
  std::string owner;
  uint32_t level = 0;  // escalate
  // transition (from, to), reopen (from), close (from)
  std::optional<CaseState> from, to;
  std::string cause;  // reopen: manual | exception_expired | finding; escalate: manual | sla
  // comment, verify (note)
  std::string text;
  // task
  uint32_t task_id = 0;
  std::string task_action;  // add | done | cancel | reopen
  std::string task_title, task_owner;
  std::optional<int64_t> task_due_ns;
  // attach
  uint32_t attachment_id = 0;
  std::string name, media_type, url, sha256_hex;
  std::optional<uint64_t> size;
  bool stored = false;
  // decide, except, accept_risk, exception_expired, review_due
  uint32_t decision_id = 0;
  std::optional<Outcome> outcome;
  std::vector<uint64_t> signal_events;
  std::vector<std::string> signal_findings;
  std::optional<uint32_t> overrides_decision;
  std::optional<uint64_t> overrides_event;
  bool automated_deny = false;
  std::string control_owner;
  // decide, except: the identity and request the decision is about (what the reconcile rules
  // exception-expired and override-creep read), when the case names them.
  std::string subject_identity, subject_correlation_key;
  std::optional<int64_t> expires_ns, review_ns, until_ns;
  std::vector<std::string> compensating_controls;
  // verify
  std::string result;  // passed | failed
  std::vector<uint64_t> evidence;
  // support (also reporter/channel on open)
  std::string reporter, channel, affected_identity, entitlement_diff, approved_change, remediation;
  // close
  std::optional<Resolution> resolution;
  std::vector<CriterionResult> criteria;
  // sla_breach
  std::string timer;  // respond | resolve
  std::optional<int64_t> due_ns;

  friend bool operator==(const CaseOp&, const CaseOp&) = default;
};

// The attributes object of the op (canonical JSON).
std::string EncodeCaseAttributes(const CaseOp& op);

// The ledger event for `op`. `reason` goes to the event's rationale ("" = none); `policy` to its
// policy member. The event is checked by the native decoder, so it is exactly what `nhitrace
// ingest` would accept (identifier and text limits included); a value past a limit is
// kInvalidArgument naming the field.
Result<event::Event> BuildCaseEvent(const CaseOp& op, const event::Actor& actor, int64_t time_ns,
                                    const std::string& reason,
                                    const std::optional<event::PolicyRef>& policy);

// The op a case event records. Checks the source system, that source.event_id is
// "<case>/<op_seq>" and agrees with the attributes, and the attributes themselves; unknown
// members are errors. kInvalidArgument naming the member on any problem.
Result<CaseOp> DecodeCaseEvent(const event::Event& e);

// Parses "<case id>/<op seq>".
bool ParseCaseEventId(std::string_view id, uint64_t* case_id, uint32_t* op_seq);

}  // namespace nhitrace::cases
