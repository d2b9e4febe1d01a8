#include "cases/session.h"

#include <algorithm>

#include "base/encoding.h"
#include "base/utf8.h"
#include "cases/closure.h"
#include "correlate/derived_state.h"
#include "crypto/sha256.h"
#include "event/codec.h"

namespace nhitrace::cases {
namespace {

constexpr size_t kMaxTicksPerCase = 256;

std::string Ts(int64_t ns) { return FormatRfc3339Utc(ns, 0); }
std::string CaseName(uint64_t id) { return "case " + std::to_string(id); }

// A name, title or identifier: what the event codec accepts as an identifier.
Status CheckName(const std::string& field, const std::string& v, bool required) {
  if (v.empty()) {
    return required ? InvalidArgumentError(field + ": required") : OkStatus();
  }
  if (v.size() > kMaxNameBytes) {
    return InvalidArgumentError(field + ": longer than " + std::to_string(kMaxNameBytes) +
                                " bytes");
  }
  size_t bad = 0;
  if (!IsValidUtf8(v, &bad)) {
    return InvalidArgumentError(field + ": invalid UTF-8 at byte " + std::to_string(bad));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    auto c = static_cast<unsigned char>(v[i]);
    bool control =
        c < 0x20 || c == 0x7f ||
        (c == 0xc2 && i + 1 < v.size() && static_cast<unsigned char>(v[i + 1]) <= 0x9f) ||
        (c == 0xe2 && i + 2 < v.size() && static_cast<unsigned char>(v[i + 1]) == 0x80 &&
         (static_cast<unsigned char>(v[i + 2]) == 0xa8 ||
          static_cast<unsigned char>(v[i + 2]) == 0xa9));
    if (control) {
      return InvalidArgumentError(field + ": must not contain control characters or line breaks");
    }
  }
  if (v.front() == ' ' || v.back() == ' ') {
    return InvalidArgumentError(field + ": must not start or end with a space");
  }
  return OkStatus();
}

Status CheckText(const std::string& field, const std::string& v, bool required) {
  if (v.empty()) {
    return required ? InvalidArgumentError(field + ": required") : OkStatus();
  }
  if (v.size() > kMaxTextBytes) {
    return InvalidArgumentError(field + ": longer than " + std::to_string(kMaxTextBytes) +
                                " bytes");
  }
  size_t bad = 0;
  if (!IsValidUtf8(v, &bad)) {
    return InvalidArgumentError(field + ": invalid UTF-8 at byte " + std::to_string(bad));
  }
  return OkStatus();
}

Status CheckNames(const std::string& field, const std::vector<std::string>& v) {
  for (size_t i = 0; i < v.size(); ++i) {
    NHI_RETURN_IF_ERROR(CheckName(field + "[" + std::to_string(i) + "]", v[i], true));
  }
  return OkStatus();
}

Status CheckActor(const ActorRef& a) {
  NHI_RETURN_IF_ERROR(CheckName("actor", a.id, true));
  if (a.type != "human" && a.type != "nhi" && a.type != "system") {
    return InvalidArgumentError("actor type: must be human, nhi or system, not \"" + a.type + "\"");
  }
  if (a.id == kSystemActor && a.type != "system") {
    return InvalidArgumentError("actor: the name \"" + std::string(kSystemActor) +
                                "\" is reserved for nhitrace itself");
  }
  return OkStatus();
}

Status Closed(const CaseView& v, const std::string& what) {
  return FailedPreconditionError(CaseName(v.id) + " is closed; reopen it (case reopen) to " + what);
}

std::string StateList(const std::vector<CaseState>& states) {
  std::string out;
  for (size_t i = 0; i < states.size(); ++i) {
    if (i > 0) out += i + 1 == states.size() ? " or " : ", ";
    out += CaseStateName(states[i]);
  }
  return out.empty() ? "nowhere" : out;
}

ActorRef System() { return {kSystemActor, "system"}; }

bool Automated(const std::string& actor_type) {
  return actor_type == "system" || actor_type == "nhi" || actor_type.empty();
}

// Normalises a user-given SHA-256 (hex, any case) to lower case.
Result<std::string> NormalSha256(const std::string& hex) {
  std::string out = hex;
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (out.size() != 64 || out.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return InvalidArgumentError("sha256: must be 64 hex digits, got \"" + hex + "\"");
  }
  return out;
}

// The identity and request a decision is about: as given (which must be linked to the case), else
// the case's only linked one.
Status SetSubject(const CaseView& v, const std::string& identity, const std::string& ck,
                  CaseOp* op) {
  struct Part {
    const char* type;
    const char* flag;
    const std::string& given;
    std::string* out;
  } parts[] = {{"identity", "--identity", identity, &op->subject_identity},
               {"chain", "--chain", ck, &op->subject_correlation_key}};
  for (const Part& p : parts) {
    if (!p.given.empty()) {
      if (!v.has_link(p.type, p.given)) {
        return InvalidArgumentError(std::string(p.type) + " " + p.given + " is not linked to " +
                                    CaseName(v.id) + " (case link " + p.flag + ")");
      }
      *p.out = p.given;
    } else if (auto linked = v.links_of(p.type); linked.size() == 1) {
      *p.out = linked[0];
    }
  }
  return OkStatus();
}

}  // namespace

std::string_view SodRuleName(SodRule rule) {
  switch (rule) {
    case SodRule::kRequesterMayNotDecide:
      return "requester-may-not-decide";
    case SodRule::kControlOwnerIsNotTheOverrider:
      return "control-owner-is-not-the-overrider";
    case SodRule::kControlOwnerIsNotARequester:
      return "control-owner-is-not-a-requester";
    case SodRule::kOnlyTheNamedControlOwnerAccepts:
      return "only-the-named-control-owner-accepts";
    case SodRule::kControlOwnerRole:
      return "control-owner-role";
  }
  return "segregation-of-duties";
}

std::string_view FindingActionName(FindingCaseOutcome::Action a) {
  switch (a) {
    case FindingCaseOutcome::Action::kOpened:
      return "opened";
    case FindingCaseOutcome::Action::kJoined:
      return "joined";
    case FindingCaseOutcome::Action::kReopened:
      return "reopened";
    case FindingCaseOutcome::Action::kUnchanged:
      return "unchanged";
    case FindingCaseOutcome::Action::kNotOpened:
      return "not_opened";
  }
  return "?";
}

Result<uint64_t> BatchEventWriter::Append(const event::Event& e) {
  event::NativeRecord rec;
  rec.event = e;
  std::string raw = event::EncodeContent(e);
  NHI_ASSIGN_OR_RETURN(ledger::AppendOutcome o, batch_.Append(rec, raw));
  if (o.status != ledger::AppendStatus::kAccepted) {
    return AbortedError("case event " + e.source_event_id + " is already on record (seq " +
                        std::to_string(o.seq) + "): another writer changed the case; try again");
  }
  return o.seq;
}

CaseSession::CaseSession(store::Store& store, CaseProjection& projection, CaseEventWriter& writer,
                         CaseEnv env)
    : store_(store), projection_(projection), writer_(writer), env_(std::move(env)) {}

int64_t CaseSession::Now() const {
  int64_t ns = env_.clock->NowUnixNanos();
  return ns - ns % 1000;  // events carry microseconds
}

Result<CaseView> CaseSession::Get(uint64_t id) {
  NHI_ASSIGN_OR_RETURN(auto v, projection_.Load(id));
  if (!v) return NotFoundError("no case " + std::to_string(id));
  return std::move(*v);
}

Result<CaseView> CaseSession::Prepare(uint64_t id) {
  CaseView v;
  NHI_ASSIGN_OR_RETURN(auto ticked, TickCase(id, &v));
  (void)ticked;
  return v;
}

TimerPlan CaseSession::PlanTimers(CaseKind kind, Severity severity, int64_t start_ns,
                                  uint32_t after_level) const {
  const CasePolicy& p = env_.policy.cases;
  TimerPlan t;
  SlaDurations d = p.SlaFor(kind, severity);
  if (d.respond_ns) t.respond_due_ns = start_ns + *d.respond_ns;
  if (d.resolve_ns) t.resolve_due_ns = start_ns + *d.resolve_ns;
  std::vector<EscalationLevel> levels = p.EscalationFor(kind, severity);
  for (size_t i = 0; i < levels.size(); ++i) {
    auto level = static_cast<uint32_t>(i + 1);
    if (level <= after_level) continue;
    t.escalation.push_back({level, levels[i].to, start_ns + levels[i].after_ns});
  }
  return t;
}

Result<OpResult> CaseSession::Write(CaseOp op, const ActorRef& actor, const std::string& reason,
                                    bool with_policy) {
  NHI_RETURN_IF_ERROR(CheckActor(actor));
  int64_t now = Now();
  NHI_ASSIGN_OR_RETURN(event::Event e,
                       BuildCaseEvent(op, event::Actor{actor.id, actor.type}, now, reason,
                                      with_policy ? env_.policy.ref : std::nullopt));
  NHI_ASSIGN_OR_RETURN(uint64_t seq, writer_.Append(e));
  if (!projection_.last_rejection().empty()) {
    return InternalError("case event seq " + std::to_string(seq) +
                         " was not folded: " + projection_.last_rejection());
  }
  NHI_ASSIGN_OR_RETURN(CaseView v, Get(op.case_id));
  if (v.op_count != op.op_seq) {
    return InternalError("the case projection did not see case event seq " + std::to_string(seq));
  }
  OpResult r;
  r.case_id = op.case_id;
  r.op_seq = op.op_seq;
  r.seq = seq;
  r.type = op.type;
  r.time_ns = e.time_ns;
  r.actor = actor.id;
  r.op = std::move(op);
  r.view = std::move(v);
  return r;
}

Result<std::vector<std::pair<std::string, std::string>>> CaseSession::Requesters(
    const CaseView& v) {
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back(v.requester, "requested " + CaseName(v.id));
  if (v.opened.actor != v.requester && v.opened.actor_type != "system") {
    out.emplace_back(v.opened.actor, "opened " + CaseName(v.id));
  }
  for (const std::string& ck : v.links_of("chain")) {
    NHI_ASSIGN_OR_RETURN(correlate::GrantChain chain, correlate::LoadChain(store_, ck));
    if (!chain.requester.empty()) {
      out.emplace_back(chain.requester,
                       "requested grant " + ck + " (linked to " + CaseName(v.id) + ")");
    }
  }
  return out;
}

Status CaseSession::CheckSod(const CaseView& v, const std::string& person, const std::string& what,
                             SodRule rule) {
  if (!env_.policy.segregation_of_duties) return OkStatus();
  NHI_ASSIGN_OR_RETURN(auto requesters, Requesters(v));
  for (const auto& [who, why] : requesters) {
    if (who == person) {
      return SodRefusal(rule, person,
                        "segregation of duties: " + person + " " + why + " and may not " + what);
    }
  }
  return OkStatus();
}

Status CaseSession::SodRefusal(SodRule rule, const std::string& person, std::string message) {
  sod_violation_ = SodViolation{rule, person};
  return PermissionDeniedError(std::move(message));
}

Status CaseSession::CheckEventsExist(const std::vector<uint64_t>& seqs, const std::string& what) {
  if (seqs.empty()) return OkStatus();
  NHI_ASSIGN_OR_RETURN(uint64_t count, store_.EventCount());
  for (uint64_t s : seqs) {
    if (s >= count) {
      return InvalidArgumentError(what + ": event seq " + std::to_string(s) +
                                  " is not in the ledger (it holds " + std::to_string(count) +
                                  " events)");
    }
  }
  return OkStatus();
}

Result<std::vector<OpResult>> CaseSession::Tick() {
  std::vector<OpResult> out;
  int64_t now = Now();
  store::CaseQuery q;
  q.due_before = now;
  q.limit = 1000;
  for (;;) {
    NHI_ASSIGN_OR_RETURN(auto rows, store_.ListCases(q));
    for (const store::CaseRow& row : rows) {
      NHI_ASSIGN_OR_RETURN(auto ops, TickCase(row.id));
      for (auto& o : ops) out.push_back(std::move(o));
    }
    if (rows.size() < q.limit) break;
    q.after_id = rows.back().id;
  }
  return out;
}

Result<std::vector<OpResult>> CaseSession::TickCase(uint64_t id) { return TickCase(id, nullptr); }

Result<std::vector<OpResult>> CaseSession::TickCase(uint64_t id, CaseView* current) {
  std::vector<OpResult> out;
  int64_t now = Now();
  for (size_t round = 0; round < kMaxTicksPerCase; ++round) {
    NHI_ASSIGN_OR_RETURN(CaseView v, Get(id));
    // The earliest due timer; ties in the order below.
    enum class What { kNone, kRespond, kResolve, kEscalate, kReview, kExpiry };
    What what = What::kNone;
    int64_t at = 0;
    const EscalationStep* step = nullptr;
    const Decision* decision = nullptr;
    auto consider = [&](What w, int64_t due) {
      if (due > now) return false;
      if (what == What::kNone || due < at) {
        what = w;
        at = due;
        return true;
      }
      return false;
    };
    if (v.state != CaseState::kClosed) {
      if (v.respond.due_ns && !v.respond.met && !v.respond.breached) {
        consider(What::kRespond, *v.respond.due_ns);
      }
      if (v.resolve.due_ns && !v.resolve.met && !v.resolve.breached) {
        consider(What::kResolve, *v.resolve.due_ns);
      }
      for (const EscalationStep& s : v.escalation) {
        if (!s.fired && !s.cancelled && consider(What::kEscalate, s.due_ns)) step = &s;
      }
    }
    for (const Decision& d : v.decisions) {
      if (!d.exception || d.exception->status != "active") continue;
      if (!d.exception->review_due && d.exception->review_ns < d.exception->expires_ns &&
          consider(What::kReview, d.exception->review_ns)) {
        decision = &d;
      }
      if (consider(What::kExpiry, d.exception->expires_ns)) decision = &d;
    }
    if (what == What::kNone) {
      if (current != nullptr) *current = std::move(v);
      return out;
    }

    CaseOp op;
    op.case_id = id;
    op.op_seq = v.op_count + 1;
    std::string reason;
    switch (what) {
      case What::kNone:
        break;
      case What::kRespond:
      case What::kResolve:
        op.type = OpType::kSlaBreach;
        op.timer = what == What::kRespond ? "respond" : "resolve";
        op.due_ns = at;
        reason = "the " + op.timer + " SLA for a " + std::string(SeverityName(v.severity)) + " " +
                 std::string(CaseKindName(v.kind)) + " case ran out at " + Ts(at);
        break;
      case What::kEscalate:
        op.type = OpType::kEscalate;
        op.level = step->level;
        op.owner = step->to;
        op.cause = "sla";
        op.due_ns = at;
        reason = "escalation level " + std::to_string(step->level) + " to " + step->to +
                 " was due at " + Ts(at) + " and the case is not closed";
        break;
      case What::kReview:
        op.type = OpType::kReviewDue;
        op.decision_id = decision->id;
        op.due_ns = at;
        reason = "the exception of decision " + std::to_string(decision->id) +
                 " was due for re-review at " + Ts(at);
        break;
      case What::kExpiry: {
        op.type = OpType::kExceptionExpired;
        op.decision_id = decision->id;
        op.due_ns = at;
        reason =
            "the exception of decision " + std::to_string(decision->id) + " expired at " + Ts(at);
        if (env_.findings != nullptr) {
          ExpiredException x;
          x.case_id = id;
          x.decision_id = decision->id;
          x.decision_seq = decision->at.seq;
          x.expired_ns = at;
          x.now_ns = now;
          x.decided_by = decision->at.actor;
          x.policy = decision->policy;
          x.identities = v.links_of("identity");
          x.chains = v.links_of("chain");
          NHI_ASSIGN_OR_RETURN(op.finding, env_.findings->ExceptionExpired(x));
          // The sink may have changed the case (a finding joining it): take the next op then.
          NHI_ASSIGN_OR_RETURN(CaseView after, Get(id));
          op.op_seq = after.op_count + 1;
        }
        break;
      }
    }
    NHI_ASSIGN_OR_RETURN(OpResult r, Write(op, System(), reason, false));
    bool reopen = what == What::kExpiry && r.view.state == CaseState::kClosed;
    out.push_back(std::move(r));
    if (reopen) {
      CaseView cur = out.back().view;
      CaseOp ro;
      ro.type = OpType::kReopen;
      ro.case_id = id;
      ro.op_seq = cur.op_count + 1;
      ro.from = CaseState::kClosed;
      ro.cause = "exception_expired";
      ro.timers = PlanTimers(cur.kind, cur.severity, now, 0);
      NHI_ASSIGN_OR_RETURN(OpResult rr, Write(ro, System(),
                                              "the exception the case was closed under expired "
                                              "at " +
                                                  Ts(at) + "; the case reopens",
                                              true));
      out.push_back(std::move(rr));
    }
  }
  return InternalError(CaseName(id) + ": more than " + std::to_string(kMaxTicksPerCase) +
                       " timers due at once");
}

Result<OpResult> CaseSession::Open(const OpenArgs& a, const ActorRef& actor) {
  NHI_RETURN_IF_ERROR(CheckActor(actor));
  NHI_RETURN_IF_ERROR(CheckName("title", a.title, true));
  NHI_RETURN_IF_ERROR(CheckText("description", a.description, false));
  NHI_RETURN_IF_ERROR(CheckName("requester", a.requester, false));
  NHI_RETURN_IF_ERROR(CheckText("reason", a.reason, false));
  NHI_RETURN_IF_ERROR(CheckName("reporter", a.reporter, false));
  NHI_RETURN_IF_ERROR(CheckName("channel", a.channel, false));
  NHI_RETURN_IF_ERROR(CheckNames("identity", a.links.identities));
  NHI_RETURN_IF_ERROR(CheckNames("finding", a.links.findings));
  NHI_RETURN_IF_ERROR(CheckNames("chain", a.links.chains));
  NHI_RETURN_IF_ERROR(CheckNames("ticket", a.links.tickets));
  NHI_RETURN_IF_ERROR(CheckEventsExist(a.links.events, "link"));
  CaseOp op;
  op.type = OpType::kOpen;
  NHI_ASSIGN_OR_RETURN(op.case_id, projection_.NextCaseId());
  op.op_seq = 1;
  op.kind = a.kind;
  op.severity = a.severity;
  op.title = a.title;
  op.description = a.description;
  op.requester = a.requester.empty() ? actor.id : a.requester;
  op.links = a.links;
  op.reporter = a.reporter;
  op.channel = a.channel;
  op.timers = PlanTimers(a.kind, a.severity, Now(), 0);
  return Write(std::move(op), actor, a.reason, true);
}

Result<OpResult> CaseSession::Set(uint64_t id, std::optional<Severity> severity,
                                  const std::string& title, const ActorRef& actor,
                                  const std::string& reason) {
  NHI_RETURN_IF_ERROR(CheckName("title", title, false));
  NHI_RETURN_IF_ERROR(CheckText("reason", reason, true));
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  if (v.state == CaseState::kClosed) return Closed(v, "change it");
  CaseOp op;
  op.type = OpType::kSet;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  if (severity && *severity != v.severity) {
    op.severity = severity;
    op.timers = PlanTimers(v.kind, *severity, v.cycle_start_ns, v.escalation_level);
  }
  if (!title.empty() && title != v.title) op.title = title;
  if (!op.severity && op.title.empty()) {
    return InvalidArgumentError("nothing to change: give a new severity or title");
  }
  return Write(std::move(op), actor, reason, true);
}

Result<OpResult> CaseSession::Assign(uint64_t id, const std::string& owner, const ActorRef& actor,
                                     const std::string& reason) {
  NHI_RETURN_IF_ERROR(CheckName("owner", owner, true));
  NHI_RETURN_IF_ERROR(CheckText("reason", reason, false));
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  if (v.state == CaseState::kClosed) return Closed(v, "assign it");
  if (v.owner == owner) {
    return FailedPreconditionError(CaseName(id) + " is already assigned to " + owner);
  }
  CaseOp op;
  op.type = OpType::kAssign;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.owner = owner;
  return Write(std::move(op), actor, reason, false);
}

Result<OpResult> CaseSession::Transition(uint64_t id, CaseState to, const ActorRef& actor,
                                         const std::string& reason) {
  NHI_RETURN_IF_ERROR(CheckText("reason", reason, true));
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  if (v.state == CaseState::kClosed) return Closed(v, "move it");
  std::vector<CaseState> allowed = AllowedTransitions(v.state);
  std::string from(CaseStateName(v.state));
  if (to == CaseState::kClosed) {
    return FailedPreconditionError(CaseName(id) + " (" + from +
                                   ") closes with `case close`, which checks the closure "
                                   "criteria; a transition can move it to " +
                                   StateList(allowed));
  }
  if (std::find(allowed.begin(), allowed.end(), to) == allowed.end()) {
    return FailedPreconditionError(CaseName(id) + " cannot go from " + from + " to " +
                                   std::string(CaseStateName(to)) + "; from " + from +
                                   " it can go to " + StateList(allowed) +
                                   (MayCloseFrom(v.state) ? ", or be closed (case close)" : ""));
  }
  // Guards.
  if (to == CaseState::kInvestigating && v.owner.empty()) {
    return FailedPreconditionError(CaseName(id) +
                                   " needs an owner before it is investigated (case assign)");
  }
  if (v.state == CaseState::kAwaitingDecision &&
      (to == CaseState::kRemediating || to == CaseState::kVerifying)) {
    bool decided = std::any_of(v.decisions.begin(), v.decisions.end(),
                               [&](const Decision& d) { return d.at.op > v.state_since_op; });
    if (!decided) {
      return FailedPreconditionError(
          CaseName(id) +
          " is awaiting a decision: record one (case decide or case except) "
          "before it moves to " +
          std::string(CaseStateName(to)));
    }
  }
  if (to == CaseState::kRemediating &&
      std::none_of(v.decisions.begin(), v.decisions.end(),
                   [](const Decision& d) { return d.status == "effective"; })) {
    return FailedPreconditionError(CaseName(id) +
                                   " needs a decision in effect before remediation (case decide)");
  }
  CaseOp op;
  op.type = OpType::kTransition;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.from = v.state;
  op.to = to;
  return Write(std::move(op), actor, reason, false);
}

Result<OpResult> CaseSession::Comment(uint64_t id, const std::string& text, const ActorRef& actor) {
  NHI_RETURN_IF_ERROR(CheckText("text", text, true));
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  CaseOp op;
  op.type = OpType::kComment;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.text = text;
  return Write(std::move(op), actor, "", false);
}

Result<OpResult> CaseSession::AddTask(uint64_t id, const std::string& title,
                                      const std::string& owner, std::optional<int64_t> due_ns,
                                      const ActorRef& actor, const std::string& reason) {
  NHI_RETURN_IF_ERROR(CheckName("task title", title, true));
  NHI_RETURN_IF_ERROR(CheckName("task owner", owner, false));
  NHI_RETURN_IF_ERROR(CheckText("reason", reason, false));
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  if (v.state == CaseState::kClosed) return Closed(v, "add tasks");
  CaseOp op;
  op.type = OpType::kTask;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.task_id = static_cast<uint32_t>(v.tasks.size() + 1);
  op.task_action = "add";
  op.task_title = title;
  op.task_owner = owner;
  op.task_due_ns = due_ns;
  return Write(std::move(op), actor, reason, false);
}

Result<OpResult> CaseSession::UpdateTask(uint64_t id, uint32_t task, const std::string& action,
                                         const ActorRef& actor, const std::string& reason) {
  NHI_RETURN_IF_ERROR(CheckText("reason", reason, false));
  if (action != "done" && action != "cancel" && action != "reopen") {
    return InvalidArgumentError("task action: must be done, cancel or reopen, not \"" + action +
                                "\"");
  }
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  if (v.state == CaseState::kClosed) return Closed(v, "change its tasks");
  const Task* t = v.task(task);
  if (t == nullptr) {
    return NotFoundError(CaseName(id) + " has no task " + std::to_string(task) + " (it has " +
                         std::to_string(v.tasks.size()) + ")");
  }
  bool open = t->status == "open";
  if ((action == "reopen") == open) {
    return FailedPreconditionError("task " + std::to_string(task) + " of " + CaseName(id) + " is " +
                                   t->status + "; it cannot be " +
                                   (action == "done"     ? "done"
                                    : action == "cancel" ? "cancelled"
                                                         : "reopened") +
                                   " now");
  }
  CaseOp op;
  op.type = OpType::kTask;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.task_id = task;
  op.task_action = action;
  return Write(std::move(op), actor, reason, false);
}

Result<OpResult> CaseSession::Attach(uint64_t id, const AttachArgs& a, const ActorRef& actor) {
  NHI_RETURN_IF_ERROR(CheckName("name", a.name, true));
  NHI_RETURN_IF_ERROR(CheckName("media type", a.media_type, false));
  NHI_RETURN_IF_ERROR(CheckName("url", a.url, false));
  NHI_RETURN_IF_ERROR(CheckText("reason", a.reason, false));
  if (!a.url.empty() && a.url.find("://") == std::string::npos) {
    return InvalidArgumentError("url: must be an absolute URL (scheme://...), got \"" + a.url +
                                "\"");
  }
  CaseOp op;
  op.type = OpType::kAttach;
  op.name = a.name;
  op.media_type = a.media_type;
  op.url = a.url;
  std::string given;
  if (!a.sha256_hex.empty()) {
    NHI_ASSIGN_OR_RETURN(given, NormalSha256(a.sha256_hex));
  }
  std::string digest;
  if (a.bytes) {
    if (a.bytes->size() > kMaxAttachmentBytes) {
      return InvalidArgumentError("attachment: " + std::to_string(a.bytes->size()) +
                                  " bytes, more than the limit of " +
                                  std::to_string(kMaxAttachmentBytes));
    }
    crypto::Hash h = crypto::Sha256(*a.bytes);
    digest = std::string(crypto::AsBytes(h));
    op.sha256_hex = HexEncode(digest);
    if (!given.empty() && given != op.sha256_hex) {
      return InvalidArgumentError("sha256: the content hashes to " + op.sha256_hex +
                                  ", not the given " + given);
    }
    op.size = a.bytes->size();
    op.stored = true;
  } else {
    if (a.url.empty()) return InvalidArgumentError("attachment: give a file or a URL");
    if (given.empty()) {
      return InvalidArgumentError(
          "sha256: a URL attachment needs the SHA-256 of its content (nhitrace does not fetch "
          "URLs); give --sha256 or the content as a file");
    }
    op.sha256_hex = given;
  }
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.attachment_id = static_cast<uint32_t>(v.attachments.size() + 1);
  if (a.bytes) projection_.StageAttachment(digest, *a.bytes);
  return Write(std::move(op), actor, a.reason, false);
}

Result<OpResult> CaseSession::Link(uint64_t id, const LinkSet& links, const ActorRef& actor,
                                   const std::string& reason) {
  if (links.empty()) return InvalidArgumentError("link: nothing to link");
  NHI_RETURN_IF_ERROR(CheckNames("identity", links.identities));
  NHI_RETURN_IF_ERROR(CheckNames("finding", links.findings));
  NHI_RETURN_IF_ERROR(CheckNames("chain", links.chains));
  NHI_RETURN_IF_ERROR(CheckNames("ticket", links.tickets));
  NHI_RETURN_IF_ERROR(CheckText("reason", reason, false));
  NHI_RETURN_IF_ERROR(CheckEventsExist(links.events, "link"));
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  // Only what is new.
  LinkSet add;
  for (const auto& x : links.identities) {
    if (!v.has_link("identity", x)) add.identities.push_back(x);
  }
  for (uint64_t x : links.events) {
    if (!v.has_link("event", std::to_string(x))) add.events.push_back(x);
  }
  for (const auto& x : links.findings) {
    if (!v.has_link("finding", x)) add.findings.push_back(x);
  }
  for (const auto& x : links.chains) {
    if (!v.has_link("chain", x)) add.chains.push_back(x);
  }
  for (const auto& x : links.tickets) {
    if (!v.has_link("ticket", x)) add.tickets.push_back(x);
  }
  if (add.empty()) return FailedPreconditionError(CaseName(id) + " already links all of these");
  CaseOp op;
  op.type = OpType::kLink;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.links = std::move(add);
  return Write(std::move(op), actor, reason, false);
}

Result<OpResult> CaseSession::Decide(uint64_t id, const DecideArgs& a, const ActorRef& actor) {
  sod_violation_.reset();
  NHI_RETURN_IF_ERROR(CheckActor(actor));
  NHI_RETURN_IF_ERROR(CheckText("rationale", a.rationale, true));
  NHI_RETURN_IF_ERROR(CheckNames("signal finding", a.signal_findings));
  NHI_RETURN_IF_ERROR(CheckName("control owner", a.control_owner, false));
  if (a.outcome == Outcome::kException) {
    return InvalidArgumentError(
        "an exception is recorded with `case except`: it needs an expiry, a re-review date and "
        "compensating controls");
  }
  NHI_RETURN_IF_ERROR(CheckEventsExist(a.signal_events, "signal"));
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  if (v.state == CaseState::kClosed) return Closed(v, "decide it");
  if (env_.policy.cases.require_policy_for_decisions && !env_.policy.ref) {
    return FailedPreconditionError(
        "no policy is published, and the policy in force requires one for decisions "
        "(nhitrace policy publish)");
  }
  NHI_RETURN_IF_ERROR(CheckSod(v, actor.id, "decide it", SodRule::kRequesterMayNotDecide));

  CaseOp op;
  op.type = OpType::kDecide;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.decision_id = static_cast<uint32_t>(v.decisions.size() + 1);
  op.outcome = a.outcome;
  op.signal_events = a.signal_events;
  op.signal_findings = a.signal_findings;
  NHI_RETURN_IF_ERROR(SetSubject(v, a.identity, a.correlation_key, &op));

  if (a.outcome == Outcome::kOverride) {
    if (a.overrides_decision.has_value() == a.overrides_event.has_value()) {
      return InvalidArgumentError(
          "an override names exactly one deny it overrides: a decision of this case or a "
          "denial event in the ledger");
    }
    if (a.overrides_decision) {
      const Decision* d = v.decision(*a.overrides_decision);
      if (d == nullptr || d->outcome != Outcome::kDeny) {
        return InvalidArgumentError(CaseName(id) + " has no deny decision " +
                                    std::to_string(*a.overrides_decision) + " to override");
      }
      if (d->status != "effective") {
        return FailedPreconditionError("decision " + std::to_string(d->id) + " is " + d->status +
                                       "; only a deny in effect can be overridden");
      }
      op.overrides_decision = a.overrides_decision;
      op.automated_deny = Automated(d->at.actor_type);
    } else {
      NHI_ASSIGN_OR_RETURN(auto row, store_.GetEvent(*a.overrides_event));
      if (!row || row->kind != "denial") {
        return InvalidArgumentError("event seq " + std::to_string(*a.overrides_event) +
                                    " is not a denial in the ledger");
      }
      auto leaf = event::DecodeLeaf(row->leaf);
      if (!leaf.ok()) return leaf.status();
      op.overrides_event = a.overrides_event;
      op.automated_deny = !leaf->event.actor || Automated(leaf->event.actor->type);
    }
    if (op.automated_deny && a.control_owner.empty()) {
      return FailedPreconditionError(
          "an override of an automated deny needs a named control owner who accepts the "
          "residual risk (--control-owner); the acceptance is a separate event by that person");
    }
    if (env_.policy.override_requires_control_owner && a.control_owner.empty()) {
      return FailedPreconditionError(
          "the policy in force requires a named control owner who accepts the residual risk of "
          "every override (--control-owner)");
    }
  } else if (!a.control_owner.empty()) {
    return InvalidArgumentError("a control owner is named only for an override");
  } else if (a.overrides_decision || a.overrides_event) {
    return InvalidArgumentError("only an override names a deny to override");
  }
  if (!a.control_owner.empty()) {
    if (a.control_owner == actor.id) {
      return SodRefusal(SodRule::kControlOwnerIsNotTheOverrider, a.control_owner,
                        "segregation of duties: the control owner who accepts the residual risk "
                        "must be a different person from " +
                            actor.id + ", who overrides");
    }
    NHI_RETURN_IF_ERROR(CheckSod(v, a.control_owner, "accept the residual risk of its override",
                                 SodRule::kControlOwnerIsNotARequester));
    if (!env_.policy.control_owners.empty() && !env_.policy.IsControlOwner(a.control_owner)) {
      return SodRefusal(SodRule::kControlOwnerRole, a.control_owner,
                        a.control_owner + " is not a control owner under the policy in force");
    }
    op.control_owner = a.control_owner;
  }
  if (a.outcome == Outcome::kAcceptRisk && !env_.policy.control_owners.empty() &&
      !env_.policy.IsControlOwner(actor.id)) {
    return SodRefusal(SodRule::kControlOwnerRole, actor.id,
                      actor.id +
                          " is not a control owner under the policy in force and may not "
                          "accept risk");
  }
  return Write(std::move(op), actor, a.rationale, true);
}

Result<OpResult> CaseSession::Except(uint64_t id, const ExceptArgs& a, const ActorRef& actor) {
  sod_violation_.reset();
  NHI_RETURN_IF_ERROR(CheckActor(actor));
  NHI_RETURN_IF_ERROR(CheckText("justification", a.justification, true));
  if (a.compensating_controls.empty()) {
    return InvalidArgumentError("an exception needs at least one compensating control");
  }
  NHI_RETURN_IF_ERROR(CheckNames("compensating control", a.compensating_controls));
  NHI_RETURN_IF_ERROR(CheckNames("signal finding", a.signal_findings));
  NHI_RETURN_IF_ERROR(CheckEventsExist(a.signal_events, "signal"));
  int64_t now = Now();
  if (a.expires_ns <= now) {
    return InvalidArgumentError("expires: " + Ts(a.expires_ns) + " is not in the future (now " +
                                Ts(now) + ")");
  }
  if (a.review_ns <= now || a.review_ns > a.expires_ns) {
    return InvalidArgumentError("review_by: must be after now and no later than the expiry " +
                                Ts(a.expires_ns));
  }
  const CasePolicy& p = env_.policy.cases;
  if (p.exception_max_ns > 0 && a.expires_ns - now > p.exception_max_ns) {
    return InvalidArgumentError("expires: the policy allows exceptions of at most " +
                                FormatDuration(p.exception_max_ns) + " (until " +
                                Ts(now + p.exception_max_ns) + ")");
  }
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  if (v.state == CaseState::kClosed) return Closed(v, "grant an exception");
  if (p.require_policy_for_decisions && !env_.policy.ref) {
    return FailedPreconditionError(
        "no policy is published, and the policy in force requires one for decisions");
  }
  NHI_RETURN_IF_ERROR(
      CheckSod(v, actor.id, "grant it an exception", SodRule::kRequesterMayNotDecide));
  CaseOp op;
  op.type = OpType::kExcept;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.decision_id = static_cast<uint32_t>(v.decisions.size() + 1);
  op.outcome = Outcome::kException;
  op.expires_ns = a.expires_ns;
  op.review_ns = a.review_ns;
  op.compensating_controls = a.compensating_controls;
  op.signal_events = a.signal_events;
  op.signal_findings = a.signal_findings;
  NHI_RETURN_IF_ERROR(SetSubject(v, a.identity, a.correlation_key, &op));
  return Write(std::move(op), actor, a.justification, true);
}

Result<OpResult> CaseSession::AcceptRisk(uint64_t id, uint32_t decision,
                                         const std::string& rationale,
                                         std::optional<int64_t> until_ns, const ActorRef& actor) {
  sod_violation_.reset();
  NHI_RETURN_IF_ERROR(CheckActor(actor));
  NHI_RETURN_IF_ERROR(CheckText("rationale", rationale, true));
  if (until_ns && *until_ns <= Now()) {
    return InvalidArgumentError("until: " + Ts(*until_ns) + " is not in the future");
  }
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  if (v.state == CaseState::kClosed) return Closed(v, "accept risk on it");
  const Decision* d = v.decision(decision);
  if (d == nullptr) {
    return NotFoundError(CaseName(id) + " has no decision " + std::to_string(decision));
  }
  if (d->control_owner.empty()) {
    return FailedPreconditionError("decision " + std::to_string(decision) + " (" +
                                   std::string(OutcomeName(d->outcome)) +
                                   ") names no control owner; there is no risk acceptance to make");
  }
  if (d->risk) {
    return FailedPreconditionError("the residual risk of decision " + std::to_string(decision) +
                                   " was accepted by " + d->risk->at.actor + " at " +
                                   Ts(d->risk->at.time_ns));
  }
  if (actor.id != d->control_owner) {
    return SodRefusal(SodRule::kOnlyTheNamedControlOwnerAccepts, actor.id,
                      "only " + d->control_owner + ", the control owner named by decision " +
                          std::to_string(decision) + ", may accept its residual risk, not " +
                          actor.id);
  }
  if (actor.id == d->at.actor) {
    return SodRefusal(SodRule::kControlOwnerIsNotTheOverrider, actor.id,
                      "segregation of duties: " + actor.id +
                          " decided the override and may not also accept its residual risk");
  }
  NHI_RETURN_IF_ERROR(CheckSod(v, actor.id, "accept the residual risk of its override",
                               SodRule::kControlOwnerIsNotARequester));
  CaseOp op;
  op.type = OpType::kAcceptRisk;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.decision_id = decision;
  op.until_ns = until_ns;
  return Write(std::move(op), actor, rationale, true);
}

Result<OpResult> CaseSession::Verify(uint64_t id, const std::string& result,
                                     const std::string& note, const std::vector<uint64_t>& evidence,
                                     const ActorRef& actor) {
  if (result != "passed" && result != "failed") {
    return InvalidArgumentError("result: must be passed or failed, not \"" + result + "\"");
  }
  NHI_RETURN_IF_ERROR(CheckText("note", note, false));
  NHI_RETURN_IF_ERROR(CheckEventsExist(evidence, "evidence"));
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  if (v.state == CaseState::kClosed) return Closed(v, "verify it");
  CaseOp op;
  op.type = OpType::kVerify;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.result = result;
  op.text = note;
  op.evidence = evidence;
  return Write(std::move(op), actor, note, false);
}

Result<OpResult> CaseSession::Support(uint64_t id, const SupportArgs& a, const ActorRef& actor) {
  NHI_RETURN_IF_ERROR(CheckName("reporter", a.reporter, false));
  NHI_RETURN_IF_ERROR(CheckName("channel", a.channel, false));
  NHI_RETURN_IF_ERROR(CheckName("affected identity", a.affected_identity, false));
  NHI_RETURN_IF_ERROR(CheckText("entitlement diff", a.entitlement_diff, false));
  NHI_RETURN_IF_ERROR(CheckName("approved change", a.approved_change, false));
  NHI_RETURN_IF_ERROR(CheckText("remediation", a.remediation, false));
  NHI_RETURN_IF_ERROR(CheckText("reason", a.reason, false));
  if (a.reporter.empty() && a.channel.empty() && a.affected_identity.empty() &&
      a.entitlement_diff.empty() && a.approved_change.empty() && a.remediation.empty()) {
    return InvalidArgumentError("support: nothing to record");
  }
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  if (v.state == CaseState::kClosed) return Closed(v, "add to its support trail");
  CaseOp op;
  op.type = OpType::kSupport;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.reporter = a.reporter;
  op.channel = a.channel;
  op.affected_identity = a.affected_identity;
  op.entitlement_diff = a.entitlement_diff;
  op.approved_change = a.approved_change;
  op.remediation = a.remediation;
  return Write(std::move(op), actor, a.reason, false);
}

Result<std::vector<CriterionResult>> CaseSession::CheckClosure(uint64_t id, Resolution resolution) {
  NHI_ASSIGN_OR_RETURN(CaseView v, Get(id));
  const CasePolicy& p = env_.policy.cases;
  return EvaluateClosure(store_, v, ClosureCriteriaFor(p, v, resolution), p, Now());
}

Result<OpResult> CaseSession::Close(uint64_t id, Resolution resolution, const std::string& reason,
                                    const ActorRef& actor) {
  NHI_RETURN_IF_ERROR(CheckText("reason", reason, true));
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  if (v.state == CaseState::kClosed) {
    return FailedPreconditionError(CaseName(id) + " is already closed (" + v.resolution + ")");
  }
  if (!MayCloseFrom(v.state)) {
    std::vector<CaseState> from;
    for (CaseState s : kAllCaseStates) {
      if (MayCloseFrom(s)) from.push_back(s);
    }
    return FailedPreconditionError(CaseName(id) + " is " + std::string(CaseStateName(v.state)) +
                                   "; a case closes from " + StateList(from) + " (from " +
                                   std::string(CaseStateName(v.state)) + " it can go to " +
                                   StateList(AllowedTransitions(v.state)) + ")");
  }
  const CasePolicy& p = env_.policy.cases;
  NHI_ASSIGN_OR_RETURN(auto results,
                       EvaluateClosure(store_, v, ClosureCriteriaFor(p, v, resolution), p, Now()));
  std::string missing;
  size_t n_missing = 0;
  for (const CriterionResult& c : results) {
    if (c.met) continue;
    ++n_missing;
    missing += "\n  " + c.id + ": " + c.detail;
  }
  if (n_missing > 0) {
    std::string policy = env_.policy.ref ? " (policy " + env_.policy.ref->id + " version " +
                                               env_.policy.ref->version + ")"
                                         : " (built-in defaults: no policy is published)";
    return FailedPreconditionError(
        CaseName(id) + " cannot close as " + std::string(ResolutionName(resolution)) + ": " +
        std::to_string(n_missing) + " of " + std::to_string(results.size()) +
        " closure criteria not met" + policy + ":" + missing);
  }
  CaseOp op;
  op.type = OpType::kClose;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.from = v.state;
  op.resolution = resolution;
  op.criteria = std::move(results);
  return Write(std::move(op), actor, reason, true);
}

Result<OpResult> CaseSession::Reopen(uint64_t id, const std::string& reason,
                                     const ActorRef& actor) {
  NHI_RETURN_IF_ERROR(CheckText("reason", reason, true));
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  if (v.state != CaseState::kClosed) {
    return FailedPreconditionError(CaseName(id) + " is " + std::string(CaseStateName(v.state)) +
                                   ", not closed; only a closed case can be reopened");
  }
  CaseOp op;
  op.type = OpType::kReopen;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.from = CaseState::kClosed;
  op.cause = "manual";
  op.timers = PlanTimers(v.kind, v.severity, Now(), 0);
  return Write(std::move(op), actor, reason, true);
}

Result<OpResult> CaseSession::Escalate(uint64_t id, const std::string& to,
                                       const std::string& reason, const ActorRef& actor) {
  NHI_RETURN_IF_ERROR(CheckName("to", to, true));
  NHI_RETURN_IF_ERROR(CheckText("reason", reason, true));
  NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
  if (v.state == CaseState::kClosed) return Closed(v, "escalate it");
  CaseOp op;
  op.type = OpType::kEscalate;
  op.case_id = id;
  op.op_seq = v.op_count + 1;
  op.level = v.escalation_level + 1;
  op.owner = to;
  op.cause = "manual";
  return Write(std::move(op), actor, reason, false);
}

Result<FindingCaseOutcome> CaseSession::OpenOrJoinForFinding(const FindingInput& f) {
  NHI_RETURN_IF_ERROR(CheckName("finding id", f.finding_id, true));
  NHI_RETURN_IF_ERROR(CheckName("rule id", f.rule_id, true));
  NHI_RETURN_IF_ERROR(CheckName("identity", f.identity, false));
  NHI_RETURN_IF_ERROR(CheckName("correlation key", f.correlation_key, false));
  NHI_RETURN_IF_ERROR(CheckName("title", f.title, false));
  auto severity = ParseSeverity(f.severity);
  if (!severity) {
    return InvalidArgumentError("severity: must be " + NameList(kAllSeverities, SeverityName) +
                                ", not \"" + f.severity + "\"");
  }
  NHI_RETURN_IF_ERROR(CheckEventsExist(f.evidence_seqs, "finding evidence"));
  const CasePolicy& p = env_.policy.cases;
  FindingCaseOutcome out;

  // The links a finding brings to a case, less those it already has.
  auto news = [&](const CaseView& v) {
    LinkSet l;
    if (!f.identity.empty() && !v.has_link("identity", f.identity)) {
      l.identities.push_back(f.identity);
    }
    if (!f.correlation_key.empty() && !v.has_link("chain", f.correlation_key)) {
      l.chains.push_back(f.correlation_key);
    }
    for (uint64_t s : f.evidence_seqs) {
      if (!v.has_link("event", std::to_string(s))) l.events.push_back(s);
    }
    return l;
  };
  auto join = [&](const CaseView& v, const LinkSet& l) -> Result<OpResult> {
    CaseOp op;
    op.type = OpType::kJoin;
    op.case_id = v.id;
    op.op_seq = v.op_count + 1;
    op.finding = f.finding_id;
    op.rule = f.rule_id;
    op.severity = severity;
    op.links = l;
    return Write(
        std::move(op), System(),
        "finding " + f.finding_id + " (rule " + f.rule_id + ") " +
            (v.has_link("finding", f.finding_id) ? "has new evidence" : "joins the open case"),
        true);
  };

  // 1. The finding's own case.
  NHI_ASSIGN_OR_RETURN(auto own, store_.FindCasesByLink("finding", f.finding_id));
  if (!own.empty()) {
    // The most recent case of the finding.
    uint64_t id = own.back();
    NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
    out.case_id = id;
    LinkSet l = news(v);
    if (l.empty()) {
      out.action = FindingCaseOutcome::Action::kUnchanged;
      out.reason =
          "finding " + f.finding_id + " is already on " + CaseName(id) + " with all its evidence";
      return out;
    }
    if (v.state == CaseState::kClosed) {
      CaseOp ro;
      ro.type = OpType::kReopen;
      ro.case_id = id;
      ro.op_seq = v.op_count + 1;
      ro.from = CaseState::kClosed;
      ro.cause = "finding";
      ro.timers = PlanTimers(v.kind, v.severity, Now(), 0);
      NHI_ASSIGN_OR_RETURN(
          OpResult r,
          Write(ro, System(), "finding " + f.finding_id + " has new evidence after the case closed",
                true));
      v = r.view;
      out.ops.push_back(std::move(r));
      out.action = FindingCaseOutcome::Action::kReopened;
    } else {
      out.action = FindingCaseOutcome::Action::kJoined;
    }
    NHI_ASSIGN_OR_RETURN(OpResult j, join(v, l));
    out.ops.push_back(std::move(j));
    return out;
  }

  // 2. An open case of the same identity or grant, as the policy says.
  std::vector<std::pair<std::string, std::string>> keys;
  bool by_identity =
      p.join_on == JoinOn::kIdentity || p.join_on == JoinOn::kIdentityOrCorrelationKey;
  bool by_chain =
      p.join_on == JoinOn::kCorrelationKey || p.join_on == JoinOn::kIdentityOrCorrelationKey;
  if (by_identity && !f.identity.empty()) keys.emplace_back("identity", f.identity);
  if (by_chain && !f.correlation_key.empty()) keys.emplace_back("chain", f.correlation_key);
  for (const auto& [type, value] : keys) {
    NHI_ASSIGN_OR_RETURN(auto ids, store_.FindCasesByLink(type, value));
    for (uint64_t id : ids) {
      NHI_ASSIGN_OR_RETURN(auto row, store_.GetCase(id));
      if (!row || row->state == "closed") continue;
      NHI_ASSIGN_OR_RETURN(CaseView v, Prepare(id));
      if (v.state == CaseState::kClosed) continue;  // closed by a timer just now
      out.case_id = id;
      out.action = FindingCaseOutcome::Action::kJoined;
      NHI_ASSIGN_OR_RETURN(OpResult j, join(v, news(v)));
      out.ops.push_back(std::move(j));
      return out;
    }
  }

  // 3. A new case, if the policy says so.
  FindingRule rule;
  if (auto it = p.finding_rules.find(f.rule_id); it != p.finding_rules.end()) rule = it->second;
  Severity case_severity = rule.severity.value_or(*severity);
  if (rule.open && !*rule.open) {
    out.reason = "the policy opens no case for rule " + f.rule_id;
    return out;
  }
  if (!rule.open && case_severity < p.open_min_severity) {
    out.reason = "severity " + std::string(SeverityName(case_severity)) +
                 " is below the policy's open_min_severity " +
                 std::string(SeverityName(p.open_min_severity));
    return out;
  }
  OpenArgs a;
  a.kind = rule.kind.value_or(p.finding_case_kind);
  a.severity = case_severity;
  std::string subject = !f.identity.empty() ? f.identity : f.correlation_key;
  a.title =
      !f.title.empty() ? f.title : f.rule_id + (subject.empty() ? std::string() : " on " + subject);
  if (a.title.size() > kMaxNameBytes) a.title = f.rule_id;
  a.requester = kSystemActor;
  if (!f.identity.empty()) a.links.identities.push_back(f.identity);
  if (!f.correlation_key.empty()) a.links.chains.push_back(f.correlation_key);
  a.links.events = f.evidence_seqs;
  a.reason = "finding " + f.finding_id + " of rule " + f.rule_id + " opens a case";
  CaseOp op;
  op.type = OpType::kOpen;
  NHI_ASSIGN_OR_RETURN(op.case_id, projection_.NextCaseId());
  op.op_seq = 1;
  op.kind = a.kind;
  op.severity = a.severity;
  op.title = a.title;
  op.requester = a.requester;
  op.links = a.links;
  op.finding = f.finding_id;
  op.rule = f.rule_id;
  op.timers = PlanTimers(a.kind, a.severity, Now(), 0);
  NHI_ASSIGN_OR_RETURN(OpResult r, Write(std::move(op), System(), a.reason, true));
  out.case_id = r.case_id;
  out.action = FindingCaseOutcome::Action::kOpened;
  out.ops.push_back(std::move(r));
  return out;
}

Result<FindingCaseOutcome> OpenOrJoinForFinding(CaseSession& session, const FindingInput& f) {
  return session.OpenOrJoinForFinding(f);
}

}  // namespace nhitrace::cases
