#include "ingest/internal/vendor_json.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "base/encoding.h"
#include "base/time.h"
#include "base/utf8.h"
#include "crypto/sha256.h"
#include "event/codec.h"
#include "json/canonical.h"
#include "json/dom.h"

namespace nhitrace::ingest::internal {
namespace {

using simdjson::dom::element_type;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// "YYYY-MM-DD?HH:MM:SS" followed by nothing or ".digits" (no offset).
bool IsLocalDateTime(std::string_view s) {
  if (s.size() < 19) return false;
  static constexpr std::string_view kShape = "dddd-dd-dd?dd:dd:dd";
  for (size_t i = 0; i < kShape.size(); ++i) {
    char want = kShape[i];
    if (want == 'd') {
      if (!IsDigit(s[i])) return false;
    } else if (want == '?') {
      if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return false;
    } else if (s[i] != want) {
      return false;
    }
  }
  if (s.size() == 19) return true;
  if (s[19] != '.' || s.size() == 20) return false;
  for (size_t i = 20; i < s.size(); ++i) {
    if (!IsDigit(s[i])) return false;
  }
  return true;
}

std::string AsUtcRfc3339(std::string_view local) {
  std::string out(local);
  out[10] = 'T';
  out += 'Z';
  return out;
}

std::string Quoted(std::string_view s) {
  constexpr size_t kShown = 64;
  std::string_view shown = s.substr(0, kShown);
  while (!shown.empty() && !IsValidUtf8(shown)) shown.remove_suffix(1);  // whole characters
  std::string q;
  json::AppendCanonicalString(shown, &q);
  if (shown.size() < s.size()) q.insert(q.size() - 1, "...");
  return q;
}

bool IsText(std::string_view s) { return !s.empty() && s.size() <= event::kMaxTextBytes; }

void KeepIdentifiers(std::vector<std::string>* items) {
  std::vector<std::string> kept;
  for (auto& s : *items) {
    if (IsIdentifier(s) && kept.size() < event::kMaxListItems) kept.push_back(std::move(s));
  }
  *items = std::move(kept);
}

void ClearUnlessIdentifier(std::string* s) {
  if (!s->empty() && !IsIdentifier(*s)) s->clear();
}

// Drops what the schema would reject among the optional descriptive parts of `e`.
void SanitizeOptional(event::Event* e) {
  if (e->actor && (!IsIdentifier(e->actor->id) ||
                   (!e->actor->type.empty() && !event::IsActorType(e->actor->type)))) {
    e->actor.reset();
  }
  if (e->subject) {
    auto& s = *e->subject;
    if (!s.kind.empty() && !event::IsSubjectKind(s.kind)) s.kind.clear();
    for (std::string* f : {&s.kind, &s.name, &s.owner, &s.sponsor, &s.system}) {
      ClearUnlessIdentifier(f);
    }
    if (s == event::Subject{}) e->subject.reset();
  }
  if (e->delegation) {
    auto& d = *e->delegation;
    for (std::string* f : {&d.agent_instance, &d.tool_call, &d.sponsor, &d.credential}) {
      ClearUnlessIdentifier(f);
    }
    if (d == event::Delegation{}) e->delegation.reset();
  }
  if (e->scope) {
    KeepIdentifiers(&e->scope->resources);
    KeepIdentifiers(&e->scope->permissions);
    if (e->scope->resources.empty() && e->scope->permissions.empty()) e->scope.reset();
  }
  if (e->window) {
    auto& w = *e->window;
    if (!w.not_before.empty() && !IsIdentifier(w.not_before)) w.not_before.clear();
    if (!w.not_after.empty() && !IsIdentifier(w.not_after)) w.not_after.clear();
    if (!w.not_before.empty() && !w.not_after.empty() && w.not_after_ns < w.not_before_ns) {
      w.not_before.clear();
      w.not_after.clear();
    }
    if (w.not_before.empty()) w.not_before_ns = 0;
    if (w.not_after.empty()) w.not_after_ns = 0;
    if (w.ttl_seconds && (*w.ttl_seconds < 1 || *w.ttl_seconds > (int64_t{1} << 40))) {
      w.ttl_seconds.reset();
    }
    if (w.not_before.empty() && w.not_after.empty() && !w.ttl_seconds) e->window.reset();
  }
  if (e->outcome) {
    ClearUnlessIdentifier(&e->outcome->code);
    if (!e->outcome->message.empty() && !IsText(e->outcome->message)) e->outcome->message.clear();
  }
  if (!e->rationale.empty() && !IsText(e->rationale)) e->rationale.clear();
  // Aliases: identifiers only, no repeats, not the identity itself.
  std::vector<std::string> aliases;
  std::set<std::string, std::less<>> seen;
  for (auto& a : e->aliases) {
    if (!IsIdentifier(a) || a == e->identity || !seen.insert(a).second) continue;
    if (aliases.size() < event::kMaxListItems) aliases.push_back(std::move(a));
  }
  e->aliases = std::move(aliases);
}

}  // namespace

std::optional<element> Member(const element& obj, std::string_view name) {
  simdjson::dom::object o;
  if (obj.get_object().get(o) != simdjson::SUCCESS) return std::nullopt;
  element v;
  if (o.at_key(name).get(v) != simdjson::SUCCESS &&
      o.at_key_case_insensitive(name).get(v) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  if (v.type() == element_type::NULL_VALUE) return std::nullopt;
  return v;
}

std::optional<element> MemberPath(const element& root,
                                  std::initializer_list<std::string_view> path) {
  std::optional<element> cur = root;
  for (std::string_view name : path) {
    cur = Member(*cur, name);
    if (!cur) return std::nullopt;
  }
  return cur;
}

std::optional<std::string_view> AsString(const std::optional<element>& e) {
  if (!e || e->type() != element_type::STRING) return std::nullopt;
  std::string_view s = e->get_string().value_unsafe();
  if (s.empty()) return std::nullopt;
  return s;
}

std::optional<std::string_view> StringAt(const element& root,
                                         std::initializer_list<std::string_view> path) {
  return AsString(MemberPath(root, path));
}

std::optional<std::string> ScalarText(const std::optional<element>& e) {
  if (!e) return std::nullopt;
  switch (e->type()) {
    case element_type::STRING: {
      auto s = AsString(e);
      if (!s) return std::nullopt;
      return std::string(*s);
    }
    case element_type::INT64:
      return std::to_string(e->get_int64().value_unsafe());
    case element_type::UINT64:
      return std::to_string(e->get_uint64().value_unsafe());
    case element_type::DOUBLE: {
      double d = e->get_double().value_unsafe();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
        return std::to_string(static_cast<int64_t>(d));
      }
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::string> ScalarAt(const element& root,
                                    std::initializer_list<std::string_view> path) {
  return ScalarText(MemberPath(root, path));
}

std::optional<bool> AsBool(const std::optional<element>& e) {
  if (!e) return std::nullopt;
  if (e->type() == element_type::BOOL) return e->get_bool().value_unsafe();
  if (auto s = AsString(e)) {
    if (EqualsIgnoreCase(*s, "true")) return true;
    if (EqualsIgnoreCase(*s, "false")) return false;
  }
  return std::nullopt;
}

std::optional<int64_t> AsInt(const std::optional<element>& e) {
  if (!e) return std::nullopt;
  if (e->type() == element_type::INT64) return e->get_int64().value_unsafe();
  if (e->type() == element_type::UINT64) {
    uint64_t u = e->get_uint64().value_unsafe();
    if (u > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (e->type() == element_type::DOUBLE) {
    double d = e->get_double().value_unsafe();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e18) {
      return static_cast<int64_t>(d);
    }
    return std::nullopt;
  }
  if (auto s = AsString(e)) {
    std::string_view t = *s;
    bool neg = !t.empty() && t.front() == '-';
    if (neg) t.remove_prefix(1);
    if (t.empty() || t.size() > 18) return std::nullopt;
    int64_t v = 0;
    for (char c : t) {
      if (!IsDigit(c)) return std::nullopt;
      v = v * 10 + (c - '0');
    }
    return neg ? -v : v;
  }
  return std::nullopt;
}

std::vector<element> ArrayItems(const std::optional<element>& e) {
  std::vector<element> out;
  if (!e || e->type() != element_type::ARRAY) return out;
  for (element item : json::ArrayOf(*e)) out.push_back(item);
  return out;
}

Result<Timestamp> NormalizeTimestamp(std::string_view s, std::string_view field) {
  auto t = ParseRfc3339(s);
  if (t.ok()) return Timestamp{std::string(s), t->unix_nanos};
  if (IsLocalDateTime(s)) {
    std::string utc = AsUtcRfc3339(s);
    auto u = ParseRfc3339(utc);
    if (u.ok()) return Timestamp{std::move(utc), u->unix_nanos};
    return FieldError(field, u.status().message());
  }
  return FieldError(field, "not an RFC 3339 timestamp: " + Quoted(s));
}

Result<Timestamp> ReadTimestamp(const std::optional<element>& v, std::string_view field,
                                bool epoch_ms) {
  if (!v) return FieldError(field, "missing");
  if (v->type() == element_type::STRING) {
    std::string_view s = v->get_string().value_unsafe();
    if (s.empty()) return FieldError(field, "empty");
    return NormalizeTimestamp(s, field);
  }
  bool number = v->type() == element_type::INT64 || v->type() == element_type::UINT64 ||
                v->type() == element_type::DOUBLE;
  if (number && epoch_ms) {
    auto ms = AsInt(v);
    // Within the range of 64-bit nanoseconds, and not before the epoch (no log is).
    constexpr int64_t kMaxMs = INT64_MAX / 1'000'000;
    if (!ms || *ms < 0 || *ms > kMaxMs) {
      return FieldError(field, "epoch milliseconds out of range");
    }
    int64_t ns = *ms * 1'000'000;
    return Timestamp{FormatRfc3339Utc(ns, 3), ns};
  }
  return FieldError(field, epoch_ms ? "must be a timestamp string or epoch milliseconds"
                                    : "must be a timestamp string");
}

std::optional<Timestamp> WindowBound(std::string_view s) {
  auto t = ParseRfc3339(s, /*saturate=*/true);
  if (t.ok()) return Timestamp{std::string(s), t->unix_nanos};
  if (IsLocalDateTime(s)) {
    std::string utc = AsUtcRfc3339(s);
    auto u = ParseRfc3339(utc, /*saturate=*/true);
    if (u.ok()) return Timestamp{std::move(utc), u->unix_nanos};
  }
  return std::nullopt;
}

std::optional<std::string> FormatUtcSeconds(int64_t seconds, int32_t nanos) {
  // 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
  constexpr int64_t kMin = -62135596800;
  constexpr int64_t kMax = 253402300799;
  if (seconds < kMin || seconds > kMax || nanos < 0 || nanos > 999'999'999) return std::nullopt;
  int64_t days = seconds / 86400;
  int64_t rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // civil_from_days (H. Hinnant).
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld",
                        static_cast<long long>(y), static_cast<long long>(m),
                        static_cast<long long>(d), static_cast<long long>(rem / 3600),
                        static_cast<long long>(rem / 60 % 60), static_cast<long long>(rem % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09d", nanos);
    std::string f(frac);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += 'Z';
  return out;
}

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > event::kMaxKeyBytes) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    auto next = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    bool c1 = u == 0xC2 && next >= 0x80 && next <= 0x9F;
    bool separator = u == 0xE2 && next == 0x80 && i + 2 < s.size() &&
                     (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                      static_cast<unsigned char>(s[i + 2]) == 0xA9);
    if (u < 0x20 || u == 0x7F || c1 || separator) return false;
  }
  return s.front() != ' ' && s.back() != ' ';
}

Status FieldError(std::string_view field, std::string_view reason) {
  std::string m(field);
  m += ": ";
  m += reason;
  return InvalidArgumentError(std::move(m));
}

Result<std::string> ContentId(const element& record) {
  std::string canonical;
  Status s = json::AppendCanonical(record, &canonical);
  if (!s.ok()) return FieldError("record", s.message());
  crypto::Hash h = crypto::Sha256(canonical);
  return "sha256:" + HexEncode(crypto::AsBytes(h).substr(0, 16));
}

void Attributes::String(std::string_view key, std::string_view value) {
  if (value.empty()) return;
  std::string v;
  json::AppendCanonicalString(value, &v);
  members_[std::string(key)] = std::move(v);
}

void Attributes::String(std::string_view key, const std::optional<std::string_view>& value) {
  if (value) String(key, *value);
}

void Attributes::Strings(std::string_view key, const std::vector<std::string>& values) {
  if (values.empty()) return;
  std::string v = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) v += ',';
    json::AppendCanonicalString(values[i], &v);
  }
  v += ']';
  members_[std::string(key)] = std::move(v);
}

void Attributes::Int(std::string_view key, int64_t value) {
  std::string v;
  json::AppendCanonicalInteger(value, &v);
  members_[std::string(key)] = std::move(v);
}

void Attributes::Bool(std::string_view key, bool value) {
  members_[std::string(key)] = value ? "true" : "false";
}

void Attributes::Json(std::string_view key, const std::optional<element>& value) {
  if (!value) return;
  std::string v;
  if (!json::AppendCanonical(*value, &v).ok()) return;
  members_[std::string(key)] = std::move(v);
}

std::string Attributes::Finish() const {
  if (members_.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : members_) {
    if (!first) out += ',';
    first = false;
    json::AppendCanonicalString(k, &out);
    out += ':';
    out += v;
  }
  out += '}';
  return out;
}

Result<MapResult> FinishEvents(std::vector<Draft> drafts, std::string_view source_system,
                               std::string_view record_id, const Timestamp& time,
                               std::string_view ignored_name) {
  MapResult result;
  if (drafts.empty()) {
    result.ignored =
        ignored_name.empty() ? std::string("(unnamed record)") : std::string(ignored_name);
    return result;
  }
  if (!IsIdentifier(record_id)) {
    return FieldError("record id", "not a valid identifier: " + Quoted(record_id));
  }
  std::set<std::string, std::less<>> suffixes;
  for (auto& d : drafts) {
    event::Event& e = d.event;
    e.source_system = std::string(source_system);
    e.time = time.text;
    e.time_ns = time.ns;
    if (drafts.size() == 1) {
      e.source_event_id = std::string(record_id);
    } else {
      std::string suffix = d.suffix.empty() ? std::string("event") : d.suffix;
      std::string unique = suffix;
      for (int n = 2; !suffixes.insert(unique).second; ++n) {
        unique = suffix + "-" + std::to_string(n);
      }
      e.source_event_id = std::string(record_id) + "#" + unique;
    }
    if (!IsIdentifier(e.source_event_id)) {
      return FieldError("record id",
                        "with its suffix not a valid identifier: " + Quoted(e.source_event_id));
    }
    if (!e.identity.empty() && !IsIdentifier(e.identity)) {
      return FieldError("identity", "derived key is not a valid identifier: " + Quoted(e.identity));
    }
    if (!e.correlation_key.empty() && !IsIdentifier(e.correlation_key)) {
      return FieldError("correlation_key",
                        "derived key is not a valid identifier: " + Quoted(e.correlation_key));
    }
    SanitizeOptional(&e);
    result.events.push_back(MappedEvent{std::move(e), std::nullopt});
  }
  return result;
}

std::vector<std::string> SplitList(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view item = s.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = end + 1;
  }
  return out;
}

std::string_view LastSegment(std::string_view s) {
  size_t slash = s.rfind('/');
  return slash == std::string_view::npos ? s : s.substr(slash + 1);
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle) {
  if (needle.empty()) return true;
  if (needle.size() > haystack.size()) return false;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (EqualsIgnoreCase(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

}  // namespace nhitrace::ingest::internal
