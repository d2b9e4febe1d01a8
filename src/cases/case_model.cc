#include "cases/case_model.h"

#include <algorithm>

#include "base/time.h"
#include "json/writer.h"

namespace nhitrace::cases {
namespace {

template <typename E, size_t N>
std::optional<E> ParseName(const E (&all)[N], std::string_view (*name)(E), std::string_view s) {
  for (E e : all) {
    if (name(e) == s) return e;
  }
  return std::nullopt;
}

}  // namespace

std::string_view CaseKindName(CaseKind k) {
  switch (k) {
    case CaseKind::kAlert:
      return "alert";
    case CaseKind::kFinding:
      return "finding";
    case CaseKind::kAccessReview:
      return "access_review";
    case CaseKind::kException:
      return "exception";
    case CaseKind::kSupport:
      return "support";
    case CaseKind::kOffboarding:
      return "offboarding";
    case CaseKind::kIncident:
      return "incident";
  }
  return "?";
}

std::string_view CaseStateName(CaseState s) {
  switch (s) {
    case CaseState::kOpen:
      return "open";
    case CaseState::kTriage:
      return "triage";
    case CaseState::kInvestigating:
      return "investigating";
    case CaseState::kEscalated:
      return "escalated";
    case CaseState::kAwaitingDecision:
      return "awaiting_decision";
    case CaseState::kRemediating:
      return "remediating";
    case CaseState::kVerifying:
      return "verifying";
    case CaseState::kClosed:
      return "closed";
  }
  return "?";
}

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "?";
}

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kApprove:
      return "approve";
    case Outcome::kDeny:
      return "deny";
    case Outcome::kException:
      return "exception";
    case Outcome::kOverride:
      return "override";
    case Outcome::kRevoke:
      return "revoke";
    case Outcome::kRotate:
      return "rotate";
    case Outcome::kAcceptRisk:
      return "accept_risk";
  }
  return "?";
}

std::string_view ResolutionName(Resolution r) {
  switch (r) {
    case Resolution::kResolved:
      return "resolved";
    case Resolution::kFalsePositive:
      return "false_positive";
    case Resolution::kDuplicate:
      return "duplicate";
    case Resolution::kRiskAccepted:
      return "risk_accepted";
    case Resolution::kExceptionGranted:
      return "exception_granted";
  }
  return "?";
}

std::optional<CaseKind> ParseCaseKind(std::string_view s) {
  return ParseName(kAllCaseKinds, CaseKindName, s);
}
std::optional<CaseState> ParseCaseState(std::string_view s) {
  return ParseName(kAllCaseStates, CaseStateName, s);
}
std::optional<Severity> ParseSeverity(std::string_view s) {
  return ParseName(kAllSeverities, SeverityName, s);
}
std::optional<Outcome> ParseOutcome(std::string_view s) {
  return ParseName(kAllOutcomes, OutcomeName, s);
}
std::optional<Resolution> ParseResolution(std::string_view s) {
  return ParseName(kAllResolutions, ResolutionName, s);
}

std::vector<CaseState> AllowedTransitions(CaseState from) {
  using S = CaseState;
  switch (from) {
    case S::kOpen:
      return {S::kTriage, S::kInvestigating, S::kEscalated, S::kAwaitingDecision};
    case S::kTriage:
      return {S::kInvestigating, S::kEscalated, S::kAwaitingDecision, S::kRemediating};
    case S::kInvestigating:
      return {S::kEscalated, S::kAwaitingDecision, S::kRemediating, S::kVerifying};
    case S::kEscalated:
      return {S::kInvestigating, S::kAwaitingDecision, S::kRemediating};
    case S::kAwaitingDecision:
      return {S::kInvestigating, S::kEscalated, S::kRemediating, S::kVerifying};
    case S::kRemediating:
      return {S::kInvestigating, S::kEscalated, S::kVerifying};
    case S::kVerifying:
      return {S::kInvestigating, S::kRemediating};
    case S::kClosed:
      return {};
  }
  return {};
}

bool MayCloseFrom(CaseState s) {
  return s == CaseState::kOpen || s == CaseState::kTriage || s == CaseState::kInvestigating ||
         s == CaseState::kAwaitingDecision || s == CaseState::kVerifying;
}

bool CaseView::has_link(std::string_view type, std::string_view value) const {
  for (const Link& l : links) {
    if (l.type == type && l.value == value) return true;
  }
  return false;
}

std::vector<std::string> CaseView::links_of(std::string_view type) const {
  std::vector<std::string> out;
  for (const Link& l : links) {
    if (l.type == type) out.push_back(l.value);
  }
  return out;
}

const Decision* CaseView::decision(uint32_t decision_id) const {
  for (const Decision& d : decisions) {
    if (d.id == decision_id) return &d;
  }
  return nullptr;
}

Decision* CaseView::decision(uint32_t decision_id) {
  for (Decision& d : decisions) {
    if (d.id == decision_id) return &d;
  }
  return nullptr;
}

const Task* CaseView::task(uint32_t task_id) const {
  for (const Task& t : tasks) {
    if (t.id == task_id) return &t;
  }
  return nullptr;
}

std::optional<int64_t> NextDue(const CaseView& v) {
  std::optional<int64_t> best;
  auto consider = [&](int64_t t) {
    if (!best || t < *best) best = t;
  };
  bool closed = v.state == CaseState::kClosed;
  if (!closed) {
    if (v.respond.due_ns && !v.respond.met && !v.respond.breached) consider(*v.respond.due_ns);
    if (v.resolve.due_ns && !v.resolve.met && !v.resolve.breached) consider(*v.resolve.due_ns);
    for (const EscalationStep& s : v.escalation) {
      if (!s.fired && !s.cancelled) consider(s.due_ns);
    }
  }
  // Exceptions run out whether or not the case is closed: that is what reopens it.
  for (const Decision& d : v.decisions) {
    if (!d.exception || d.exception->status != "active") continue;
    consider(d.exception->expires_ns);
    if (!d.exception->review_due && d.exception->review_ns < d.exception->expires_ns) {
      consider(d.exception->review_ns);
    }
  }
  return best;
}

namespace {

void Time(json::JsonWriter& w, std::string_view key, int64_t ns) {
  w.Key(key).String(FormatRfc3339Utc(ns, 6));
}

void OptTime(json::JsonWriter& w, std::string_view key, const std::optional<int64_t>& ns) {
  w.Key(key);
  if (ns) {
    w.String(FormatRfc3339Utc(*ns, 6));
  } else {
    w.Null();
  }
}

void WriteStamp(json::JsonWriter& w, const Stamp& s) {
  w.BeginObject();
  w.Key("seq").Uint(s.seq);
  w.Key("op").Uint(s.op);
  Time(w, "time", s.time_ns);
  w.Key("actor").String(s.actor);
  w.Key("actor_type").String(s.actor_type);
  w.EndObject();
}

void OptStamp(json::JsonWriter& w, std::string_view key, const std::optional<Stamp>& s) {
  w.Key(key);
  if (s) {
    WriteStamp(w, *s);
  } else {
    w.Null();
  }
}

void Strings(json::JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
  w.Key(key).BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
}

void Seqs(json::JsonWriter& w, std::string_view key, const std::vector<uint64_t>& v) {
  w.Key(key).BeginArray();
  for (uint64_t s : v) w.Uint(s);
  w.EndArray();
}

void WritePolicy(json::JsonWriter& w, const std::optional<event::PolicyRef>& p) {
  w.Key("policy");
  if (!p) {
    w.Null();
    return;
  }
  w.BeginObject();
  w.Key("id").String(p->id);
  w.Key("version").String(p->version);
  w.Key("hash").String(p->hash);
  w.EndObject();
}

void WriteSla(json::JsonWriter& w, std::string_view key, const SlaTimer& t) {
  w.Key(key).BeginObject();
  OptTime(w, "due", t.due_ns);
  OptStamp(w, "met", t.met);
  OptStamp(w, "breached", t.breached);
  w.EndObject();
}

void WriteSupportField(json::JsonWriter& w, std::string_view key, const SupportField& f) {
  w.Key(key);
  if (f.value.empty()) {
    w.Null();
    return;
  }
  w.BeginObject();
  w.Key("value").String(f.value);
  w.Key("at");
  WriteStamp(w, f.at);
  w.EndObject();
}

}  // namespace

std::string CaseViewToJson(const CaseView& v) {
  json::JsonWriter w;
  w.BeginObject();
  w.Key("id").Uint(v.id);
  w.Key("kind").String(CaseKindName(v.kind));
  w.Key("state").String(CaseStateName(v.state));
  w.Key("severity").String(SeverityName(v.severity));
  w.Key("title").String(v.title);
  w.Key("description").String(v.description);
  w.Key("requester").String(v.requester);
  w.Key("owner").String(v.owner);
  w.Key("opened");
  WriteStamp(w, v.opened);
  WritePolicy(w, v.opened_policy);
  w.Key("source").BeginObject();
  w.Key("finding").String(v.source_finding);
  w.Key("rule").String(v.source_rule);
  w.EndObject();
  Time(w, "cycle_start", v.cycle_start_ns);
  w.Key("state_since");
  w.BeginObject();
  w.Key("op").Uint(v.state_since_op);
  Time(w, "time", v.state_since_ns);
  w.EndObject();
  OptStamp(w, "closed", v.closed);
  w.Key("resolution").String(v.resolution);
  w.Key("reopen_count").Uint(v.reopen_count);

  w.Key("links").BeginArray();
  for (const Link& l : v.links) {
    w.BeginObject();
    w.Key("type").String(l.type);
    w.Key("value").String(l.value);
    w.Key("at");
    WriteStamp(w, l.at);
    w.EndObject();
  }
  w.EndArray();

  w.Key("tasks").BeginArray();
  for (const Task& t : v.tasks) {
    w.BeginObject();
    w.Key("id").Uint(t.id);
    w.Key("title").String(t.title);
    w.Key("owner").String(t.owner);
    OptTime(w, "due", t.due_ns);
    w.Key("status").String(t.status);
    w.Key("created");
    WriteStamp(w, t.created);
    w.Key("updated");
    WriteStamp(w, t.updated);
    w.EndObject();
  }
  w.EndArray();

  w.Key("comments").BeginArray();
  for (const Comment& c : v.comments) {
    w.BeginObject();
    w.Key("at");
    WriteStamp(w, c.at);
    w.Key("text").String(c.text);
    w.EndObject();
  }
  w.EndArray();

  w.Key("attachments").BeginArray();
  for (const Attachment& a : v.attachments) {
    w.BeginObject();
    w.Key("id").Uint(a.id);
    w.Key("name").String(a.name);
    w.Key("media_type").String(a.media_type);
    w.Key("url").String(a.url);
    w.Key("sha256").String(a.sha256_hex);
    w.Key("size");
    if (a.size) {
      w.Uint(*a.size);
    } else {
      w.Null();
    }
    w.Key("stored").Bool(a.stored);
    w.Key("at");
    WriteStamp(w, a.at);
    w.EndObject();
  }
  w.EndArray();

  w.Key("decisions").BeginArray();
  for (const Decision& d : v.decisions) {
    w.BeginObject();
    w.Key("id").Uint(d.id);
    w.Key("outcome").String(OutcomeName(d.outcome));
    w.Key("status").String(d.status);
    w.Key("at");
    WriteStamp(w, d.at);
    w.Key("rationale").String(d.rationale);
    WritePolicy(w, d.policy);
    w.Key("identity").String(d.identity);
    w.Key("correlation_key").String(d.correlation_key);
    w.Key("signals").BeginObject();
    Seqs(w, "events", d.signal_events);
    Strings(w, "findings", d.signal_findings);
    w.EndObject();
    if (d.outcome == Outcome::kOverride) {
      w.Key("overrides").BeginObject();
      w.Key("decision");
      if (d.overrides_decision) {
        w.Uint(*d.overrides_decision);
      } else {
        w.Null();
      }
      w.Key("event");
      if (d.overrides_event) {
        w.Uint(*d.overrides_event);
      } else {
        w.Null();
      }
      w.Key("automated").Bool(d.automated_deny);
      w.EndObject();
    }
    if (!d.control_owner.empty() || d.risk) {
      w.Key("control_owner").String(d.control_owner);
      w.Key("risk_acceptance");
      if (d.risk) {
        w.BeginObject();
        w.Key("at");
        WriteStamp(w, d.risk->at);
        w.Key("rationale").String(d.risk->rationale);
        OptTime(w, "until", d.risk->until_ns);
        w.EndObject();
      } else {
        w.Null();
      }
    }
    if (d.exception) {
      const ExceptionTerms& e = *d.exception;
      w.Key("exception").BeginObject();
      Time(w, "expires", e.expires_ns);
      Time(w, "review_by", e.review_ns);
      Strings(w, "compensating_controls", e.compensating_controls);
      w.Key("status").String(e.status);
      OptStamp(w, "expired", e.expired);
      w.Key("finding").String(e.finding_id);
      OptStamp(w, "review_due", e.review_due);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();

  w.Key("verifications").BeginArray();
  for (const Verification& x : v.verifications) {
    w.BeginObject();
    w.Key("at");
    WriteStamp(w, x.at);
    w.Key("result").String(x.result);
    w.Key("note").String(x.note);
    Seqs(w, "evidence", x.evidence);
    w.EndObject();
  }
  w.EndArray();

  w.Key("support").BeginObject();
  WriteSupportField(w, "reporter", v.support.reporter);
  WriteSupportField(w, "channel", v.support.channel);
  WriteSupportField(w, "affected_identity", v.support.affected_identity);
  WriteSupportField(w, "entitlement_diff", v.support.entitlement_diff);
  WriteSupportField(w, "approved_change", v.support.approved_change);
  WriteSupportField(w, "remediation", v.support.remediation);
  w.EndObject();

  w.Key("sla").BeginObject();
  WriteSla(w, "respond", v.respond);
  WriteSla(w, "resolve", v.resolve);
  w.EndObject();
  w.Key("escalation").BeginObject();
  w.Key("level").Uint(v.escalation_level);
  w.Key("to").String(v.escalated_to);
  w.Key("path").BeginArray();
  for (const EscalationStep& s : v.escalation) {
    w.BeginObject();
    w.Key("level").Uint(s.level);
    w.Key("to").String(s.to);
    Time(w, "due", s.due_ns);
    OptStamp(w, "fired", s.fired);
    w.Key("cancelled").Bool(s.cancelled);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  OptTime(w, "next_due", NextDue(v));

  w.Key("closure").BeginArray();
  for (const CriterionResult& c : v.closure) {
    w.BeginObject();
    w.Key("id").String(c.id);
    w.Key("met").Bool(c.met);
    w.Key("detail").String(c.detail);
    Seqs(w, "evidence", c.evidence);
    w.EndObject();
  }
  w.EndArray();

  w.Key("op_count").Uint(v.op_count);
  Time(w, "updated", v.updated_ns);
  Seqs(w, "seqs", v.seqs);
  w.EndObject();
  return w.Take();
}

}  // namespace nhitrace::cases
