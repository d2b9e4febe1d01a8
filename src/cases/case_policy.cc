#include "cases/case_policy.h"

#include <algorithm>
#include <charconv>

#include "cases/internal/object_reader.h"

namespace nhitrace::cases {
namespace {

using internal::ObjectReader;
using internal::TypeName;

constexpr int64_t kSecond = 1000000000LL;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kWeek = 7 * kDay;
constexpr int64_t kMaxDuration = 36525 * kDay;  // 100 years

Result<int64_t> DurationOf(const simdjson::dom::element& e, const std::string& path) {
  if (e.type() == simdjson::dom::element_type::STRING) {
    auto d = ParseDuration(std::string_view(e.get_string().value_unsafe()));
    if (!d.ok()) return InvalidArgumentError(path + ": " + d.status().message());
    return *d;
  }
  uint64_t secs = 0;
  if (e.get_uint64().get(secs) == simdjson::SUCCESS) {
    if (secs > static_cast<uint64_t>(kMaxDuration / kSecond)) {
      return InvalidArgumentError(path + ": longer than 100 years");
    }
    return static_cast<int64_t>(secs) * kSecond;
  }
  return InvalidArgumentError(path + ": must be a duration (\"4h\", \"7d\") or seconds, got " +
                              std::string(TypeName(e)));
}

// Keys of the per-kind tables: "default" or a case kind.
Status CheckKindKey(const std::string& key, const std::string& path) {
  if (key == "default" || ParseCaseKind(key)) return OkStatus();
  return InvalidArgumentError(path + ": unknown case kind \"" + key + "\" (one of default, " +
                              NameList(kAllCaseKinds, CaseKindName) + ")");
}

Status ParseSla(ObjectReader& section, CasePolicy* p) {
  auto sla = section.Object("sla");
  if (!sla.ok()) return sla.status();
  if (!*sla) return OkStatus();
  p->sla.clear();
  for (auto& [kind, value] : (*sla)->Members()) {
    std::string kpath = (*sla)->PathOf(kind);
    NHI_RETURN_IF_ERROR(CheckKindKey(kind, kpath));
    NHI_ASSIGN_OR_RETURN(ObjectReader by_sev, ObjectReader::Of(value, kpath));
    auto& table = p->sla[kind];
    for (auto& [sev_name, durations] : by_sev.Members()) {
      std::string spath = by_sev.PathOf(sev_name);
      auto sev = ParseSeverity(sev_name);
      if (!sev) {
        return InvalidArgumentError(spath + ": unknown severity (one of " +
                                    NameList(kAllSeverities, SeverityName) + ")");
      }
      NHI_ASSIGN_OR_RETURN(ObjectReader d, ObjectReader::Of(durations, spath));
      SlaDurations out;
      if (auto r = d.Get("respond")) {
        NHI_ASSIGN_OR_RETURN(int64_t ns, DurationOf(*r, d.PathOf("respond")));
        out.respond_ns = ns;
      }
      if (auto r = d.Get("resolve")) {
        NHI_ASSIGN_OR_RETURN(int64_t ns, DurationOf(*r, d.PathOf("resolve")));
        out.resolve_ns = ns;
      }
      NHI_RETURN_IF_ERROR(d.CheckNoUnknown());
      table[*sev] = out;
    }
  }
  return OkStatus();
}

Status ParseClosure(ObjectReader& section, CasePolicy* p) {
  auto closure = section.Object("closure");
  if (!closure.ok()) return closure.status();
  if (!*closure) return OkStatus();
  p->closure.clear();
  for (auto& [key, value] : (*closure)->Members()) {
    std::string path = (*closure)->PathOf(key);
    size_t slash = key.find('/');
    NHI_RETURN_IF_ERROR(CheckKindKey(key.substr(0, slash), path));
    if (slash != std::string::npos && !ParseResolution(key.substr(slash + 1))) {
      return InvalidArgumentError(path + ": unknown resolution \"" + key.substr(slash + 1) +
                                  "\" (one of " + NameList(kAllResolutions, ResolutionName) + ")");
    }
    std::vector<std::string> ids;
    NHI_RETURN_IF_ERROR((*closure)->Strings(key, &ids, true));
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!IsCriterionId(ids[i])) {
        std::string known;
        for (auto c : kCriterionIds) known += (known.empty() ? "" : ", ") + std::string(c);
        return InvalidArgumentError(path + "[" + std::to_string(i) + "]: unknown criterion \"" +
                                    ids[i] + "\" (one of " + known + ")");
      }
    }
    p->closure[key] = std::move(ids);
  }
  return OkStatus();
}

Status ParseFindings(ObjectReader& section, CasePolicy* p) {
  auto f = section.Object("findings");
  if (!f.ok()) return f.status();
  if (!*f) return OkStatus();
  ObjectReader& r = **f;
  std::string s;
  NHI_RETURN_IF_ERROR(r.String("open_min_severity", &s));
  if (!s.empty()) {
    auto sev = ParseSeverity(s);
    if (!sev) return r.Error("open_min_severity", "unknown severity \"" + s + "\"");
    p->open_min_severity = *sev;
  }
  s.clear();
  NHI_RETURN_IF_ERROR(r.String("join_on", &s));
  if (!s.empty()) {
    if (s == "identity") {
      p->join_on = JoinOn::kIdentity;
    } else if (s == "correlation_key") {
      p->join_on = JoinOn::kCorrelationKey;
    } else if (s == "identity_or_correlation_key") {
      p->join_on = JoinOn::kIdentityOrCorrelationKey;
    } else if (s == "none") {
      p->join_on = JoinOn::kNone;
    } else {
      return r.Error("join_on",
                     "must be identity, correlation_key, identity_or_correlation_key or none");
    }
  }
  s.clear();
  NHI_RETURN_IF_ERROR(r.String("kind", &s));
  if (!s.empty()) {
    auto k = ParseCaseKind(s);
    if (!k) return r.Error("kind", "unknown case kind \"" + s + "\"");
    p->finding_case_kind = *k;
  }
  auto rules = r.Object("rules");
  if (!rules.ok()) return rules.status();
  if (*rules) {
    for (auto& [rule_id, value] : (*rules)->Members()) {
      NHI_ASSIGN_OR_RETURN(ObjectReader rr, ObjectReader::Of(value, (*rules)->PathOf(rule_id)));
      FindingRule fr;
      if (rr.Has("open")) {
        bool open = true;
        NHI_RETURN_IF_ERROR(rr.Bool("open", &open));
        fr.open = open;
      }
      std::string v;
      NHI_RETURN_IF_ERROR(rr.String("kind", &v));
      if (!v.empty()) {
        fr.kind = ParseCaseKind(v);
        if (!fr.kind) return rr.Error("kind", "unknown case kind \"" + v + "\"");
      }
      v.clear();
      NHI_RETURN_IF_ERROR(rr.String("severity", &v));
      if (!v.empty()) {
        fr.severity = ParseSeverity(v);
        if (!fr.severity) return rr.Error("severity", "unknown severity \"" + v + "\"");
      }
      NHI_RETURN_IF_ERROR(rr.CheckNoUnknown());
      p->finding_rules[rule_id] = fr;
    }
  }
  return r.CheckNoUnknown();
}

Status ParseEscalation(const simdjson::dom::element& root, CasePolicy* p) {
  NHI_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(root, "escalation"));
  p->escalation.clear();
  for (auto& [key, value] : r.Members()) {
    std::string path = r.PathOf(key);
    size_t slash = key.find('/');
    NHI_RETURN_IF_ERROR(CheckKindKey(key.substr(0, slash), path));
    if (slash != std::string::npos) {
      if (key.substr(0, slash) == "default") {
        return InvalidArgumentError(path + ": give a severity only after a case kind");
      }
      if (!ParseSeverity(key.substr(slash + 1))) {
        return InvalidArgumentError(path + ": unknown severity \"" + key.substr(slash + 1) +
                                    "\" (one of " + NameList(kAllSeverities, SeverityName) + ")");
      }
    }
    if (value.type() != simdjson::dom::element_type::ARRAY) {
      return InvalidArgumentError(path + ": must be an array of {after, to}, got " +
                                  std::string(TypeName(value)));
    }
    std::vector<EscalationLevel> levels;
    size_t i = 0;
    for (simdjson::dom::element item : json::ArrayOf(value)) {
      std::string ipath = path + "[" + std::to_string(i++) + "]";
      NHI_ASSIGN_OR_RETURN(ObjectReader lr, ObjectReader::Of(item, ipath));
      EscalationLevel level;
      auto after = lr.Get("after");
      if (!after) return lr.Error("after", "required");
      NHI_ASSIGN_OR_RETURN(level.after_ns, DurationOf(*after, lr.PathOf("after")));
      NHI_RETURN_IF_ERROR(lr.String("to", &level.to, true));
      NHI_RETURN_IF_ERROR(lr.CheckNoUnknown());
      if (!levels.empty() && level.after_ns < levels.back().after_ns) {
        return InvalidArgumentError(ipath + ".after: levels must be in order of time");
      }
      levels.push_back(std::move(level));
    }
    p->escalation[key] = std::move(levels);
  }
  return OkStatus();
}

}  // namespace

bool IsCriterionId(std::string_view id) {
  return std::find(std::begin(kCriterionIds), std::end(kCriterionIds), id) !=
         std::end(kCriterionIds);
}

CasePolicy CasePolicy::Defaults() {
  CasePolicy p;
  p.sla["default"] = {{Severity::kCritical, {1 * kHour, 1 * kDay}},
                      {Severity::kHigh, {4 * kHour, 3 * kDay}},
                      {Severity::kMedium, {1 * kDay, 14 * kDay}},
                      {Severity::kLow, {3 * kDay, 30 * kDay}}};
  p.closure["default"] = {"owner_assigned", "decision_recorded", "tasks_done"};
  p.closure["incident"] = {"owner_assigned",
                           "decision_recorded",
                           "tasks_done",
                           "identity_linked",
                           "credential_revoked_or_rotated",
                           "no_use_after_revocation"};
  p.closure["offboarding"] = {"owner_assigned", "tasks_done", "identity_linked",
                              "credential_revoked_or_rotated", "no_use_after_revocation"};
  p.closure["support"] = {"owner_assigned", "support_trail", "verification_passed", "tasks_done"};
  p.closure["default/false_positive"] = {"owner_assigned"};
  p.closure["default/duplicate"] = {"owner_assigned"};
  p.closure["default/risk_accepted"] = {"owner_assigned", "risk_accepted"};
  p.closure["default/exception_granted"] = {"owner_assigned", "exception_active"};
  p.verification_window_ns["default"] = 3 * kDay;
  p.exception_max_ns = 90 * kDay;
  return p;
}

SlaDurations CasePolicy::SlaFor(CaseKind kind, Severity severity) const {
  for (std::string key : {std::string(CaseKindName(kind)), std::string("default")}) {
    auto it = sla.find(key);
    if (it == sla.end()) continue;
    auto s = it->second.find(severity);
    if (s != it->second.end()) return s->second;
  }
  return {};
}

std::vector<std::string> CasePolicy::ClosureFor(CaseKind kind, Resolution resolution) const {
  std::string k(CaseKindName(kind)), r(ResolutionName(resolution));
  for (const std::string& key : {k + "/" + r, "default/" + r, k, std::string("default")}) {
    auto it = closure.find(key);
    if (it != closure.end()) return it->second;
  }
  return {};
}

int64_t CasePolicy::VerificationWindowFor(CaseKind kind) const {
  auto it = verification_window_ns.find(std::string(CaseKindName(kind)));
  if (it == verification_window_ns.end()) it = verification_window_ns.find("default");
  return it == verification_window_ns.end() ? 0 : it->second;
}

std::vector<EscalationLevel> CasePolicy::EscalationFor(CaseKind kind, Severity severity) const {
  std::string k(CaseKindName(kind));
  for (const std::string& key :
       {k + "/" + std::string(SeverityName(severity)), k, std::string("default")}) {
    auto it = escalation.find(key);
    if (it != escalation.end()) return it->second;
  }
  return {};
}

bool CasePolicy::IsControlOwner(std::string_view person) const {
  return std::find(control_owners.begin(), control_owners.end(), person) != control_owners.end();
}

Result<int64_t> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return InvalidArgumentError("not a duration (\"" + std::string(text) +
                                "\"): use e.g. 90s, 15m, 4h, 7d, 2w or 1h30m");
  };
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
    if (ec != std::errc() || ptr == text.data() + i) return bad();
    i = static_cast<size_t>(ptr - text.data());
    if (i >= text.size()) return bad();
    int64_t unit = 0;
    switch (text[i]) {
      case 's':
        unit = kSecond;
        break;
      case 'm':
        unit = kMinute;
        break;
      case 'h':
        unit = kHour;
        break;
      case 'd':
        unit = kDay;
        break;
      case 'w':
        unit = kWeek;
        break;
      default:
        return bad();
    }
    ++i;
    if (n > static_cast<uint64_t>(kMaxDuration / unit) ||
        total > kMaxDuration - static_cast<int64_t>(n) * unit) {
      return InvalidArgumentError("duration \"" + std::string(text) +
                                  "\" is longer than 100 years");
    }
    total += static_cast<int64_t>(n) * unit;
  }
  return total;
}

std::string FormatDuration(int64_t ns) {
  if (ns <= 0) return "0s";
  std::string out;
  struct U {
    int64_t ns;
    char c;
  };
  for (U u : {U{kWeek, 'w'}, U{kDay, 'd'}, U{kHour, 'h'}, U{kMinute, 'm'}, U{kSecond, 's'}}) {
    if (ns >= u.ns) {
      out += std::to_string(ns / u.ns) + u.c;
      ns %= u.ns;
    }
  }
  if (out.empty()) out = "0s";  // sub-second
  return out;
}

Result<CasePolicy> ParseCasePolicy(std::string_view cases_json, std::string_view escalation_json) {
  CasePolicy p = CasePolicy::Defaults();
  simdjson::dom::parser parser;
  if (!cases_json.empty()) {
    simdjson::dom::element root;
    if (auto err = json::ParseJson(parser, cases_json, &root)) {
      return InvalidArgumentError(std::string("cases: not valid JSON (") +
                                  simdjson::error_message(err) + ")");
    }
    NHI_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(root, "cases"));
    NHI_RETURN_IF_ERROR(r.Bool("require_policy_for_decisions", &p.require_policy_for_decisions));
    NHI_RETURN_IF_ERROR(ParseSla(r, &p));
    NHI_RETURN_IF_ERROR(ParseClosure(r, &p));
    if (auto vw = r.Get("verification_window")) {
      p.verification_window_ns.clear();
      if (vw->type() == simdjson::dom::element_type::OBJECT) {
        ObjectReader w(json::ObjectOf(*vw), r.PathOf("verification_window"));
        for (auto& [kind, value] : w.Members()) {
          NHI_RETURN_IF_ERROR(CheckKindKey(kind, w.PathOf(kind)));
          NHI_ASSIGN_OR_RETURN(p.verification_window_ns[kind], DurationOf(value, w.PathOf(kind)));
        }
      } else {
        NHI_ASSIGN_OR_RETURN(p.verification_window_ns["default"],
                             DurationOf(*vw, r.PathOf("verification_window")));
      }
    }
    if (auto m = r.Get("exception_max_duration")) {
      NHI_ASSIGN_OR_RETURN(p.exception_max_ns, DurationOf(*m, r.PathOf("exception_max_duration")));
    }
    NHI_RETURN_IF_ERROR(r.Strings("control_owners", &p.control_owners));
    NHI_RETURN_IF_ERROR(ParseFindings(r, &p));
    NHI_RETURN_IF_ERROR(r.CheckNoUnknown());
  }
  if (!escalation_json.empty()) {
    simdjson::dom::parser eparser;
    simdjson::dom::element root;
    if (auto err = json::ParseJson(eparser, escalation_json, &root)) {
      return InvalidArgumentError(std::string("escalation: not valid JSON (") +
                                  simdjson::error_message(err) + ")");
    }
    NHI_RETURN_IF_ERROR(ParseEscalation(root, &p));
  }
  return p;
}

}  // namespace nhitrace::cases
