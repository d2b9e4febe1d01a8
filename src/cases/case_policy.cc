#include "cases/case_policy.h"

#include <algorithm>
#include <charconv>

#include "base/time.h"
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
constexpr int64_t kMaxDuration = 36500 * kDay;  // 100 years of 365 days, as policy durations

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

Status CheckKindKey(const std::string& key, const std::string& path) {
  if (key == "default" || ParseCaseKind(key)) return OkStatus();
  return InvalidArgumentError(path + ": unknown case kind \"" + key + "\" (one of default, " +
                              NameList(kAllCaseKinds, CaseKindName) + ", or " +
                              "require_policy_for_decisions, exception_max_duration, findings)");
}

Result<SlaDurations> ReadSlaPair(const simdjson::dom::element& e, const std::string& path) {
  NHI_ASSIGN_OR_RETURN(ObjectReader d, ObjectReader::Of(e, path));
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
  return out;
}

// sla: {respond, resolve} for every severity, or {<severity>: {respond, resolve}, ...}.
Result<KindPolicy::Sla> ReadSla(const simdjson::dom::element& e, const std::string& path) {
  NHI_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(e, path));
  KindPolicy::Sla sla;
  if (r.Has("respond") || r.Has("resolve")) {
    NHI_ASSIGN_OR_RETURN(sla.all, ReadSlaPair(e, path));
    return sla;
  }
  for (auto& [name, value] : r.Members()) {
    std::string spath = r.PathOf(name);
    auto sev = ParseSeverity(name);
    if (!sev) {
      return InvalidArgumentError(spath + ": unknown member (give respond and resolve, or one " +
                                  "entry per severity: " + NameList(kAllSeverities, SeverityName) +
                                  ")");
    }
    NHI_ASSIGN_OR_RETURN(sla.by_severity[*sev], ReadSlaPair(value, spath));
  }
  return sla;
}

// escalation: "<path>" for every severity, or {<severity> | default: "<path>"}.
Result<KindPolicy::Escalation> ReadEscalationChoice(const simdjson::dom::element& e,
                                                    const std::string& path) {
  KindPolicy::Escalation out;
  std::string_view s;
  if (e.get_string().get(s) == simdjson::SUCCESS) {
    if (s.empty()) return InvalidArgumentError(path + ": must not be empty");
    out.all = std::string(s);
    return out;
  }
  NHI_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(e, path));
  for (auto& [name, value] : r.Members()) {
    std::string spath = r.PathOf(name);
    std::string_view v;
    if (value.get_string().get(v) != simdjson::SUCCESS || v.empty()) {
      return InvalidArgumentError(spath + ": must be the name of an escalation path");
    }
    if (name == "default") {
      out.all = std::string(v);
    } else if (auto sev = ParseSeverity(name)) {
      out.by_severity[*sev] = std::string(v);
    } else {
      return InvalidArgumentError(spath + ": unknown severity (one of default, " +
                                  NameList(kAllSeverities, SeverityName) + ")");
    }
  }
  return out;
}

Result<std::vector<std::string>> ReadCriteria(ObjectReader& r, std::string_view key) {
  std::vector<std::string> ids;
  NHI_RETURN_IF_ERROR(r.Strings(key, &ids, true));
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!IsCriterionId(ids[i])) {
      std::string known;
      for (auto c : kCriterionIds) known += (known.empty() ? "" : ", ") + std::string(c);
      return InvalidArgumentError(r.PathOf(key) + "[" + std::to_string(i) +
                                  "]: unknown criterion \"" + ids[i] + "\" (one of " + known + ")");
    }
  }
  return ids;
}

Result<KindPolicy> ReadKind(const simdjson::dom::element& e, const std::string& path) {
  NHI_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(e, path));
  KindPolicy k;
  if (auto v = r.Get("sla")) {
    NHI_ASSIGN_OR_RETURN(k.sla, ReadSla(*v, r.PathOf("sla")));
  }
  if (auto v = r.Get("escalation")) {
    NHI_ASSIGN_OR_RETURN(k.escalation, ReadEscalationChoice(*v, r.PathOf("escalation")));
  }
  if (r.Has("closure")) {
    NHI_ASSIGN_OR_RETURN(k.closure, ReadCriteria(r, "closure"));
  }
  NHI_ASSIGN_OR_RETURN(auto by_res, r.Object("closure_by_resolution"));
  if (by_res) {
    for (auto& [name, value] : by_res->Members()) {
      (void)value;
      auto res = ParseResolution(name);
      if (!res) {
        return InvalidArgumentError(by_res->PathOf(name) + ": unknown resolution (one of " +
                                    NameList(kAllResolutions, ResolutionName) + ")");
      }
      NHI_ASSIGN_OR_RETURN(k.closure_by_resolution[*res], ReadCriteria(*by_res, name));
    }
  }
  if (auto v = r.Get("verification_window")) {
    NHI_ASSIGN_OR_RETURN(int64_t ns, DurationOf(*v, r.PathOf("verification_window")));
    k.verification_window_ns = ns;
  }
  NHI_RETURN_IF_ERROR(r.CheckNoUnknown());
  return k;
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

// `cases:` onto `p` (over its defaults).
Status ParseCasesSection(std::string_view cases_json, CasePolicy* p) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = json::ParseJson(parser, cases_json, &root)) {
    return InvalidArgumentError(std::string("cases: not valid JSON (") +
                                simdjson::error_message(err) + ")");
  }
  NHI_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(root, "cases"));
  for (auto& [key, value] : r.Members()) {
    std::string path = r.PathOf(key);
    if (key == "require_policy_for_decisions") {
      if (value.get_bool().get(p->require_policy_for_decisions) != simdjson::SUCCESS) {
        return InvalidArgumentError(path + ": must be true or false");
      }
    } else if (key == "exception_max_duration") {
      NHI_ASSIGN_OR_RETURN(p->exception_max_ns, DurationOf(value, path));
    } else if (key == "findings") {
      ObjectReader section(json::ObjectOf(root), "cases");
      NHI_RETURN_IF_ERROR(ParseFindings(section, p));
    } else {
      NHI_RETURN_IF_ERROR(CheckKindKey(key, path));
      NHI_ASSIGN_OR_RETURN(KindPolicy k, ReadKind(value, path));
      KindPolicy& into = p->kinds[key];
      if (k.sla) into.sla = k.sla;
      if (k.escalation) into.escalation = k.escalation;
      if (k.closure) into.closure = k.closure;
      for (auto& [res, ids] : k.closure_by_resolution) into.closure_by_resolution[res] = ids;
      if (k.verification_window_ns) into.verification_window_ns = k.verification_window_ns;
    }
  }
  return OkStatus();
}

// `escalation:` (its `paths`; `findings` belongs to the reconcile module).
Status ParseEscalationSection(std::string_view escalation_json, CasePolicy* p) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = json::ParseJson(parser, escalation_json, &root)) {
    return InvalidArgumentError(std::string("escalation: not valid JSON (") +
                                simdjson::error_message(err) + ")");
  }
  NHI_ASSIGN_OR_RETURN(ObjectReader r, ObjectReader::Of(root, "escalation"));
  r.Get("findings");
  NHI_ASSIGN_OR_RETURN(auto paths, r.Object("paths"));
  NHI_RETURN_IF_ERROR(r.CheckNoUnknown());
  if (!paths) return OkStatus();
  for (auto& [name, value] : paths->Members()) {
    std::string path = paths->PathOf(name);
    if (value.type() != simdjson::dom::element_type::ARRAY) {
      return InvalidArgumentError(path + ": must be a list of {after, to}, got " +
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
    p->paths[name] = std::move(levels);
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
  KindPolicy& d = p.kinds["default"];
  d.sla = KindPolicy::Sla{std::nullopt,
                          {{Severity::kCritical, {1 * kHour, 1 * kDay}},
                           {Severity::kHigh, {4 * kHour, 3 * kDay}},
                           {Severity::kMedium, {1 * kDay, 14 * kDay}},
                           {Severity::kLow, {3 * kDay, 30 * kDay}}}};
  d.closure = {"owner_assigned", "decision_recorded", "tasks_done"};
  d.closure_by_resolution = {
      {Resolution::kFalsePositive, {"owner_assigned"}},
      {Resolution::kDuplicate, {"owner_assigned"}},
      {Resolution::kRiskAccepted, {"owner_assigned", "risk_accepted"}},
      {Resolution::kExceptionGranted, {"owner_assigned", "exception_active"}}};
  d.verification_window_ns = 3 * kDay;
  p.kinds["incident"].closure = std::vector<std::string>{"owner_assigned",
                                                         "decision_recorded",
                                                         "tasks_done",
                                                         "identity_linked",
                                                         "credential_revoked_or_rotated",
                                                         "no_use_after_revocation"};
  p.kinds["offboarding"].closure =
      std::vector<std::string>{"owner_assigned", "tasks_done", "identity_linked",
                               "credential_revoked_or_rotated", "no_use_after_revocation"};
  p.kinds["support"].closure = std::vector<std::string>{"owner_assigned", "support_trail",
                                                        "verification_passed", "tasks_done"};
  p.exception_max_ns = 90 * kDay;
  return p;
}

SlaDurations CasePolicy::SlaFor(CaseKind kind, Severity severity) const {
  for (std::string key : {std::string(CaseKindName(kind)), std::string("default")}) {
    auto it = kinds.find(key);
    if (it == kinds.end() || !it->second.sla) continue;
    const KindPolicy::Sla& sla = *it->second.sla;
    auto s = sla.by_severity.find(severity);
    if (s != sla.by_severity.end()) return s->second;
    if (sla.all) return *sla.all;
  }
  return {};
}

std::vector<std::string> CasePolicy::ClosureFor(CaseKind kind, Resolution resolution) const {
  const std::string keys[] = {std::string(CaseKindName(kind)), "default"};
  for (const std::string& key : keys) {
    auto it = kinds.find(key);
    if (it == kinds.end()) continue;
    auto r = it->second.closure_by_resolution.find(resolution);
    if (r != it->second.closure_by_resolution.end()) return r->second;
  }
  for (const std::string& key : keys) {
    auto it = kinds.find(key);
    if (it != kinds.end() && it->second.closure) return *it->second.closure;
  }
  return {};
}

int64_t CasePolicy::VerificationWindowFor(CaseKind kind) const {
  for (std::string key : {std::string(CaseKindName(kind)), std::string("default")}) {
    auto it = kinds.find(key);
    if (it != kinds.end() && it->second.verification_window_ns) {
      return *it->second.verification_window_ns;
    }
  }
  return 0;
}

std::vector<EscalationLevel> CasePolicy::EscalationFor(CaseKind kind, Severity severity) const {
  for (std::string key : {std::string(CaseKindName(kind)), std::string("default")}) {
    auto it = kinds.find(key);
    if (it == kinds.end() || !it->second.escalation) continue;
    const KindPolicy::Escalation& e = *it->second.escalation;
    auto s = e.by_severity.find(severity);
    std::string name = s != e.by_severity.end() ? s->second : e.all;
    if (name.empty()) continue;
    auto p = paths.find(name);
    return p == paths.end() ? std::vector<EscalationLevel>() : p->second;
  }
  return {};
}

bool PolicyContext::IsControlOwner(std::string_view person) const {
  return std::find(control_owners.begin(), control_owners.end(), person) != control_owners.end();
}

Result<int64_t> ParseTimeOrOffset(std::string_view what, std::string_view text, int64_t now_ns) {
  if (!text.empty() && text[0] == '+') {
    auto d = ParseDuration(text.substr(1));
    if (!d.ok()) return InvalidArgumentError(std::string(what) + ": " + d.status().message());
    return now_ns + *d;
  }
  auto t = ParseRfc3339(text);
  if (!t.ok()) {
    return InvalidArgumentError(std::string(what) + ": " + t.status().message() +
                                " (or +DURATION from now, e.g. +7d)");
  }
  return t->unix_nanos;
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
  for (U u : {U{kDay, 'd'}, U{kHour, 'h'}, U{kMinute, 'm'}, U{kSecond, 's'}}) {
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
  if (!cases_json.empty()) NHI_RETURN_IF_ERROR(ParseCasesSection(cases_json, &p));
  if (!escalation_json.empty()) NHI_RETURN_IF_ERROR(ParseEscalationSection(escalation_json, &p));
  // Every path the cases section names must exist.
  for (const auto& [kind, k] : p.kinds) {
    if (!k.escalation) continue;
    std::vector<std::pair<std::string, std::string>> names;
    if (!k.escalation->all.empty()) names.emplace_back("", k.escalation->all);
    for (const auto& [sev, name] : k.escalation->by_severity) {
      std::string suffix = ".";  // (appended, not "." + ...: GCC 12 -O3 warns falsely on that)
      suffix.append(SeverityName(sev));
      names.emplace_back(std::move(suffix), name);
    }
    for (const auto& [suffix, name] : names) {
      if (name == "none" || p.paths.count(name)) continue;
      std::string known;
      for (const auto& [n, levels] : p.paths) known += (known.empty() ? "" : ", ") + n;
      return InvalidArgumentError("cases." + kind + ".escalation" + suffix +
                                  ": unknown escalation path \"" + name + "\" (escalation.paths " +
                                  (known.empty() ? std::string("defines none") : "has " + known) +
                                  ")");
    }
  }
  return p;
}

Status ValidateCasesSection(std::string_view cases_json) {
  CasePolicy p = CasePolicy::Defaults();
  return ParseCasesSection(cases_json, &p);
}

}  // namespace nhitrace::cases
