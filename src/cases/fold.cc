#include "cases/fold.h"

#include <string>

namespace nhitrace::cases {
namespace {

Status Misfit(const CaseOp& op, const std::string& why) {
  return FailedPreconditionError("case " + std::to_string(op.case_id) + " op " +
                                 std::to_string(op.op_seq) + " (" +
                                 std::string(OpTypeName(op.type)) + "): " + why);
}

void AddLink(CaseView& v, std::string type, std::string value, const Stamp& at) {
  if (v.has_link(type, value)) return;
  v.links.push_back({std::move(type), std::move(value), at});
}

void AddLinks(CaseView& v, const LinkSet& l, const Stamp& at) {
  for (const auto& x : l.identities) AddLink(v, "identity", x, at);
  for (uint64_t x : l.events) AddLink(v, "event", std::to_string(x), at);
  for (const auto& x : l.findings) AddLink(v, "finding", x, at);
  for (const auto& x : l.chains) AddLink(v, "chain", x, at);
  for (const auto& x : l.tickets) AddLink(v, "ticket", x, at);
}

// Installs a new timer plan: the dues of running SLA timers are replaced (a met or breached
// timer stays as it is: that is a fact on record), pending escalation steps are cancelled and
// the plan's steps added.
void ApplyPlan(CaseView& v, const TimerPlan& plan) {
  if (!v.respond.met && !v.respond.breached) v.respond.due_ns = plan.respond_due_ns;
  if (!v.resolve.met && !v.resolve.breached) v.resolve.due_ns = plan.resolve_due_ns;
  for (EscalationStep& s : v.escalation) {
    if (!s.fired) s.cancelled = true;
  }
  for (const PlannedStep& p : plan.escalation) {
    v.escalation.push_back({p.level, p.to, p.due_ns, std::nullopt, false});
  }
}

void EnterState(CaseView& v, CaseState s, const Stamp& at) {
  // A timer ends met or breached, never both: a late response stays a breach.
  if (v.state == CaseState::kOpen && s != CaseState::kOpen && !v.respond.met &&
      !v.respond.breached) {
    v.respond.met = at;
  }
  v.state = s;
  v.state_since_op = at.op;
  v.state_since_ns = at.time_ns;
}

void UpdateSupport(SupportField& f, const std::string& value, const Stamp& at) {
  if (value.empty()) return;
  f.value = value;
  f.at = at;
}

}  // namespace

Status ApplyCaseEvent(const event::Event& e, uint64_t seq, const CaseOp& op,
                      std::optional<CaseView>* view) {
  Stamp at;
  at.seq = seq;
  at.op = op.op_seq;
  at.time_ns = e.time_ns;
  if (e.actor) {
    at.actor = e.actor->id;
    at.actor_type = e.actor->type;
  }
  if (at.actor.empty()) return Misfit(op, "a case event must name its actor");

  if (op.type == OpType::kOpen) {
    if (view->has_value()) return Misfit(op, "the case is already open");
    if (op.op_seq != 1) return Misfit(op, "the open must be op 1");
    CaseView v;
    v.id = op.case_id;
    v.kind = *op.kind;
    v.severity = *op.severity;
    v.state = CaseState::kOpen;
    v.title = op.title;
    v.description = op.description;
    v.requester = op.requester;
    v.opened = at;
    v.opened_policy = e.policy;
    v.source_finding = op.finding;
    v.source_rule = op.rule;
    AddLinks(v, op.links, at);
    if (!op.finding.empty()) AddLink(v, "finding", op.finding, at);
    UpdateSupport(v.support.reporter, op.reporter, at);
    UpdateSupport(v.support.channel, op.channel, at);
    if (op.timers) ApplyPlan(v, *op.timers);
    v.state_since_op = 1;
    v.state_since_ns = at.time_ns;
    v.cycle_start_ns = at.time_ns;
    v.op_count = 1;
    v.updated_ns = at.time_ns;
    v.seqs.push_back(seq);
    *view = std::move(v);
    return OkStatus();
  }

  if (!view->has_value()) return Misfit(op, "no such case (its open is not on record)");
  CaseView& v = **view;
  if (op.op_seq != v.op_count + 1) {
    return Misfit(op, "expected op " + std::to_string(v.op_count + 1) + " next");
  }
  bool closed = v.state == CaseState::kClosed;

  switch (op.type) {
    case OpType::kOpen:
      break;  // handled above
    case OpType::kSet:
      if (op.severity) v.severity = *op.severity;
      if (!op.title.empty()) v.title = op.title;
      if (op.timers) ApplyPlan(v, *op.timers);
      break;
    case OpType::kAssign:
      v.owner = op.owner;
      break;
    case OpType::kTransition:
      if (*op.from != v.state) {
        return Misfit(op, "says the case was " + std::string(CaseStateName(*op.from)) +
                              ", but it is " + std::string(CaseStateName(v.state)));
      }
      if (*op.to == CaseState::kClosed || closed) {
        return Misfit(op, "closing and reopening are ops of their own");
      }
      EnterState(v, *op.to, at);
      break;
    case OpType::kComment:
      v.comments.push_back({at, op.text});
      break;
    case OpType::kTask:
      if (op.task_action == "add") {
        if (op.task_id != v.tasks.size() + 1) {
          return Misfit(op, "a new task must be task " + std::to_string(v.tasks.size() + 1));
        }
        Task t;
        t.id = op.task_id;
        t.title = op.task_title;
        t.owner = op.task_owner;
        t.due_ns = op.task_due_ns;
        t.created = at;
        t.updated = at;
        v.tasks.push_back(std::move(t));
      } else {
        if (op.task_id == 0 || op.task_id > v.tasks.size()) {
          return Misfit(op, "no task " + std::to_string(op.task_id));
        }
        Task& t = v.tasks[op.task_id - 1];
        t.status = op.task_action == "done"     ? "done"
                   : op.task_action == "cancel" ? "cancelled"
                                                : "open";
        if (!op.task_owner.empty()) t.owner = op.task_owner;
        if (op.task_due_ns) t.due_ns = op.task_due_ns;
        t.updated = at;
      }
      break;
    case OpType::kAttach: {
      if (op.attachment_id != v.attachments.size() + 1) {
        return Misfit(
            op, "a new attachment must be attachment " + std::to_string(v.attachments.size() + 1));
      }
      Attachment a;
      a.id = op.attachment_id;
      a.name = op.name;
      a.media_type = op.media_type;
      a.url = op.url;
      a.sha256_hex = op.sha256_hex;
      a.size = op.size;
      a.stored = op.stored;
      a.at = at;
      v.attachments.push_back(std::move(a));
      break;
    }
    case OpType::kLink:
    case OpType::kJoin:
      AddLinks(v, op.links, at);
      if (op.type == OpType::kJoin) AddLink(v, "finding", op.finding, at);
      break;
    case OpType::kDecide:
    case OpType::kExcept: {
      if (op.decision_id != v.decisions.size() + 1) {
        return Misfit(op,
                      "a new decision must be decision " + std::to_string(v.decisions.size() + 1));
      }
      if (closed) return Misfit(op, "the case is closed");
      Decision d;
      d.id = op.decision_id;
      d.outcome = *op.outcome;
      d.at = at;
      d.rationale = e.rationale;
      d.policy = e.policy;
      d.signal_events = op.signal_events;
      d.signal_findings = op.signal_findings;
      d.identity = op.subject_identity;
      d.correlation_key = op.subject_correlation_key;
      if (op.type == OpType::kExcept) {
        ExceptionTerms t;
        t.expires_ns = *op.expires_ns;
        t.review_ns = *op.review_ns;
        t.compensating_controls = op.compensating_controls;
        // A new exception replaces the ones before it.
        for (Decision& old : v.decisions) {
          if (old.exception && old.exception->status == "active") {
            old.exception->status = "superseded";
            old.status = "superseded";
          }
        }
        d.exception = std::move(t);
      }
      if (d.outcome == Outcome::kOverride) {
        if (op.overrides_decision) {
          const Decision* target = v.decision(*op.overrides_decision);
          if (target == nullptr || target->outcome != Outcome::kDeny) {
            return Misfit(op, "decision " + std::to_string(*op.overrides_decision) +
                                  " is not a deny of this case");
          }
        }
        d.overrides_decision = op.overrides_decision;
        d.overrides_event = op.overrides_event;
        d.automated_deny = op.automated_deny;
      }
      d.control_owner = op.control_owner;
      if (!d.control_owner.empty() && d.outcome == Outcome::kOverride) {
        d.status = "pending_risk_acceptance";
      } else if (d.outcome == Outcome::kOverride && d.overrides_decision) {
        v.decision(*d.overrides_decision)->status = "overridden";
      }
      v.decisions.push_back(std::move(d));
      break;
    }
    case OpType::kAcceptRisk: {
      Decision* d = v.decision(op.decision_id);
      if (d == nullptr) return Misfit(op, "no decision " + std::to_string(op.decision_id));
      if (d->control_owner.empty()) {
        return Misfit(op, "decision " + std::to_string(op.decision_id) +
                              " names no control owner to accept its risk");
      }
      if (d->risk) return Misfit(op, "the risk of this decision is already accepted");
      if (at.actor != d->control_owner) {
        return Misfit(op, "only the named control owner " + d->control_owner +
                              " may accept this risk, not " + at.actor);
      }
      d->risk = RiskAcceptance{at, e.rationale, op.until_ns};
      if (d->status == "pending_risk_acceptance") d->status = "effective";
      if (d->outcome == Outcome::kOverride && d->overrides_decision) {
        if (Decision* target = v.decision(*d->overrides_decision)) target->status = "overridden";
      }
      break;
    }
    case OpType::kVerify:
      v.verifications.push_back({at, op.result, op.text, op.evidence});
      break;
    case OpType::kSupport:
      UpdateSupport(v.support.reporter, op.reporter, at);
      UpdateSupport(v.support.channel, op.channel, at);
      UpdateSupport(v.support.affected_identity, op.affected_identity, at);
      UpdateSupport(v.support.entitlement_diff, op.entitlement_diff, at);
      UpdateSupport(v.support.approved_change, op.approved_change, at);
      UpdateSupport(v.support.remediation, op.remediation, at);
      if (!op.affected_identity.empty()) AddLink(v, "identity", op.affected_identity, at);
      if (!op.approved_change.empty()) AddLink(v, "ticket", op.approved_change, at);
      break;
    case OpType::kClose:
      if (closed) return Misfit(op, "the case is already closed");
      if (*op.from != v.state) {
        return Misfit(op, "says the case was " + std::string(CaseStateName(*op.from)) +
                              ", but it is " + std::string(CaseStateName(v.state)));
      }
      EnterState(v, CaseState::kClosed, at);
      v.closed = at;
      v.resolution = std::string(ResolutionName(*op.resolution));
      v.closure = op.criteria;
      if (!v.resolve.met && !v.resolve.breached) v.resolve.met = at;
      for (EscalationStep& s : v.escalation) {
        if (!s.fired) s.cancelled = true;
      }
      break;
    case OpType::kReopen:
      if (!closed) return Misfit(op, "only a closed case can be reopened");
      EnterState(v, CaseState::kOpen, at);
      v.closed.reset();
      v.resolution.clear();
      v.closure.clear();
      ++v.reopen_count;
      v.cycle_start_ns = at.time_ns;
      v.escalation_level = 0;
      v.escalated_to.clear();
      v.respond = SlaTimer{};
      v.resolve = SlaTimer{};
      if (op.timers) ApplyPlan(v, *op.timers);
      break;
    case OpType::kEscalate:
      if (closed) return Misfit(op, "the case is closed");
      if (op.cause == "sla") {
        bool found = false;
        for (EscalationStep& s : v.escalation) {
          if (s.level == op.level && !s.fired && !s.cancelled) {
            s.fired = at;
            found = true;
            break;
          }
        }
        if (!found) return Misfit(op, "no pending escalation step " + std::to_string(op.level));
      }
      v.escalation_level = op.level;
      v.escalated_to = op.owner;
      break;
    case OpType::kSlaBreach: {
      SlaTimer& t = op.timer == "respond" ? v.respond : v.resolve;
      if (t.met || t.breached) return Misfit(op, "the " + op.timer + " timer is not running");
      t.breached = at;
      break;
    }
    case OpType::kExceptionExpired: {
      Decision* d = v.decision(op.decision_id);
      if (d == nullptr || !d->exception || d->exception->status != "active") {
        return Misfit(op,
                      "decision " + std::to_string(op.decision_id) + " is not an active exception");
      }
      d->exception->status = "expired";
      d->exception->expired = at;
      d->exception->finding_id = op.finding;
      d->status = "expired";
      if (!op.finding.empty()) AddLink(v, "finding", op.finding, at);
      break;
    }
    case OpType::kReviewDue: {
      Decision* d = v.decision(op.decision_id);
      if (d == nullptr || !d->exception || d->exception->review_due) {
        return Misfit(op, "decision " + std::to_string(op.decision_id) +
                              " is not an exception awaiting its re-review");
      }
      d->exception->review_due = at;
      break;
    }
  }
  v.op_count = op.op_seq;
  v.updated_ns = at.time_ns;
  v.seqs.push_back(seq);
  return OkStatus();
}

}  // namespace nhitrace::cases
