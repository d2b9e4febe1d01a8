#include "cases/case_event.h"

#include <charconv>

#include "base/time.h"
#include "base/utf8.h"
#include "cases/internal/object_reader.h"
#include "event/codec.h"
#include "json/canonical.h"
#include "json/writer.h"

namespace nhitrace::cases {
namespace {

using internal::ObjectReader;

constexpr std::string_view kOpNames[] = {
    "open",   "set",      "assign",     "transition",        "comment",    "task",    "attach",
    "link",   "decide",   "except",     "accept_risk",       "verify",     "support", "close",
    "reopen", "escalate", "sla_breach", "exception_expired", "review_due", "join"};

// Microseconds when that is exact (every time nhitrace takes from its clock), else nanoseconds:
// a time given by a person must come back from the event exactly as it was checked.
std::string Rfc(int64_t ns) { return FormatRfc3339Utc(ns, ns % 1000 == 0 ? 6 : 9); }

void Str(json::JsonWriter& w, std::string_view key, const std::string& v) {
  if (!v.empty()) w.Key(key).String(v);
}

void WriteLinks(json::JsonWriter& w, std::string_view key, const LinkSet& l) {
  if (l.empty()) return;
  w.Key(key).BeginObject();
  auto strings = [&](std::string_view k, const std::vector<std::string>& v) {
    if (v.empty()) return;
    w.Key(k).BeginArray();
    for (const auto& s : v) w.String(s);
    w.EndArray();
  };
  strings("identities", l.identities);
  if (!l.events.empty()) {
    w.Key("events").BeginArray();
    for (uint64_t s : l.events) w.Uint(s);
    w.EndArray();
  }
  strings("findings", l.findings);
  strings("chains", l.chains);
  strings("tickets", l.tickets);
  w.EndObject();
}

void WriteTimers(json::JsonWriter& w, const std::optional<TimerPlan>& t) {
  if (!t) return;
  w.Key("timers").BeginObject();
  if (t->respond_due_ns) w.Key("respond_due").String(Rfc(*t->respond_due_ns));
  if (t->resolve_due_ns) w.Key("resolve_due").String(Rfc(*t->resolve_due_ns));
  w.Key("escalation").BeginArray();
  for (const PlannedStep& s : t->escalation) {
    w.BeginObject();
    w.Key("level").Uint(s.level);
    w.Key("to").String(s.to);
    w.Key("due").String(Rfc(s.due_ns));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void WriteSignals(json::JsonWriter& w, const CaseOp& op) {
  if (op.signal_events.empty() && op.signal_findings.empty()) return;
  w.Key("signals").BeginObject();
  if (!op.signal_events.empty()) {
    w.Key("events").BeginArray();
    for (uint64_t s : op.signal_events) w.Uint(s);
    w.EndArray();
  }
  if (!op.signal_findings.empty()) {
    w.Key("findings").BeginArray();
    for (const auto& f : op.signal_findings) w.String(f);
    w.EndArray();
  }
  w.EndObject();
}

Status ReadLinks(ObjectReader& r, std::string_view key, LinkSet* out) {
  NHI_ASSIGN_OR_RETURN(auto lr, r.Object(key));
  if (!lr) return OkStatus();
  NHI_RETURN_IF_ERROR(lr->Strings("identities", &out->identities));
  NHI_RETURN_IF_ERROR(lr->Uints("events", &out->events));
  NHI_RETURN_IF_ERROR(lr->Strings("findings", &out->findings));
  NHI_RETURN_IF_ERROR(lr->Strings("chains", &out->chains));
  NHI_RETURN_IF_ERROR(lr->Strings("tickets", &out->tickets));
  NHI_RETURN_IF_ERROR(lr->CheckNoUnknown());
  if (out->empty()) return r.Error(key, "must link something (omit it instead)");
  return OkStatus();
}

Status ReadTimers(ObjectReader& r, std::optional<TimerPlan>* out) {
  NHI_ASSIGN_OR_RETURN(auto tr, r.Object("timers"));
  if (!tr) return OkStatus();
  TimerPlan t;
  NHI_RETURN_IF_ERROR(tr->OptTime("respond_due", &t.respond_due_ns));
  NHI_RETURN_IF_ERROR(tr->OptTime("resolve_due", &t.resolve_due_ns));
  auto esc = tr->Get("escalation");
  if (!esc) return tr->Error("escalation", "required");
  if (esc->type() != simdjson::dom::element_type::ARRAY) {
    return tr->Error("escalation", "must be an array");
  }
  size_t i = 0;
  for (simdjson::dom::element item : json::ArrayOf(*esc)) {
    NHI_ASSIGN_OR_RETURN(ObjectReader sr, ObjectReader::Of(item, tr->PathOf("escalation") + "[" +
                                                                     std::to_string(i++) + "]"));
    PlannedStep s;
    NHI_RETURN_IF_ERROR(sr.Uint32("level", &s.level, true));
    NHI_RETURN_IF_ERROR(sr.String("to", &s.to, true));
    NHI_RETURN_IF_ERROR(sr.Time("due", &s.due_ns, true));
    NHI_RETURN_IF_ERROR(sr.CheckNoUnknown());
    t.escalation.push_back(std::move(s));
  }
  NHI_RETURN_IF_ERROR(tr->CheckNoUnknown());
  *out = std::move(t);
  return OkStatus();
}

Status ReadSignals(ObjectReader& r, CaseOp* op) {
  NHI_ASSIGN_OR_RETURN(auto sr, r.Object("signals"));
  if (!sr) return OkStatus();
  NHI_RETURN_IF_ERROR(sr->Uints("events", &op->signal_events));
  NHI_RETURN_IF_ERROR(sr->Strings("findings", &op->signal_findings));
  return sr->CheckNoUnknown();
}

template <typename E>
Status ReadEnum(ObjectReader& r, std::string_view key, std::optional<E>* out,
                std::optional<E> (*parse)(std::string_view), bool required) {
  std::string s;
  NHI_RETURN_IF_ERROR(r.String(key, &s, required));
  if (s.empty()) return OkStatus();
  *out = parse(s);
  if (!*out) return r.Error(key, "unknown value \"" + s + "\"");
  return OkStatus();
}

Status ReadState(ObjectReader& r, std::string_view key, std::optional<CaseState>* out) {
  return ReadEnum(r, key, out, ParseCaseState, true);
}

}  // namespace

std::string_view OpTypeName(OpType t) { return kOpNames[static_cast<size_t>(t)]; }

std::optional<OpType> ParseOpType(std::string_view s) {
  for (size_t i = 0; i < std::size(kOpNames); ++i) {
    if (kOpNames[i] == s) return static_cast<OpType>(i);
  }
  return std::nullopt;
}

bool ParseCaseEventId(std::string_view id, uint64_t* case_id, uint32_t* op_seq) {
  size_t slash = id.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= id.size()) return false;
  auto digits = [](std::string_view s) {
    if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0')) return false;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
    return true;
  };
  std::string_view a = id.substr(0, slash), b = id.substr(slash + 1);
  if (!digits(a) || !digits(b)) return false;
  uint64_t x = 0, y = 0;
  std::from_chars(a.data(), a.data() + a.size(), x);
  auto r = std::from_chars(b.data(), b.data() + b.size(), y);
  if (r.ec != std::errc() || y == 0 || y > UINT32_MAX || x == 0) return false;
  *case_id = x;
  *op_seq = static_cast<uint32_t>(y);
  return true;
}

std::string EncodeCaseAttributes(const CaseOp& op) {
  json::JsonWriter w;
  w.BeginObject();
  w.Key("case").Uint(op.case_id);
  w.Key("op").String(OpTypeName(op.type));
  w.Key("op_seq").Uint(op.op_seq);
  switch (op.type) {
    case OpType::kOpen:
      w.Key("kind").String(CaseKindName(*op.kind));
      w.Key("severity").String(SeverityName(*op.severity));
      w.Key("title").String(op.title);
      Str(w, "description", op.description);
      w.Key("requester").String(op.requester);
      WriteLinks(w, "links", op.links);
      Str(w, "finding", op.finding);
      Str(w, "rule", op.rule);
      Str(w, "reporter", op.reporter);
      Str(w, "channel", op.channel);
      WriteTimers(w, op.timers);
      break;
    case OpType::kSet:
      if (op.severity) w.Key("severity").String(SeverityName(*op.severity));
      Str(w, "title", op.title);
      WriteTimers(w, op.timers);
      break;
    case OpType::kAssign:
      w.Key("owner").String(op.owner);
      break;
    case OpType::kTransition:
      w.Key("from").String(CaseStateName(*op.from));
      w.Key("to").String(CaseStateName(*op.to));
      break;
    case OpType::kComment:
      w.Key("text").String(op.text);
      break;
    case OpType::kTask:
      w.Key("task").Uint(op.task_id);
      w.Key("action").String(op.task_action);
      Str(w, "title", op.task_title);
      Str(w, "owner", op.task_owner);
      if (op.task_due_ns) w.Key("due").String(Rfc(*op.task_due_ns));
      break;
    case OpType::kAttach:
      w.Key("attachment").Uint(op.attachment_id);
      w.Key("name").String(op.name);
      Str(w, "media_type", op.media_type);
      Str(w, "url", op.url);
      w.Key("sha256").String(op.sha256_hex);
      if (op.size) w.Key("size").Uint(*op.size);
      w.Key("stored").Bool(op.stored);
      break;
    case OpType::kLink:
      WriteLinks(w, "links", op.links);
      break;
    case OpType::kDecide:
      w.Key("decision_id").Uint(op.decision_id);
      w.Key("decision").String(OutcomeName(*op.outcome));
      Str(w, "identity", op.subject_identity);
      Str(w, "correlation_key", op.subject_correlation_key);
      WriteSignals(w, op);
      if (op.overrides_decision || op.overrides_event) {
        w.Key("overrides").BeginObject();
        if (op.overrides_decision) w.Key("decision").Uint(*op.overrides_decision);
        if (op.overrides_event) w.Key("event").Uint(*op.overrides_event);
        w.Key("automated").Bool(op.automated_deny);
        w.EndObject();
      }
      Str(w, "control_owner", op.control_owner);
      break;
    case OpType::kExcept:
      w.Key("decision_id").Uint(op.decision_id);
      w.Key("decision").String("exception");
      Str(w, "identity", op.subject_identity);
      Str(w, "correlation_key", op.subject_correlation_key);
      w.Key("expires").String(Rfc(*op.expires_ns));
      w.Key("review_by").String(Rfc(*op.review_ns));
      w.Key("compensating_controls").BeginArray();
      for (const auto& c : op.compensating_controls) w.String(c);
      w.EndArray();
      WriteSignals(w, op);
      break;
    case OpType::kAcceptRisk:
      w.Key("decision_id").Uint(op.decision_id);
      if (op.until_ns) w.Key("until").String(Rfc(*op.until_ns));
      break;
    case OpType::kVerify:
      w.Key("result").String(op.result);
      Str(w, "note", op.text);
      if (!op.evidence.empty()) {
        w.Key("evidence").BeginArray();
        for (uint64_t s : op.evidence) w.Uint(s);
        w.EndArray();
      }
      break;
    case OpType::kSupport:
      Str(w, "reporter", op.reporter);
      Str(w, "channel", op.channel);
      Str(w, "affected_identity", op.affected_identity);
      Str(w, "entitlement_diff", op.entitlement_diff);
      Str(w, "approved_change", op.approved_change);
      Str(w, "remediation", op.remediation);
      break;
    case OpType::kClose:
      w.Key("from").String(CaseStateName(*op.from));
      w.Key("resolution").String(ResolutionName(*op.resolution));
      w.Key("criteria").BeginArray();
      for (const CriterionResult& c : op.criteria) {
        w.BeginObject();
        w.Key("id").String(c.id);
        Str(w, "detail", c.detail);
        w.Key("evidence").BeginArray();
        for (uint64_t s : c.evidence) w.Uint(s);
        w.EndArray();
        w.EndObject();
      }
      w.EndArray();
      break;
    case OpType::kReopen:
      w.Key("from").String(CaseStateName(*op.from));
      w.Key("cause").String(op.cause);
      WriteTimers(w, op.timers);
      break;
    case OpType::kEscalate:
      w.Key("level").Uint(op.level);
      w.Key("to").String(op.owner);
      w.Key("cause").String(op.cause);
      if (op.due_ns) w.Key("due").String(Rfc(*op.due_ns));
      break;
    case OpType::kSlaBreach:
      w.Key("timer").String(op.timer);
      w.Key("due").String(Rfc(*op.due_ns));
      break;
    case OpType::kExceptionExpired:
      w.Key("decision_id").Uint(op.decision_id);
      w.Key("due").String(Rfc(*op.due_ns));
      Str(w, "finding", op.finding);
      break;
    case OpType::kReviewDue:
      w.Key("decision_id").Uint(op.decision_id);
      w.Key("due").String(Rfc(*op.due_ns));
      break;
    case OpType::kJoin:
      w.Key("finding").String(op.finding);
      Str(w, "rule", op.rule);
      if (op.severity) w.Key("severity").String(SeverityName(*op.severity));
      WriteLinks(w, "links", op.links);
      break;
  }
  w.EndObject();
  // The writer does not sort members; the ledger wants the canonical form. Every string went
  // through the UTF-8 checks of BuildCaseEvent's callers, so this cannot fail on valid input.
  auto c = json::Canonicalize(w.str());
  return c.ok() ? std::move(c).value() : std::string();
}

Result<event::Event> BuildCaseEvent(const CaseOp& op, const event::Actor& actor, int64_t time_ns,
                                    const std::string& reason,
                                    const std::optional<event::PolicyRef>& policy) {
  event::Event e;
  e.kind = event::Kind::kCase;
  e.source_system = kCaseSourceSystem;
  e.source_event_id = std::to_string(op.case_id) + "/" + std::to_string(op.op_seq);
  e.time = FormatRfc3339Utc(time_ns, 6);
  auto t = ParseRfc3339(e.time);
  if (!t.ok()) return t.status();
  e.time_ns = t->unix_nanos;
  e.actor = actor;
  e.rationale = reason;
  if (policy) e.policy = *policy;
  e.attributes = EncodeCaseAttributes(op);
  if (e.attributes.empty()) return InvalidArgumentError("case event: a text is not valid UTF-8");
  // Round trip through the native decoder: the event must be one ingest would accept.
  std::string content = event::EncodeContent(e);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = json::ParseJson(parser, content, &root)) {
    return InternalError(std::string("case event does not parse: ") + simdjson::error_message(err));
  }
  auto decoded = event::DecodeNative(root);
  if (!decoded.ok()) return decoded.status();
  return std::move(decoded->event);
}

Result<CaseOp> DecodeCaseEvent(const event::Event& e) {
  if (e.kind != event::Kind::kCase) return InvalidArgumentError("not a case event");
  if (e.source_system != kCaseSourceSystem) {
    return InvalidArgumentError("source.system: case events come from " +
                                std::string(kCaseSourceSystem) + ", not \"" + e.source_system +
                                "\"");
  }
  CaseOp op;
  if (!ParseCaseEventId(e.source_event_id, &op.case_id, &op.op_seq)) {
    return InvalidArgumentError("source.event_id: must be \"<case id>/<op seq>\", got \"" +
                                e.source_event_id + "\"");
  }
  if (e.attributes.empty()) return InvalidArgumentError("attributes: required for a case event");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = json::ParseJson(parser, e.attributes, &root)) {
    return InvalidArgumentError(std::string("attributes: not valid JSON (") +
                                simdjson::error_message(err) + ")");
  }
  NHI_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(root, "attributes"));
  uint64_t case_id = 0;
  uint32_t op_seq = 0;
  NHI_RETURN_IF_ERROR(r.Uint("case", &case_id, true));
  NHI_RETURN_IF_ERROR(r.Uint32("op_seq", &op_seq, true));
  if (case_id != op.case_id || op_seq != op.op_seq) {
    return InvalidArgumentError("attributes: case " + std::to_string(case_id) + " op " +
                                std::to_string(op_seq) + " disagrees with source.event_id \"" +
                                e.source_event_id + "\"");
  }
  std::string name;
  NHI_RETURN_IF_ERROR(r.String("op", &name, true));
  auto type = ParseOpType(name);
  if (!type) return r.Error("op", "unknown operation \"" + name + "\"");
  op.type = *type;
  if ((op.op_seq == 1) != (op.type == OpType::kOpen)) {
    return r.Error("op", "a case begins with op 1, \"open\", and has only one");
  }
  switch (op.type) {
    case OpType::kOpen:
      NHI_RETURN_IF_ERROR(ReadEnum(r, "kind", &op.kind, ParseCaseKind, true));
      NHI_RETURN_IF_ERROR(ReadEnum(r, "severity", &op.severity, ParseSeverity, true));
      NHI_RETURN_IF_ERROR(r.String("title", &op.title, true));
      NHI_RETURN_IF_ERROR(r.String("description", &op.description));
      NHI_RETURN_IF_ERROR(r.String("requester", &op.requester, true));
      NHI_RETURN_IF_ERROR(ReadLinks(r, "links", &op.links));
      NHI_RETURN_IF_ERROR(r.String("finding", &op.finding));
      NHI_RETURN_IF_ERROR(r.String("rule", &op.rule));
      NHI_RETURN_IF_ERROR(r.String("reporter", &op.reporter));
      NHI_RETURN_IF_ERROR(r.String("channel", &op.channel));
      NHI_RETURN_IF_ERROR(ReadTimers(r, &op.timers));
      break;
    case OpType::kSet:
      NHI_RETURN_IF_ERROR(ReadEnum(r, "severity", &op.severity, ParseSeverity, false));
      NHI_RETURN_IF_ERROR(r.String("title", &op.title));
      NHI_RETURN_IF_ERROR(ReadTimers(r, &op.timers));
      if (!op.severity && op.title.empty()) return r.Error("op", "set changes nothing");
      break;
    case OpType::kAssign:
      NHI_RETURN_IF_ERROR(r.String("owner", &op.owner, true));
      break;
    case OpType::kTransition:
      NHI_RETURN_IF_ERROR(ReadState(r, "from", &op.from));
      NHI_RETURN_IF_ERROR(ReadState(r, "to", &op.to));
      break;
    case OpType::kComment:
      NHI_RETURN_IF_ERROR(r.String("text", &op.text, true));
      break;
    case OpType::kTask:
      NHI_RETURN_IF_ERROR(r.Uint32("task", &op.task_id, true));
      NHI_RETURN_IF_ERROR(r.String("action", &op.task_action, true));
      if (op.task_action != "add" && op.task_action != "done" && op.task_action != "cancel" &&
          op.task_action != "reopen") {
        return r.Error("action", "must be add, done, cancel or reopen");
      }
      NHI_RETURN_IF_ERROR(r.String("title", &op.task_title, op.task_action == "add"));
      NHI_RETURN_IF_ERROR(r.String("owner", &op.task_owner));
      NHI_RETURN_IF_ERROR(r.OptTime("due", &op.task_due_ns));
      break;
    case OpType::kAttach: {
      NHI_RETURN_IF_ERROR(r.Uint32("attachment", &op.attachment_id, true));
      NHI_RETURN_IF_ERROR(r.String("name", &op.name, true));
      NHI_RETURN_IF_ERROR(r.String("media_type", &op.media_type));
      NHI_RETURN_IF_ERROR(r.String("url", &op.url));
      NHI_RETURN_IF_ERROR(r.String("sha256", &op.sha256_hex, true));
      if (op.sha256_hex.size() != 64 ||
          op.sha256_hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
        return r.Error("sha256", "must be 64 lower-case hex digits");
      }
      NHI_RETURN_IF_ERROR(r.OptUint("size", &op.size));
      NHI_RETURN_IF_ERROR(r.Bool("stored", &op.stored, true));
      break;
    }
    case OpType::kLink:
      NHI_RETURN_IF_ERROR(ReadLinks(r, "links", &op.links));
      if (op.links.empty()) return r.Error("links", "required");
      break;
    case OpType::kDecide: {
      NHI_RETURN_IF_ERROR(r.Uint32("decision_id", &op.decision_id, true));
      NHI_RETURN_IF_ERROR(ReadEnum(r, "decision", &op.outcome, ParseOutcome, true));
      NHI_RETURN_IF_ERROR(r.String("identity", &op.subject_identity));
      NHI_RETURN_IF_ERROR(r.String("correlation_key", &op.subject_correlation_key));
      NHI_RETURN_IF_ERROR(ReadSignals(r, &op));
      NHI_ASSIGN_OR_RETURN(auto ov, r.Object("overrides"));
      if (ov) {
        std::optional<uint64_t> d;
        NHI_RETURN_IF_ERROR(ov->OptUint("decision", &d));
        if (d) {
          if (*d > UINT32_MAX) return ov->Error("decision", "out of range");
          op.overrides_decision = static_cast<uint32_t>(*d);
        }
        NHI_RETURN_IF_ERROR(ov->OptUint("event", &op.overrides_event));
        NHI_RETURN_IF_ERROR(ov->Bool("automated", &op.automated_deny, true));
        NHI_RETURN_IF_ERROR(ov->CheckNoUnknown());
        if (!op.overrides_decision == !op.overrides_event) {
          return ov->Error("decision", "name exactly one of decision and event");
        }
      }
      if ((op.outcome == Outcome::kOverride) != ov.has_value()) {
        return r.Error("overrides", "present exactly when the decision is override");
      }
      if (op.outcome == Outcome::kException) {
        return r.Error("decision", "exceptions are recorded by the \"except\" op");
      }
      NHI_RETURN_IF_ERROR(r.String("control_owner", &op.control_owner));
      break;
    }
    case OpType::kExcept: {
      op.outcome = Outcome::kException;
      NHI_RETURN_IF_ERROR(r.Uint32("decision_id", &op.decision_id, true));
      std::string kind;
      NHI_RETURN_IF_ERROR(r.String("decision", &kind, true));
      if (kind != "exception") return r.Error("decision", "must be \"exception\"");
      NHI_RETURN_IF_ERROR(r.String("identity", &op.subject_identity));
      NHI_RETURN_IF_ERROR(r.String("correlation_key", &op.subject_correlation_key));
      op.expires_ns.emplace();
      op.review_ns.emplace();
      NHI_RETURN_IF_ERROR(r.Time("expires", &*op.expires_ns, true));
      NHI_RETURN_IF_ERROR(r.Time("review_by", &*op.review_ns, true));
      NHI_RETURN_IF_ERROR(r.Strings("compensating_controls", &op.compensating_controls, true));
      NHI_RETURN_IF_ERROR(ReadSignals(r, &op));
      break;
    }
    case OpType::kAcceptRisk:
      NHI_RETURN_IF_ERROR(r.Uint32("decision_id", &op.decision_id, true));
      NHI_RETURN_IF_ERROR(r.OptTime("until", &op.until_ns));
      break;
    case OpType::kVerify:
      NHI_RETURN_IF_ERROR(r.String("result", &op.result, true));
      if (op.result != "passed" && op.result != "failed") {
        return r.Error("result", "must be passed or failed");
      }
      NHI_RETURN_IF_ERROR(r.String("note", &op.text));
      NHI_RETURN_IF_ERROR(r.Uints("evidence", &op.evidence));
      break;
    case OpType::kSupport:
      NHI_RETURN_IF_ERROR(r.String("reporter", &op.reporter));
      NHI_RETURN_IF_ERROR(r.String("channel", &op.channel));
      NHI_RETURN_IF_ERROR(r.String("affected_identity", &op.affected_identity));
      NHI_RETURN_IF_ERROR(r.String("entitlement_diff", &op.entitlement_diff));
      NHI_RETURN_IF_ERROR(r.String("approved_change", &op.approved_change));
      NHI_RETURN_IF_ERROR(r.String("remediation", &op.remediation));
      if (op.reporter.empty() && op.channel.empty() && op.affected_identity.empty() &&
          op.entitlement_diff.empty() && op.approved_change.empty() && op.remediation.empty()) {
        return r.Error("op", "support records nothing");
      }
      break;
    case OpType::kClose: {
      NHI_RETURN_IF_ERROR(ReadState(r, "from", &op.from));
      NHI_RETURN_IF_ERROR(ReadEnum(r, "resolution", &op.resolution, ParseResolution, true));
      auto crit = r.Get("criteria");
      if (!crit) return r.Error("criteria", "required");
      if (crit->type() != simdjson::dom::element_type::ARRAY) {
        return r.Error("criteria", "must be an array");
      }
      size_t i = 0;
      for (simdjson::dom::element item : json::ArrayOf(*crit)) {
        NHI_ASSIGN_OR_RETURN(
            ObjectReader cr,
            ObjectReader::Of(item, "attributes.criteria[" + std::to_string(i++) + "]"));
        CriterionResult c;
        c.met = true;
        NHI_RETURN_IF_ERROR(cr.String("id", &c.id, true));
        NHI_RETURN_IF_ERROR(cr.String("detail", &c.detail));
        NHI_RETURN_IF_ERROR(cr.Uints("evidence", &c.evidence));
        NHI_RETURN_IF_ERROR(cr.CheckNoUnknown());
        op.criteria.push_back(std::move(c));
      }
      break;
    }
    case OpType::kReopen:
      NHI_RETURN_IF_ERROR(ReadState(r, "from", &op.from));
      NHI_RETURN_IF_ERROR(r.String("cause", &op.cause, true));
      if (op.cause != "manual" && op.cause != "exception_expired" && op.cause != "finding") {
        return r.Error("cause", "must be manual, exception_expired or finding");
      }
      NHI_RETURN_IF_ERROR(ReadTimers(r, &op.timers));
      break;
    case OpType::kEscalate:
      NHI_RETURN_IF_ERROR(r.Uint32("level", &op.level, true));
      NHI_RETURN_IF_ERROR(r.String("to", &op.owner, true));
      NHI_RETURN_IF_ERROR(r.String("cause", &op.cause, true));
      if (op.cause != "manual" && op.cause != "sla") {
        return r.Error("cause", "must be manual or sla");
      }
      NHI_RETURN_IF_ERROR(r.OptTime("due", &op.due_ns));
      break;
    case OpType::kSlaBreach:
      NHI_RETURN_IF_ERROR(r.String("timer", &op.timer, true));
      if (op.timer != "respond" && op.timer != "resolve") {
        return r.Error("timer", "must be respond or resolve");
      }
      op.due_ns.emplace();
      NHI_RETURN_IF_ERROR(r.Time("due", &*op.due_ns, true));
      break;
    case OpType::kExceptionExpired:
      NHI_RETURN_IF_ERROR(r.Uint32("decision_id", &op.decision_id, true));
      op.due_ns.emplace();
      NHI_RETURN_IF_ERROR(r.Time("due", &*op.due_ns, true));
      NHI_RETURN_IF_ERROR(r.String("finding", &op.finding));
      break;
    case OpType::kReviewDue:
      NHI_RETURN_IF_ERROR(r.Uint32("decision_id", &op.decision_id, true));
      op.due_ns.emplace();
      NHI_RETURN_IF_ERROR(r.Time("due", &*op.due_ns, true));
      break;
    case OpType::kJoin:
      NHI_RETURN_IF_ERROR(r.String("finding", &op.finding, true));
      NHI_RETURN_IF_ERROR(r.String("rule", &op.rule));
      NHI_RETURN_IF_ERROR(ReadEnum(r, "severity", &op.severity, ParseSeverity, false));
      NHI_RETURN_IF_ERROR(ReadLinks(r, "links", &op.links));
      break;
  }
  NHI_RETURN_IF_ERROR(r.CheckNoUnknown());
  return op;
}

}  // namespace nhitrace::cases
