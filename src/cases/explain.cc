#include "cases/explain.h"

#include <charconv>
#include <cstdio>

#include "base/time.h"
#include "cases/case_event.h"
#include "cases/fold.h"
#include "cases/projection.h"
#include "event/codec.h"
#include "json/writer.h"

namespace nhitrace::cases {
namespace {

std::string Ts(int64_t ns) {
  std::string t = FormatRfc3339Utc(ns, 0);
  t[10] = ' ';
  return t;
}

std::string Seqs(const std::vector<uint64_t>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
  return out;
}

std::string Join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

std::string PolicyText(const std::optional<event::PolicyRef>& p) {
  if (!p) return "none published (built-in defaults applied)";
  return p->id + " version " + p->version + (p->hash.empty() ? "" : " (" + p->hash + ")");
}

std::string LinkText(const LinkSet& l) {
  std::vector<std::string> parts;
  for (const auto& x : l.identities) parts.push_back("identity " + x);
  if (!l.events.empty()) parts.push_back("events " + Seqs(l.events));
  for (const auto& x : l.findings) parts.push_back("finding " + x);
  for (const auto& x : l.chains) parts.push_back("grant " + x);
  for (const auto& x : l.tickets) parts.push_back("ticket " + x);
  return Join(parts, "; ");
}

}  // namespace

std::string SummarizeOp(const CaseOp& op) {
  switch (op.type) {
    case OpType::kOpen:
      return "opened " + std::string(SeverityName(*op.severity)) + " " +
             std::string(CaseKindName(*op.kind)) + " \"" + op.title + "\" for " + op.requester +
             (op.finding.empty() ? "" : " from finding " + op.finding) +
             (op.links.empty() ? "" : "; linked " + LinkText(op.links));
    case OpType::kSet:
      return std::string("set") +
             (op.severity ? " severity " + std::string(SeverityName(*op.severity)) : "") +
             (op.title.empty() ? "" : " title \"" + op.title + "\"");
    case OpType::kAssign:
      return "assigned to " + op.owner;
    case OpType::kTransition:
      return std::string(CaseStateName(*op.from)) + " -> " + std::string(CaseStateName(*op.to));
    case OpType::kComment:
      return "comment: " + (op.text.size() > 60 ? op.text.substr(0, 57) + "..." : op.text);
    case OpType::kTask:
      if (op.task_action == "add") {
        return "task " + std::to_string(op.task_id) + " \"" + op.task_title + "\"" +
               (op.task_owner.empty() ? "" : " for " + op.task_owner) +
               (op.task_due_ns ? " due " + Ts(*op.task_due_ns) : "");
      }
      return "task " + std::to_string(op.task_id) + " " +
             (op.task_action == "done"     ? "done"
              : op.task_action == "cancel" ? "cancelled"
                                           : "reopened");
    case OpType::kAttach:
      return "attached " + std::to_string(op.attachment_id) + " \"" + op.name + "\" sha256 " +
             op.sha256_hex + (op.url.empty() ? "" : " from " + op.url);
    case OpType::kLink:
      return "linked " + LinkText(op.links);
    case OpType::kDecide: {
      std::string s = "decided " + std::string(OutcomeName(*op.outcome)) + " (decision " +
                      std::to_string(op.decision_id) + ")";
      if (op.overrides_decision)
        s += " overriding decision " + std::to_string(*op.overrides_decision);
      if (op.overrides_event) s += " overriding denial seq " + std::to_string(*op.overrides_event);
      if (op.automated_deny) s += " (automated)";
      if (!op.control_owner.empty()) s += "; control owner " + op.control_owner;
      return s;
    }
    case OpType::kExcept:
      return "granted an exception (decision " + std::to_string(op.decision_id) + ") until " +
             Ts(*op.expires_ns) + ", re-review by " + Ts(*op.review_ns);
    case OpType::kAcceptRisk:
      return "accepted the residual risk of decision " + std::to_string(op.decision_id) +
             (op.until_ns ? " until " + Ts(*op.until_ns) : "");
    case OpType::kVerify:
      return "verification " + op.result +
             (op.evidence.empty() ? "" : " (evidence " + Seqs(op.evidence) + ")");
    case OpType::kSupport: {
      std::vector<std::string> parts;
      if (!op.reporter.empty()) parts.push_back("reporter " + op.reporter);
      if (!op.channel.empty()) parts.push_back("channel " + op.channel);
      if (!op.affected_identity.empty()) parts.push_back("identity " + op.affected_identity);
      if (!op.entitlement_diff.empty()) parts.push_back("entitlement diff");
      if (!op.approved_change.empty()) parts.push_back("approved change " + op.approved_change);
      if (!op.remediation.empty()) parts.push_back("remediation");
      return "support trail: " + Join(parts);
    }
    case OpType::kClose:
      return "closed as " + std::string(ResolutionName(*op.resolution)) + " (" +
             std::to_string(op.criteria.size()) + " criteria met)";
    case OpType::kReopen:
      return "reopened (" + op.cause + ")";
    case OpType::kEscalate:
      return "escalated to " + op.owner + " (level " + std::to_string(op.level) + ", " + op.cause +
             ")";
    case OpType::kSlaBreach:
      return op.timer + " SLA breached (due " + Ts(*op.due_ns) + ")";
    case OpType::kExceptionExpired:
      return "exception of decision " + std::to_string(op.decision_id) + " expired" +
             (op.finding.empty() ? "" : "; finding " + op.finding);
    case OpType::kReviewDue:
      return "exception of decision " + std::to_string(op.decision_id) + " due for re-review";
    case OpType::kJoin:
      return "finding " + op.finding + (op.rule.empty() ? "" : " (" + op.rule + ")") + " joined" +
             (op.links.empty() ? "" : "; linked " + LinkText(op.links));
  }
  return "";
}

namespace {

void Line(std::string* out, const std::string& label, const std::string& value) {
  if (value.empty()) return;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%-11s", label.c_str());
  *out += buf + value + "\n";
}

std::string Who(const Stamp& s) {
  return s.actor +
         (s.actor_type.empty() || s.actor_type == "human" ? "" : " (" + s.actor_type + ")") +
         " at " + Ts(s.time_ns) + " (seq " + std::to_string(s.seq) + ")";
}

}  // namespace

Result<Explanation> ExplainCaseFromEvents(uint64_t id, const std::vector<SeqEvent>& events,
                                          std::vector<std::pair<uint64_t, std::string>>* unfit) {
  Explanation x;
  std::optional<CaseView> view;
  for (const SeqEvent& se : events) {
    const event::Event& e = *se.event;
    uint64_t eid = 0;
    uint32_t op_seq = 0;
    if (e.kind != event::Kind::kCase || e.source_system != kCaseSourceSystem ||
        !ParseCaseEventId(e.source_event_id, &eid, &op_seq) || eid != id) {
      continue;
    }
    auto op = DecodeCaseEvent(e);
    Status s = op.ok() ? ApplyCaseEvent(e, se.seq, *op, &view) : op.status();
    if (!s.ok()) {
      if (unfit) unfit->emplace_back(se.seq, s.message());
      continue;
    }
    TimelineEntry t;
    t.seq = se.seq;
    t.op = op->op_seq;
    t.time_ns = e.time_ns;
    if (e.actor) {
      t.actor = e.actor->id;
      t.actor_type = e.actor->type;
    }
    t.op_name = std::string(OpTypeName(op->type));
    t.summary = SummarizeOp(*op);
    t.reason = e.rationale;
    t.policy = e.policy;
    x.timeline.push_back(std::move(t));
  }
  if (!view) return NotFoundError("no case " + std::to_string(id));
  x.view = std::move(*view);
  return x;
}

Result<Explanation> ExplainCase(store::Store& store, uint64_t id) {
  NHI_ASSIGN_OR_RETURN(std::vector<uint64_t> seqs, store.ListCaseEventSeqs(id));
  if (seqs.empty()) return NotFoundError("no case " + std::to_string(id));
  std::vector<event::Event> decoded;
  decoded.reserve(seqs.size());
  for (uint64_t seq : seqs) {
    NHI_ASSIGN_OR_RETURN(auto row, store.GetEvent(seq));
    if (!row) return DataLossError("case event seq " + std::to_string(seq) + " is missing");
    auto leaf = event::DecodeLeaf(row->leaf);
    if (!leaf.ok()) return leaf.status().WithContext("event " + std::to_string(seq));
    decoded.push_back(std::move(leaf->event));
  }
  std::vector<SeqEvent> events;
  for (size_t i = 0; i < seqs.size(); ++i) events.push_back({seqs[i], &decoded[i]});
  std::vector<std::pair<uint64_t, std::string>> unfit;
  NHI_ASSIGN_OR_RETURN(Explanation x, ExplainCaseFromEvents(id, events, &unfit));
  // case_events lists only events that were folded, so this is a changed ledger or index.
  if (!unfit.empty()) {
    return DataLossError("case event seq " + std::to_string(unfit[0].first) + ": " +
                         unfit[0].second);
  }
  if (x.timeline.size() != seqs.size()) {
    return DataLossError("case " + std::to_string(id) +
                         ": the case event index lists an event of another case");
  }
  NHI_ASSIGN_OR_RETURN(auto stored, store.GetCase(id));
  store::CaseRow expect = CaseRowOf(x.view);
  if (!stored) {
    x.view_consistent = false;
    x.inconsistency = "the case has no row in the case list";
  } else if (!(*stored == expect)) {
    x.view_consistent = false;
    x.inconsistency = "the case list row (state " + stored->state + ", op " +
                      std::to_string(stored->op_count) + ") differs from the ledger (state " +
                      expect.state + ", op " + std::to_string(expect.op_count) + ")";
  }
  NHI_ASSIGN_OR_RETURN(x.ledger_size, store.EventCount());
  return x;
}

CaseReferences ReferencesOf(const CaseView& v) {
  CaseReferences r;
  for (const Link& l : v.links) {
    uint64_t seq = 0;
    if (l.type == "event") {
      // Written by the fold from a number (fold.cc, AddLinks).
      auto [end, ec] = std::from_chars(l.value.data(), l.value.data() + l.value.size(), seq);
      if (ec == std::errc() && end == l.value.data() + l.value.size()) r.events.insert(seq);
    } else if (l.type == "finding") {
      r.findings.insert(l.value);
    }
  }
  if (!v.source_finding.empty()) r.findings.insert(v.source_finding);
  for (const Decision& d : v.decisions) {
    r.events.insert(d.signal_events.begin(), d.signal_events.end());
    r.findings.insert(d.signal_findings.begin(), d.signal_findings.end());
    if (d.overrides_event) r.events.insert(*d.overrides_event);
    if (d.exception && !d.exception->finding_id.empty()) r.findings.insert(d.exception->finding_id);
  }
  for (const Verification& vf : v.verifications) {
    r.events.insert(vf.evidence.begin(), vf.evidence.end());
  }
  for (const CriterionResult& c : v.closure) r.events.insert(c.evidence.begin(), c.evidence.end());
  return r;
}

std::string ExplanationToText(const Explanation& x) {
  const CaseView& v = x.view;
  std::string out;
  out += "CASE " + std::to_string(v.id) + "  " + std::string(CaseKindName(v.kind)) + "  " +
         std::string(SeverityName(v.severity)) + "  " + std::string(CaseStateName(v.state)) +
         (v.resolution.empty() ? "" : " (" + v.resolution + ")") + "\n";
  out += "\"" + v.title + "\"\n";
  Line(&out, "opened", "by " + Who(v.opened));
  Line(&out, "requester", v.requester);
  Line(&out, "owner", v.owner.empty() ? "(none)" : v.owner);
  Line(&out, "policy", "at opening: " + PolicyText(v.opened_policy));
  if (!v.source_finding.empty()) {
    Line(&out, "finding",
         v.source_finding + (v.source_rule.empty() ? "" : " (rule " + v.source_rule + ")"));
  }
  std::vector<std::string> links;
  for (const Link& l : v.links) links.push_back(l.type + " " + l.value);
  Line(&out, "linked", Join(links, "; "));
  if (!v.description.empty()) Line(&out, "about", v.description);

  out += "\nDECISIONS\n";
  if (v.decisions.empty()) out += "  none\n";
  for (const Decision& d : v.decisions) {
    out += "  " + std::to_string(d.id) + ". " + std::string(OutcomeName(d.outcome)) + " by " +
           Who(d.at) + "  [" + d.status + "]\n";
    out += "     rationale: " + d.rationale + "\n";
    out += "     policy:    " + PolicyText(d.policy) + "\n";
    std::vector<std::string> sig;
    if (!d.signal_events.empty()) sig.push_back("events " + Seqs(d.signal_events));
    if (!d.signal_findings.empty()) sig.push_back("findings " + Join(d.signal_findings));
    out += "     signals:   " + (sig.empty() ? std::string("none named") : Join(sig, "; ")) + "\n";
    if (d.outcome == Outcome::kOverride) {
      out +=
          "     overrides: " +
          (d.overrides_decision ? "decision " + std::to_string(*d.overrides_decision)
                                : "denial seq " + std::to_string(d.overrides_event.value_or(0))) +
          (d.automated_deny ? " (an automated deny)" : " (a deny by a person)") + "\n";
    }
    if (!d.control_owner.empty()) {
      if (d.risk) {
        out += "     residual risk accepted by control owner " + Who(d.risk->at) + ": " +
               d.risk->rationale +
               (d.risk->until_ns ? " (until " + Ts(*d.risk->until_ns) + ")" : "") + "\n";
      } else {
        out += "     residual risk NOT YET accepted by control owner " + d.control_owner + "\n";
      }
    }
    if (d.exception) {
      const ExceptionTerms& t = *d.exception;
      out += "     exception: until " + Ts(t.expires_ns) + ", re-review by " + Ts(t.review_ns) +
             " [" + t.status + "]\n";
      out += "     controls:  " + Join(t.compensating_controls, "; ") + "\n";
      if (t.expired) {
        out += "     expired:   recorded at " + Ts(t.expired->time_ns) + " (seq " +
               std::to_string(t.expired->seq) + ")" +
               (t.finding_id.empty() ? "" : ", finding " + t.finding_id) + "\n";
      }
    }
  }

  if (v.closed || !v.closure.empty()) {
    out += "\nCLOSURE\n";
    if (v.closed) out += "  closed as " + v.resolution + " by " + Who(*v.closed) + "\n";
    for (const CriterionResult& c : v.closure) {
      out += "  - " + c.id + ": " + c.detail +
             (c.evidence.empty() ? "" : " (evidence seq " + Seqs(c.evidence) + ")") + "\n";
    }
  }

  if (!v.attachments.empty() || !v.verifications.empty()) {
    out += "\nEVIDENCE\n";
    for (const Attachment& a : v.attachments) {
      out += "  attachment " + std::to_string(a.id) + " \"" + a.name + "\" sha256 " + a.sha256_hex +
             (a.size ? ", " + std::to_string(*a.size) + " bytes" : "") +
             (a.stored ? ", stored" : "") + (a.url.empty() ? "" : ", " + a.url) + "\n";
      out += "     by " + Who(a.at) + "\n";
    }
    for (const Verification& vf : v.verifications) {
      out += "  verification " + vf.result + " by " + Who(vf.at) +
             (vf.evidence.empty() ? "" : ", evidence seq " + Seqs(vf.evidence)) + "\n";
      if (!vf.note.empty()) out += "     " + vf.note + "\n";
    }
  }

  const SupportTrail& s = v.support;
  if (v.kind == CaseKind::kSupport || !s.reporter.value.empty()) {
    out += "\nSUPPORT TRAIL\n";
    auto field = [&](const char* name, const SupportField& f) {
      out += std::string("  ") + name + ": " +
             (f.value.empty() ? std::string("(not recorded)")
                              : f.value + "  (seq " + std::to_string(f.at.seq) + ")") +
             "\n";
    };
    field("reporter         ", s.reporter);
    field("channel          ", s.channel);
    field("affected identity", s.affected_identity);
    field("entitlement diff ", s.entitlement_diff);
    field("approved change  ", s.approved_change);
    field("remediation      ", s.remediation);
  }

  out += "\nTIMELINE\n";
  char buf[256];
  std::snprintf(buf, sizeof buf, "  %6s %3s  %-19s  %-18s %s\n", "SEQ", "OP", "TIME (UTC)", "ACTOR",
                "WHAT");
  out += buf;
  for (const TimelineEntry& t : x.timeline) {
    std::string actor = t.actor.size() > 18 ? t.actor.substr(0, 17) + "~" : t.actor;
    std::snprintf(buf, sizeof buf, "  %6llu %3u  %-19s  %-18s ",
                  static_cast<unsigned long long>(t.seq), t.op, Ts(t.time_ns).c_str(),
                  actor.c_str());
    out += buf + t.summary + "\n";
    if (!t.reason.empty()) out += std::string(33, ' ') + "reason: " + t.reason + "\n";
  }
  if (!x.view_consistent) {
    out += "\nWARNING: " + x.inconsistency + " (run `nhitrace case rebuild`)\n";
  }
  out += "\nEvery line above is a ledger event; prove one with `nhitrace prove inclusion SEQ`.\n";
  return out;
}

std::string ExplanationToJson(const Explanation& x) {
  json::JsonWriter w;
  w.BeginObject();
  w.Key("case").Raw(CaseViewToJson(x.view));
  w.Key("timeline").BeginArray();
  for (const TimelineEntry& t : x.timeline) {
    w.BeginObject();
    w.Key("seq").Uint(t.seq);
    w.Key("op").Uint(t.op);
    w.Key("time").String(FormatRfc3339Utc(t.time_ns, 6));
    w.Key("actor").String(t.actor);
    w.Key("actor_type").String(t.actor_type);
    w.Key("operation").String(t.op_name);
    w.Key("summary").String(t.summary);
    w.Key("reason").String(t.reason);
    w.Key("policy");
    if (t.policy) {
      w.BeginObject();
      w.Key("id").String(t.policy->id);
      w.Key("version").String(t.policy->version);
      w.Key("hash").String(t.policy->hash);
      w.EndObject();
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("view_consistent").Bool(x.view_consistent);
  w.Key("inconsistency").String(x.inconsistency);
  w.Key("ledger_size").Uint(x.ledger_size);
  w.EndObject();
  return w.Take();
}

}  // namespace nhitrace::cases
