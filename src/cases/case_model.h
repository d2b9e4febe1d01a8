// The case model: kinds, states, severities, decision outcomes, and CaseView, the current state of
// one case as the fold of its events (cases/fold.h).
//
// A case is a governed record (an alert, a finding, an access review, an exception request, a
// support request, an offboarding, an incident) that people investigate, decide and close. Every
// change is a ledger event of kind `case` (docs/cases.md); CaseView is what those events add up
// to. Nothing in CaseView is stored that the events do not say.
//
//   CaseView v = ...;             // from CaseProjection::Load
//   v.state == CaseState::kOpen;
//   AllowedTransitions(v.state);  // the states `case transition` may move it to
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "event/event.h"

namespace nhitrace::cases {

// The source system of every case event, and the actor id nhitrace uses for what it does itself
// (timers, expiries, cases opened from findings).
inline constexpr char kCaseSourceSystem[] = "nhitrace-cases";
inline constexpr char kSystemActor[] = "nhitrace";

enum class CaseKind {
  kAlert,
  kFinding,
  kAccessReview,
  kException,
  kSupport,
  kOffboarding,
  kIncident,
};
inline constexpr CaseKind kAllCaseKinds[] = {
    CaseKind::kAlert,   CaseKind::kFinding,     CaseKind::kAccessReview, CaseKind::kException,
    CaseKind::kSupport, CaseKind::kOffboarding, CaseKind::kIncident};

enum class CaseState {
  kOpen,
  kTriage,
  kInvestigating,
  kEscalated,
  kAwaitingDecision,
  kRemediating,
  kVerifying,
  kClosed,
};
inline constexpr CaseState kAllCaseStates[] = {CaseState::kOpen,
                                               CaseState::kTriage,
                                               CaseState::kInvestigating,
                                               CaseState::kEscalated,
                                               CaseState::kAwaitingDecision,
                                               CaseState::kRemediating,
                                               CaseState::kVerifying,
                                               CaseState::kClosed};

enum class Severity { kLow, kMedium, kHigh, kCritical };
inline constexpr Severity kAllSeverities[] = {Severity::kLow, Severity::kMedium, Severity::kHigh,
                                              Severity::kCritical};

enum class Outcome { kApprove, kDeny, kException, kOverride, kRevoke, kRotate, kAcceptRisk };
inline constexpr Outcome kAllOutcomes[] = {
    Outcome::kApprove, Outcome::kDeny,   Outcome::kException, Outcome::kOverride,
    Outcome::kRevoke,  Outcome::kRotate, Outcome::kAcceptRisk};

// How a case was closed.
enum class Resolution { kResolved, kFalsePositive, kDuplicate, kRiskAccepted, kExceptionGranted };
inline constexpr Resolution kAllResolutions[] = {Resolution::kResolved, Resolution::kFalsePositive,
                                                 Resolution::kDuplicate, Resolution::kRiskAccepted,
                                                 Resolution::kExceptionGranted};

// Names as written in events, policies and on the command line ("access_review",
// "awaiting_decision", "accept_risk", "false_positive", ...).
std::string_view CaseKindName(CaseKind k);
std::string_view CaseStateName(CaseState s);
std::string_view SeverityName(Severity s);
std::string_view OutcomeName(Outcome o);
std::string_view ResolutionName(Resolution r);
std::optional<CaseKind> ParseCaseKind(std::string_view s);
std::optional<CaseState> ParseCaseState(std::string_view s);
std::optional<Severity> ParseSeverity(std::string_view s);
std::optional<Outcome> ParseOutcome(std::string_view s);
std::optional<Resolution> ParseResolution(std::string_view s);
// "a, b or c": the names of a list, for error messages.
template <typename E, size_t N>
std::string NameList(const E (&all)[N], std::string_view (*name)(E)) {
  std::string out;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) out += i + 1 == N ? " or " : ", ";
    out += name(all[i]);
  }
  return out;
}

// The states `case transition` may move a case in `from` to, in the order of kAllCaseStates.
// Closing (`case close`) and reopening (`case reopen`) are separate operations with their own
// checks, so kClosed is never in this list and the list for kClosed is empty.
std::vector<CaseState> AllowedTransitions(CaseState from);
// The states `case close` accepts a case in.
bool MayCloseFrom(CaseState s);

// Who did something to a case, when, and which event says so.
struct Stamp {
  uint64_t seq = 0;     // ledger sequence number of the case event
  uint32_t op = 0;      // the event's operation number within the case (1 = open)
  int64_t time_ns = 0;  // the event's authoritative time
  std::string actor;
  std::string actor_type;  // human | nhi | system
  friend bool operator==(const Stamp&, const Stamp&) = default;
};

struct Task {
  uint32_t id = 0;
  std::string title;
  std::string owner;              // "" = unassigned
  std::optional<int64_t> due_ns;  // none = no due date
  std::string status = "open";    // open | done | cancelled
  Stamp created, updated;
  friend bool operator==(const Task&, const Task&) = default;
};

struct Comment {
  Stamp at;
  std::string text;
  friend bool operator==(const Comment&, const Comment&) = default;
};

// Evidence attached to a case: a file (bytes kept in the store, addressed by SHA-256) or a URL
// with the hash of its content as given by the person attaching it.
struct Attachment {
  uint32_t id = 0;
  std::string name;
  std::string media_type;
  std::string url;         // "" for a file
  std::string sha256_hex;  // of the content
  std::optional<uint64_t> size;
  bool stored = false;  // the bytes are in the store (case_attachment_blobs)
  Stamp at;
  friend bool operator==(const Attachment&, const Attachment&) = default;
};

struct RiskAcceptance {
  Stamp at;  // at.actor is the control owner
  std::string rationale;
  std::optional<int64_t> until_ns;
  friend bool operator==(const RiskAcceptance&, const RiskAcceptance&) = default;
};

struct ExceptionTerms {
  int64_t expires_ns = 0;
  int64_t review_ns = 0;
  std::vector<std::string> compensating_controls;
  std::string status = "active";    // active | expired | superseded
  std::optional<Stamp> expired;     // the exception_expired event
  std::string finding_id;           // the finding fired at expiry, if the sink gave one
  std::optional<Stamp> review_due;  // the review_due event
  friend bool operator==(const ExceptionTerms&, const ExceptionTerms&) = default;
};

struct Decision {
  uint32_t id = 0;
  Outcome outcome = Outcome::kApprove;
  Stamp at;  // who decided and when
  std::string rationale;
  std::optional<event::PolicyRef> policy;  // none: no policy was published
  std::vector<uint64_t> signal_events;     // ledger seqs relied on
  std::vector<std::string> signal_findings;
  // The identity and request (correlation key) the decision is about, when it names them.
  std::string identity, correlation_key;
  // Overrides: what is overridden (a deny decision of this case, or a denial event in the
  // ledger), whether it was automated, and the control owner who must accept the residual risk.
  std::optional<uint32_t> overrides_decision;
  std::optional<uint64_t> overrides_event;
  bool automated_deny = false;
  std::string control_owner;
  std::optional<RiskAcceptance> risk;
  std::optional<ExceptionTerms> exception;  // outcome kException
  // effective | pending_risk_acceptance (an override waiting for its control owner) |
  // overridden (a deny an effective override replaced) | expired | superseded (exceptions)
  std::string status = "effective";
  friend bool operator==(const Decision&, const Decision&) = default;
};

struct Verification {
  Stamp at;
  std::string result;  // passed | failed
  std::string note;
  std::vector<uint64_t> evidence;  // ledger seqs
  friend bool operator==(const Verification&, const Verification&) = default;
};

// The support trail: from the first report to the verified fix.
struct SupportField {
  std::string value;
  Stamp at;
  friend bool operator==(const SupportField&, const SupportField&) = default;
};
struct SupportTrail {
  SupportField reporter, channel, affected_identity, entitlement_diff, approved_change, remediation;
  friend bool operator==(const SupportTrail&, const SupportTrail&) = default;
};

// Something linked to a case. type: identity | event | finding | chain | ticket.
struct Link {
  std::string type;
  std::string value;  // for events, the decimal sequence number
  Stamp at;
  friend bool operator==(const Link&, const Link&) = default;
};

struct SlaTimer {
  std::optional<int64_t> due_ns;  // none: no SLA for this kind and severity
  std::optional<Stamp> met;
  std::optional<Stamp> breached;
  friend bool operator==(const SlaTimer&, const SlaTimer&) = default;
};

struct EscalationStep {
  uint32_t level = 0;
  std::string to;
  int64_t due_ns = 0;
  std::optional<Stamp> fired;
  bool cancelled = false;  // the case closed (or reopened with a new path) before it was due
  friend bool operator==(const EscalationStep&, const EscalationStep&) = default;
};

// One closure criterion as evaluated at a close attempt.
struct CriterionResult {
  std::string id;
  bool met = false;
  std::string detail;              // what was found, or what is missing
  std::vector<uint64_t> evidence;  // ledger seqs that satisfy it
  friend bool operator==(const CriterionResult&, const CriterionResult&) = default;
};

struct CaseView {
  uint64_t id = 0;
  CaseKind kind = CaseKind::kAlert;
  Severity severity = Severity::kMedium;
  CaseState state = CaseState::kOpen;
  std::string title, description;
  std::string requester;  // who asked (SoD: may not decide this case)
  Stamp opened;
  std::optional<event::PolicyRef> opened_policy;
  std::string source_finding, source_rule;  // a case opened from a finding

  std::string owner;
  std::vector<Link> links;
  std::vector<Task> tasks;
  std::vector<Comment> comments;
  std::vector<Attachment> attachments;
  std::vector<Decision> decisions;
  std::vector<Verification> verifications;
  SupportTrail support;

  // Timers, fixed by the policy in force when the case was opened (or reopened, or its severity
  // changed): recorded in those events so that the fold never depends on today's policy.
  SlaTimer respond, resolve;
  std::vector<EscalationStep> escalation;
  uint32_t escalation_level = 0;
  std::string escalated_to;

  int64_t cycle_start_ns = 0;   // when the case was opened, or last reopened (timers start here)
  uint32_t state_since_op = 0;  // the op that moved the case into `state`
  int64_t state_since_ns = 0;
  std::optional<Stamp> closed;
  std::string resolution;
  std::vector<CriterionResult> closure;  // as checked by the close
  uint32_t reopen_count = 0;

  uint32_t op_count = 0;       // ops folded so far (the next op is op_count + 1)
  int64_t updated_ns = 0;      // time of the last op
  std::vector<uint64_t> seqs;  // the ledger seq of each op, in op order

  friend bool operator==(const CaseView&, const CaseView&) = default;

  bool has_link(std::string_view type, std::string_view value) const;
  std::vector<std::string> links_of(std::string_view type) const;
  const Decision* decision(uint32_t decision_id) const;
  Decision* decision(uint32_t decision_id);
  const Task* task(uint32_t task_id) const;
};

// The earliest time at which a timer of the case (SLA, escalation step, exception expiry or
// re-review) falls due; none when nothing is pending.
std::optional<int64_t> NextDue(const CaseView& v);

// The case as JSON (docs/cases.md, "show --json"): every member of CaseView, times as RFC 3339.
std::string CaseViewToJson(const CaseView& v);

}  // namespace nhitrace::cases
