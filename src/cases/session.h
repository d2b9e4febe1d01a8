// CaseSession: the operations on cases, each checked and then written as one case event.
//
// Every operation checks what the case, the policy and the ledger allow (the state machine and
// its guards, segregation of duties, exception terms, closure criteria), then appends one event
// through a CaseEventWriter; the CaseProjection folds it into the case. A refused operation
// appends nothing and says why (kFailedPrecondition for the state of the case,
// kPermissionDenied for segregation of duties, kInvalidArgument for bad input, kNotFound for an
// unknown case).
//
// Time comes from the injected clock. Before an operation touches a case, the case's due timers
// (SLA breaches, escalation steps, exception expiry with its reopen and finding, re-review dates)
// are recorded as events by nhitrace itself; Tick() does that for every case.
//
//   ledger::Batch& batch = ...;                      // of a ledger that has `projection` observing
//   BatchEventWriter writer(batch);
//   CaseSession s(store, projection, writer, {&clock, policy, /*findings=*/nullptr});
//   NHI_ASSIGN_OR_RETURN(OpResult r, s.Assign(7, "bob", {"alice", "human"}, ""));
//   NHI_RETURN_IF_ERROR(batch.Commit());
//
// Threading: one thread; the session, writer and projection belong to one open batch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "cases/case_event.h"
#include "cases/case_model.h"
#include "cases/case_policy.h"
#include "cases/projection.h"
#include "ledger/ledger.h"
#include "store/store.h"

namespace nhitrace::cases {

// Who acts. The CLI takes it from --actor (there is no login); the HTTP API from the bearer
// token. type: human | nhi | system.
struct ActorRef {
  std::string id;
  std::string type = "human";
};

// Where a session's events go.
class CaseEventWriter {
 public:
  virtual ~CaseEventWriter() = default;
  // Appends the event and returns its ledger seq. The session's CaseProjection must see the
  // append (be an observer of the ledger the event goes to) before this returns.
  virtual Result<uint64_t> Append(const event::Event& e) = 0;
};

// Appends to an open ledger batch; the raw record kept with each event is its native JSON line.
class BatchEventWriter final : public CaseEventWriter {
 public:
  explicit BatchEventWriter(ledger::Batch& batch) : batch_(batch) {}
  Result<uint64_t> Append(const event::Event& e) override;

 private:
  ledger::Batch& batch_;
};

// An exception that ran out.
struct ExpiredException {
  uint64_t case_id = 0;
  uint32_t decision_id = 0;
  uint64_t decision_seq = 0;  // the ledger event that granted it
  int64_t expired_ns = 0;     // its expiry
  int64_t now_ns = 0;
  std::string decided_by;
  std::optional<event::PolicyRef> policy;  // under which it was granted
  std::vector<std::string> identities;     // linked to the case
  std::vector<std::string> chains;         // correlation keys linked to the case
};

// Told when an exception expires, so that a finding fires ("exception past its expiry").
// Implemented by src/reconcile; it may append the finding to the same batch. The id it returns
// ("" for none) is recorded in the case's exception_expired event and linked to the case.
class FindingSink {
 public:
  virtual ~FindingSink() = default;
  virtual Result<std::string> ExceptionExpired(const ExpiredException& e) = 0;
};

struct CaseEnv {
  const Clock* clock = nullptr;  // required
  PolicyContext policy;          // the policy in force (latest published, or the defaults)
  FindingSink* findings = nullptr;
};

// What one operation wrote.
struct OpResult {
  uint64_t case_id = 0;
  uint32_t op_seq = 0;
  uint64_t seq = 0;  // ledger seq of the event
  OpType type = OpType::kComment;
  int64_t time_ns = 0;
  std::string actor;
  CaseOp op;      // what was recorded
  CaseView view;  // the case after the operation
};

struct OpenArgs {
  CaseKind kind = CaseKind::kAlert;
  Severity severity = Severity::kMedium;
  std::string title, description;
  std::string requester;  // "" = the actor
  LinkSet links;
  std::string reporter, channel;  // support cases
  std::string reason;
};

struct AttachArgs {
  std::string name;        // required
  std::string media_type;  // optional
  // A file: its bytes are kept and their SHA-256 recorded. Or a URL with the SHA-256 of its
  // content as the person attaching it computed it (nhitrace works offline and cannot fetch
  // it); with both, the bytes are the URL's content as supplied, and a given hash must match.
  std::optional<std::string> bytes;
  std::string url;
  std::string sha256_hex;
  std::string reason;
};

struct DecideArgs {
  Outcome outcome = Outcome::kApprove;
  std::string rationale;  // required
  std::vector<uint64_t> signal_events;
  std::vector<std::string> signal_findings;
  std::optional<uint32_t> overrides_decision;  // override: a deny decision of this case
  std::optional<uint64_t> overrides_event;     // override: a denial event in the ledger
  std::string control_owner;                   // override: who must accept the residual risk
  // What the decision is about: an identity and a request linked to the case. Default: the
  // case's identity (request) when it links exactly one.
  std::string identity, correlation_key;
};

struct ExceptArgs {
  std::string justification;  // required (the event's rationale)
  int64_t expires_ns = 0;
  int64_t review_ns = 0;
  std::vector<std::string> compensating_controls;  // at least one
  std::vector<uint64_t> signal_events;
  std::vector<std::string> signal_findings;
  std::string identity, correlation_key;  // as for DecideArgs
};

struct SupportArgs {
  std::string reporter, channel, affected_identity, entitlement_diff, approved_change, remediation;
  std::string reason;
};

// A finding, as the reconcile module reports it, for OpenOrJoinForFinding.
struct FindingInput {
  std::string finding_id;  // required
  std::string rule_id;     // required
  std::string severity;    // low | medium | high | critical
  std::string identity;    // the identity key, or ""
  std::string correlation_key;
  std::vector<uint64_t> evidence_seqs;
  std::string title;  // "" = "<rule id> on <identity or correlation key>"
};

// The segregation-of-duties rules a case operation can break (docs/cases.md section 3). The
// names are stable: the API's 403 `sod_violation` (details.rule) and the CLI's error carry them.
enum class SodRule {
  kRequesterMayNotDecide,            // a requester or the opener decides or grants an exception
  kControlOwnerIsNotTheOverrider,    // the control owner of an override is the one overriding
  kControlOwnerIsNotARequester,      // the control owner (named, or accepting) is a requester
  kOnlyTheNamedControlOwnerAccepts,  // someone else than the named control owner accepts
  kControlOwnerRole,                 // not in the policy's control owner roles
};
// "requester-may-not-decide", "control-owner-is-not-the-overrider", ...
std::string_view SodRuleName(SodRule rule);

// A refusal for segregation of duties, as data: the rule, and the person it refused (the actor,
// or the control owner the actor named).
struct SodViolation {
  SodRule rule = SodRule::kRequesterMayNotDecide;
  std::string person;
};

struct FindingCaseOutcome {
  enum class Action { kOpened, kJoined, kReopened, kUnchanged, kNotOpened };
  Action action = Action::kNotOpened;
  uint64_t case_id = 0;  // 0 for kNotOpened
  std::vector<OpResult> ops;
  std::string reason;  // why (for kNotOpened and kUnchanged)
};
std::string_view FindingActionName(FindingCaseOutcome::Action a);

class CaseSession {
 public:
  // `store` is the ledger's store; `projection` observes the ledger `writer` appends to.
  CaseSession(store::Store& store, CaseProjection& projection, CaseEventWriter& writer,
              CaseEnv env);

  const CaseEnv& env() const { return env_; }
  int64_t Now() const;

  // Records the due timers of every case as of the clock. Returns the ops written.
  Result<std::vector<OpResult>> Tick();
  // The same for one case.
  Result<std::vector<OpResult>> TickCase(uint64_t id);

  Result<OpResult> Open(const OpenArgs& a, const ActorRef& actor);
  // Changes severity and/or title; a new severity re-plans the SLA and escalation timers.
  Result<OpResult> Set(uint64_t id, std::optional<Severity> severity, const std::string& title,
                       const ActorRef& actor, const std::string& reason);
  Result<OpResult> Assign(uint64_t id, const std::string& owner, const ActorRef& actor,
                          const std::string& reason);
  Result<OpResult> Transition(uint64_t id, CaseState to, const ActorRef& actor,
                              const std::string& reason);
  Result<OpResult> Comment(uint64_t id, const std::string& text, const ActorRef& actor);
  Result<OpResult> AddTask(uint64_t id, const std::string& title, const std::string& owner,
                           std::optional<int64_t> due_ns, const ActorRef& actor,
                           const std::string& reason);
  // action: done | cancel | reopen.
  Result<OpResult> UpdateTask(uint64_t id, uint32_t task, const std::string& action,
                              const ActorRef& actor, const std::string& reason);
  Result<OpResult> Attach(uint64_t id, const AttachArgs& a, const ActorRef& actor);
  Result<OpResult> Link(uint64_t id, const LinkSet& links, const ActorRef& actor,
                        const std::string& reason);
  Result<OpResult> Decide(uint64_t id, const DecideArgs& a, const ActorRef& actor);
  Result<OpResult> Except(uint64_t id, const ExceptArgs& a, const ActorRef& actor);
  Result<OpResult> AcceptRisk(uint64_t id, uint32_t decision, const std::string& rationale,
                              std::optional<int64_t> until_ns, const ActorRef& actor);
  Result<OpResult> Verify(uint64_t id, const std::string& result, const std::string& note,
                          const std::vector<uint64_t>& evidence, const ActorRef& actor);
  Result<OpResult> Support(uint64_t id, const SupportArgs& a, const ActorRef& actor);
  // Checks the closure criteria; closes only when all hold, else kFailedPrecondition naming
  // every criterion that does not.
  Result<OpResult> Close(uint64_t id, Resolution resolution, const std::string& reason,
                         const ActorRef& actor);
  // The closure criteria as they stand (what Close would check), without closing.
  Result<std::vector<CriterionResult>> CheckClosure(uint64_t id, Resolution resolution);
  Result<OpResult> Reopen(uint64_t id, const std::string& reason, const ActorRef& actor);
  // Escalates by hand to `to` (the next escalation level).
  Result<OpResult> Escalate(uint64_t id, const std::string& to, const std::string& reason,
                            const ActorRef& actor);

  // The case as it stands (timers not ticked). kNotFound when there is no such case.
  Result<CaseView> Get(uint64_t id);

  // The rule broken by the last operation of this session that was refused with
  // kPermissionDenied (every such refusal sets it; Decide, Except and AcceptRisk, the
  // operations that can be refused so, clear it when they start). Read it right after the
  // refusal:
  //   auto r = s.Decide(7, args, actor);
  //   if (r.status().code() == StatusCode::kPermissionDenied) Use(s.sod_violation()->rule);
  const std::optional<SodViolation>& sod_violation() const { return sod_violation_; }

  // A finding opens a case, joins one, or reopens the closed case it belongs to, as the
  // policy's `cases.findings` says (docs/cases.md, "Findings"). Idempotent: the same finding
  // with no new evidence changes nothing.
  Result<FindingCaseOutcome> OpenOrJoinForFinding(const FindingInput& f);

 private:
  friend class SessionInternals;
  // Ticks the case, then loads it; kNotFound if it does not exist.
  Result<CaseView> Prepare(uint64_t id);
  // TickCase that also hands back the case as it stands after the ticks.
  Result<std::vector<OpResult>> TickCase(uint64_t id, CaseView* current);
  Result<OpResult> Write(CaseOp op, const ActorRef& actor, const std::string& reason,
                         bool with_policy);
  TimerPlan PlanTimers(CaseKind kind, Severity severity, int64_t start_ns,
                       uint32_t after_level) const;
  // Everyone who may not decide the case: its requester, its opener (unless nhitrace) and the
  // requesters of its linked grant chains; with why, for the error message.
  Result<std::vector<std::pair<std::string, std::string>>> Requesters(const CaseView& v);
  // kPermissionDenied when `person` may not do `what` (a requester of the case), naming `rule`.
  Status CheckSod(const CaseView& v, const std::string& person, const std::string& what,
                  SodRule rule);
  // Records the violation and returns kPermissionDenied with `message`.
  Status SodRefusal(SodRule rule, const std::string& person, std::string message);
  Status CheckEventsExist(const std::vector<uint64_t>& seqs, const std::string& what);

  store::Store& store_;
  CaseProjection& projection_;
  CaseEventWriter& writer_;
  CaseEnv env_;
  std::optional<SodViolation> sod_violation_;
};

// A free-function form of CaseSession::OpenOrJoinForFinding for the reconcile module:
//   cases::OpenOrJoinForFinding(session, {finding_id, rule_id, severity, identity,
//                                         correlation_key, evidence_seqs});
Result<FindingCaseOutcome> OpenOrJoinForFinding(CaseSession& session, const FindingInput& f);

// Limits on what people type (bytes, UTF-8): names and titles, and free text.
inline constexpr size_t kMaxNameBytes = 1024;
inline constexpr size_t kMaxTextBytes = 65536;
inline constexpr size_t kMaxAttachmentBytes = size_t{64} << 20;

}  // namespace nhitrace::cases
