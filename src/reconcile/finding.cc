#include "reconcile/finding.h"

#include "base/encoding.h"
#include "base/time.h"
#include "crypto/sha256.h"
#include "json/dom.h"
#include "json/writer.h"

namespace nhitrace::reconcile {

std::string FindingId(std::string_view rule_id, SubjectType type, std::string_view subject) {
  std::string key = std::string(rule_id) + "\n" + std::string(SubjectTypeName(type)) + "\n" +
                    std::string(subject);
  return "F" + HexEncode(crypto::AsBytes(crypto::Sha256(key))).substr(0, 16);
}

Finding FromHit(const ReconcileRule& rule, const Hit& hit, const policy::Policy& policy) {
  const RuleInfo& info = rule.info();
  const policy::RuleSettings& s = policy.Rule(info.id);
  Finding f;
  f.rule_id = std::string(info.id);
  f.id = FindingId(info.id, hit.subject_type, hit.subject);
  f.rule_version = info.version;
  f.title = std::string(info.title);
  f.subject_type = hit.subject_type;
  f.subject = hit.subject;
  f.severity = s.severity.value_or(info.severity);
  f.policy_version = policy.version;
  f.policy_id = policy.id;
  f.policy_hash = policy.hash;
  f.identity = hit.identity;
  f.correlation_key = hit.correlation_key;
  for (const EvidenceRef& r : hit.evidence.items()) f.evidence.push_back(r.seq);
  f.evidence_count = hit.evidence.count();
  f.first_seen_ns = hit.evidence.empty() ? 0 : hit.evidence.first_ns();
  f.last_seen_ns = hit.evidence.empty() ? 0 : hit.evidence.last_ns();
  if (!s.owasp.empty() || !s.nist.empty()) {
    f.owasp = s.owasp;
    f.nist = s.nist;
  } else {
    f.owasp.assign(info.owasp.begin(), info.owasp.end());
    f.nist.assign(info.nist.begin(), info.nist.end());
  }
  f.message = hit.message;
  return f;
}

bool SameContent(const Finding& a, const Finding& b) {
  return a.rule_version == b.rule_version && a.severity == b.severity && a.identity == b.identity &&
         a.correlation_key == b.correlation_key && a.evidence == b.evidence &&
         a.evidence_count == b.evidence_count && a.first_seen_ns == b.first_seen_ns &&
         a.last_seen_ns == b.last_seen_ns && a.owasp == b.owasp && a.nist == b.nist &&
         a.message == b.message;
}

namespace {

void Strings(json::JsonWriter& w, const std::vector<std::string>& v) {
  w.BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
}

void OptString(json::JsonWriter& w, std::string_view key, const std::string& v) {
  w.Key(key);
  if (v.empty()) {
    w.Null();
  } else {
    w.String(v);
  }
}

}  // namespace

std::string ToAttributes(const Finding& f) {
  // Keys in RFC 8785 order: the writer checks it.
  json::JsonWriter w = json::JsonWriter::Canonical();
  w.BeginObject();
  w.Key("as_of").String(FormatRfc3339Utc(f.as_of_ns, 9));
  OptString(w, "correlation_key", f.correlation_key);
  w.Key("evidence").BeginArray();
  for (uint64_t s : f.evidence) w.Uint(s);
  w.EndArray();
  w.Key("evidence_count").Uint(f.evidence_count);
  w.Key("evidence_horizon").Uint(f.horizon);
  w.Key("finding_id").String(f.id);
  w.Key("first_seen").String(FormatRfc3339Utc(f.first_seen_ns, 9));
  w.Key("frameworks").BeginObject();
  w.Key("nist");
  Strings(w, f.nist);
  w.Key("owasp");
  Strings(w, f.owasp);
  w.EndObject();
  OptString(w, "identity", f.identity);
  w.Key("last_seen").String(FormatRfc3339Utc(f.last_seen_ns, 9));
  w.Key("message").String(f.message);
  w.Key("policy_hash").String(f.policy_hash);
  w.Key("policy_id").String(f.policy_id);
  w.Key("policy_version").Uint(f.policy_version);
  OptString(w, "resolution", f.resolution);
  w.Key("revision").Uint(f.revision);
  w.Key("rule_id").String(f.rule_id);
  w.Key("rule_version").Uint(f.rule_version);
  w.Key("severity").String(policy::SeverityName(f.severity));
  w.Key("status").String(f.status);
  w.Key("subject").String(f.subject);
  w.Key("subject_type").String(SubjectTypeName(f.subject_type));
  w.Key("title").String(f.title);
  w.EndObject();
  return w.Take();
}

Result<Finding> FromAttributes(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element d;
  auto bad = [](const std::string& what) {
    return DataLossError("finding event attributes: " + what);
  };
  if (json::ParseJson(parser, json, &d) != simdjson::SUCCESS || !d.is_object()) {
    return bad("not a JSON object");
  }
  Finding f;
  auto str = [&](const char* key, std::string* out, bool nullable) -> Status {
    simdjson::dom::element e;
    if (d[key].get(e) != simdjson::SUCCESS) return bad(std::string(key) + " is missing");
    if (nullable && e.is_null()) return OkStatus();
    std::string_view v;
    if (e.get(v) != simdjson::SUCCESS) return bad(std::string(key) + " is not a string");
    *out = std::string(v);
    return OkStatus();
  };
  auto num = [&](const char* key, uint64_t* out) -> Status {
    if (d[key].get(*out) != simdjson::SUCCESS) return bad(std::string(key) + " is not a number");
    return OkStatus();
  };
  auto time = [&](const char* key, int64_t* out) -> Status {
    std::string t;
    NHI_RETURN_IF_ERROR(str(key, &t, false));
    auto parsed = ParseRfc3339(t);
    if (!parsed.ok()) return bad(std::string(key) + ": " + parsed.status().message());
    *out = parsed->unix_nanos;
    return OkStatus();
  };
  std::string subject_type, severity;
  uint64_t n = 0;
  NHI_RETURN_IF_ERROR(str("finding_id", &f.id, false));
  NHI_RETURN_IF_ERROR(str("rule_id", &f.rule_id, false));
  NHI_RETURN_IF_ERROR(num("rule_version", &n));
  f.rule_version = static_cast<uint32_t>(n);
  NHI_RETURN_IF_ERROR(str("title", &f.title, false));
  NHI_RETURN_IF_ERROR(str("subject_type", &subject_type, false));
  auto st = ParseSubjectType(subject_type);
  if (!st) return bad("unknown subject_type " + subject_type);
  f.subject_type = *st;
  NHI_RETURN_IF_ERROR(str("subject", &f.subject, false));
  NHI_RETURN_IF_ERROR(str("status", &f.status, false));
  if (f.status != "open" && f.status != "updated" && f.status != "resolved") {
    return bad("unknown status " + f.status);
  }
  NHI_RETURN_IF_ERROR(str("severity", &severity, false));
  auto sev = policy::ParseSeverity(severity);
  if (!sev) return bad("unknown severity " + severity);
  f.severity = *sev;
  NHI_RETURN_IF_ERROR(num("policy_version", &f.policy_version));
  NHI_RETURN_IF_ERROR(str("policy_id", &f.policy_id, false));
  NHI_RETURN_IF_ERROR(str("policy_hash", &f.policy_hash, false));
  NHI_RETURN_IF_ERROR(str("identity", &f.identity, true));
  NHI_RETURN_IF_ERROR(str("correlation_key", &f.correlation_key, true));
  simdjson::dom::element ev;
  if (d["evidence"].get(ev) != simdjson::SUCCESS || !ev.is_array()) {
    return bad("evidence is not a list");
  }
  for (simdjson::dom::element x : json::ArrayOf(ev)) {
    uint64_t s = 0;
    if (x.get(s) != simdjson::SUCCESS) return bad("evidence item is not a number");
    f.evidence.push_back(s);
  }
  NHI_RETURN_IF_ERROR(num("evidence_count", &f.evidence_count));
  NHI_RETURN_IF_ERROR(num("evidence_horizon", &f.horizon));
  NHI_RETURN_IF_ERROR(time("first_seen", &f.first_seen_ns));
  NHI_RETURN_IF_ERROR(time("last_seen", &f.last_seen_ns));
  NHI_RETURN_IF_ERROR(time("as_of", &f.as_of_ns));
  simdjson::dom::element fw;
  if (d["frameworks"].get(fw) != simdjson::SUCCESS || !fw.is_object()) {
    return bad("frameworks is not an object");
  }
  for (auto [key, out] : {std::pair{"owasp", &f.owasp}, std::pair{"nist", &f.nist}}) {
    simdjson::dom::element a;
    if (fw[key].get(a) != simdjson::SUCCESS || !a.is_array())
      return bad("frameworks." + std::string(key));
    for (simdjson::dom::element x : json::ArrayOf(a)) {
      std::string_view v;
      if (x.get(v) != simdjson::SUCCESS) return bad("frameworks item");
      out->emplace_back(v);
    }
  }
  NHI_RETURN_IF_ERROR(str("message", &f.message, false));
  NHI_RETURN_IF_ERROR(str("resolution", &f.resolution, true));
  NHI_RETURN_IF_ERROR(num("revision", &n));
  f.revision = static_cast<uint32_t>(n);
  return f;
}

store::FindingRow ToRow(const Finding& f, uint64_t seq, int64_t time_ns,
                        const std::optional<store::FindingRow>& previous) {
  store::FindingRow r;
  r.id = f.id;
  r.rule_id = f.rule_id;
  r.rule_version = f.rule_version;
  r.subject_type = std::string(SubjectTypeName(f.subject_type));
  r.subject = f.subject;
  r.status = f.status == "resolved" ? "resolved" : "open";
  r.severity = std::string(policy::SeverityName(f.severity));
  r.policy_version = f.policy_version;
  r.policy_hash = f.policy_hash;
  r.identity_key = f.identity;
  r.correlation_key = f.correlation_key;
  r.first_seen_ns = f.first_seen_ns;
  r.last_seen_ns = f.last_seen_ns;
  r.evidence_count = f.evidence_count;
  r.horizon = f.horizon;
  r.as_of_ns = f.as_of_ns;
  r.revision = f.revision;
  r.seq = seq;
  r.updated_ns = time_ns;
  r.opened_ns = f.status == "updated" && previous ? previous->opened_ns : time_ns;
  if (f.status == "resolved" && previous) r.opened_ns = previous->opened_ns;
  r.doc = ToAttributes(f);
  return r;
}

std::string FindingEventLine(const Finding& f, int64_t time_ns) {
  json::JsonWriter w;
  w.BeginObject();
  w.Key("v").Int(1);
  w.Key("kind").String("finding");
  w.Key("source").BeginObject();
  w.Key("system").String(kFindingSource);
  w.Key("event_id").String("finding/" + f.id + "/" + std::to_string(f.revision));
  w.EndObject();
  w.Key("time").String(FormatRfc3339Utc(time_ns, 9));
  w.Key("actor").BeginObject().Key("id").String(kFindingSource).Key("type").String("system");
  w.EndObject();
  w.Key("policy").BeginObject();
  w.Key("id").String(f.policy_id);
  w.Key("version").String(std::to_string(f.policy_version));
  w.Key("hash").String(f.policy_hash);
  w.EndObject();
  const std::string& why = f.status == "resolved" ? f.resolution : f.message;
  if (!why.empty()) w.Key("rationale").String(why.substr(0, 65536));
  w.Key("attributes").Raw(ToAttributes(f));
  w.EndObject();
  return w.Take();
}

}  // namespace nhitrace::reconcile
