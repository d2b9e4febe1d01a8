#include "ingest/internal/record_fields.h"

#include <cmath>

#include "base/time.h"
#include "event/codec.h"
#include "json/canonical.h"
#include "json/dom.h"
#include "json/field_errors.h"

namespace nhitrace::ingest::record_fields {

using simdjson::dom::element_type;

Status FieldError(std::string_view path, std::string_view reason) {
  std::string m(path.empty() ? std::string_view("record") : path);
  m += ": ";
  m += reason;
  return InvalidArgumentError(std::move(m));
}

std::string Join(std::string_view prefix, std::string_view name) {
  std::string p(prefix);
  if (!p.empty()) p += '.';
  p += name;
  return p;
}

std::string_view TypeName(const element& e) { return json::TypeName(e.type()); }

Status WrongType(std::string_view path, const element& e, std::string_view want) {
  std::string r = "must be ";
  r += want;
  r += ", got ";
  r += TypeName(e);
  return FieldError(path, r);
}

std::optional<element> Member(const element& obj, std::string_view key) {
  if (obj.type() != element_type::OBJECT) return std::nullopt;
  element v;
  if (json::ObjectOf(obj).at_key(key).get(v) != simdjson::SUCCESS) return std::nullopt;
  if (v.type() == element_type::NULL_VALUE) return std::nullopt;
  return v;
}

Result<std::string_view> OptionalString(const element& obj, std::string_view key,
                                        std::string_view prefix) {
  std::optional<element> v = Member(obj, key);
  if (!v) return std::string_view();
  if (v->type() != element_type::STRING) return WrongType(Join(prefix, key), *v, "a string");
  return v->get_string().value_unsafe();
}

Result<std::string_view> RequiredString(const element& obj, std::string_view key,
                                        std::string_view prefix) {
  std::optional<element> v = Member(obj, key);
  if (!v) return FieldError(Join(prefix, key), "required field is missing");
  if (v->type() != element_type::STRING) return WrongType(Join(prefix, key), *v, "a string");
  std::string_view s = v->get_string().value_unsafe();
  if (s.empty()) return FieldError(Join(prefix, key), "must not be empty");
  return s;
}

Result<std::optional<element>> OptionalObject(const element& obj, std::string_view key,
                                              std::string_view prefix) {
  std::optional<element> v = Member(obj, key);
  if (v && v->type() != element_type::OBJECT) {
    return WrongType(Join(prefix, key), *v, "an object");
  }
  return v;
}

Result<std::optional<int64_t>> OptionalInt(const element& obj, std::string_view key,
                                           std::string_view prefix) {
  std::optional<element> v = Member(obj, key);
  if (!v) return std::optional<int64_t>();
  switch (v->type()) {
    case element_type::INT64:
      return std::optional<int64_t>(v->get_int64().value_unsafe());
    case element_type::UINT64:
      return FieldError(Join(prefix, key), "integer out of range");
    case element_type::DOUBLE: {
      double d = v->get_double().value_unsafe();
      // 2^63 is exactly representable; anything at or beyond it does not fit.
      if (std::trunc(d) != d || d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
        return FieldError(Join(prefix, key), "must be an integer");
      }
      return std::optional<int64_t>(static_cast<int64_t>(d));
    }
    default:
      return WrongType(Join(prefix, key), *v, "an integer");
  }
}

Result<std::vector<std::string_view>> OptionalStringList(const element& obj, std::string_view key,
                                                         std::string_view prefix) {
  std::vector<std::string_view> out;
  std::optional<element> v = Member(obj, key);
  if (!v) return out;
  std::string path = Join(prefix, key);
  if (v->type() != element_type::ARRAY) return WrongType(path, *v, "an array of strings");
  size_t i = 0;
  for (element item : json::ArrayOf(*v)) {
    if (item.type() != element_type::STRING) {
      return WrongType(path + "[" + std::to_string(i) + "]", item, "a string");
    }
    out.push_back(item.get_string().value_unsafe());
    ++i;
  }
  return out;
}

std::string_view IdentifierProblem(std::string_view s) {
  if (s.empty()) return "must not be empty";
  if (s.size() > event::kMaxKeyBytes) return "longer than 1024 bytes";
  for (size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    auto next = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    bool c1 = u == 0xC2 && next >= 0x80 && next <= 0x9F;  // U+0080-U+009F
    bool separator = u == 0xE2 && next == 0x80 && i + 2 < s.size() &&
                     (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                      static_cast<unsigned char>(s[i + 2]) == 0xA9);  // U+2028, U+2029
    if (u < 0x20 || u == 0x7F || c1 || separator) {
      return "contains a control character or line separator";
    }
  }
  if (s.front() == ' ' || s.back() == ' ') return "starts or ends with a space";
  return {};
}

Status CheckIdentifier(std::string_view path, std::string_view value, std::string_view what) {
  std::string_view problem = IdentifierProblem(value);
  if (problem.empty()) return OkStatus();
  std::string reason(problem);
  reason += " (cannot be ";
  reason += what;
  reason += ")";
  return FieldError(path, reason);
}

std::string ClipText(std::string_view s) {
  if (s.size() <= event::kMaxTextBytes) return std::string(s);
  size_t n = event::kMaxTextBytes;
  // Back up over continuation bytes (10xxxxxx) so the cut falls before a lead byte.
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

Status SetTime(std::string_view path, std::string_view value, event::Event* e) {
  if (std::string_view p = IdentifierProblem(value); !p.empty()) return FieldError(path, p);
  auto t = ParseRfc3339(value);
  if (!t.ok()) return FieldError(path, t.status().message());
  e->time.assign(value);
  e->time_ns = t->unix_nanos;
  return OkStatus();
}

std::optional<int64_t> WindowBound(std::string_view value) {
  if (!IsIdentifier(value)) return std::nullopt;
  auto t = ParseRfc3339(value, /*saturate=*/true);
  if (!t.ok()) return std::nullopt;
  return t->unix_nanos;
}

void AddUnique(std::vector<std::string>* list, std::string value) {
  if (!IsIdentifier(value)) return;
  for (const auto& v : *list) {
    if (v == value) return;
  }
  list->push_back(std::move(value));
}

void Attributes::String(std::string_view name, std::string_view value) {
  if (value.empty()) return;
  std::string v;
  json::AppendCanonicalString(value, &v);
  members_.insert_or_assign(std::string(name), std::move(v));
}

void Attributes::Strings(std::string_view name, const std::vector<std::string_view>& values) {
  if (values.empty()) return;
  std::string v = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) v += ',';
    json::AppendCanonicalString(values[i], &v);
  }
  v += ']';
  members_.insert_or_assign(std::string(name), std::move(v));
}

std::string Attributes::Build() const {
  if (members_.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : members_) {
    if (!first) out += ',';
    first = false;
    json::AppendCanonicalString(name, &out);
    out += ':';
    out += value;
  }
  out += '}';
  return out;
}

}  // namespace nhitrace::ingest::record_fields
