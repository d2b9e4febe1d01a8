#include "cases/internal/object_reader.h"

#include "base/time.h"

namespace nhitrace::cases::internal {
namespace {
constexpr uint64_t kMaxExactInteger = uint64_t{1} << 53;
}  // namespace

std::string_view TypeName(const simdjson::dom::element& e) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY:
      return "an array";
    case simdjson::dom::element_type::OBJECT:
      return "an object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      return "a number";
    case simdjson::dom::element_type::STRING:
      return "a string";
    case simdjson::dom::element_type::BOOL:
      return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "a value";
}

Result<ObjectReader> ObjectReader::Of(const simdjson::dom::element& e, std::string path) {
  if (e.type() != simdjson::dom::element_type::OBJECT) {
    return InvalidArgumentError(path + ": must be an object, got " + std::string(TypeName(e)));
  }
  return ObjectReader(json::ObjectOf(e), std::move(path));
}

std::string ObjectReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

Status ObjectReader::Error(std::string_view key, std::string_view reason) const {
  return InvalidArgumentError(PathOf(key) + ": " + std::string(reason));
}

std::optional<simdjson::dom::element> ObjectReader::Get(std::string_view key) {
  simdjson::dom::element e;
  if (obj_.at_key(key).get(e) != simdjson::SUCCESS) return std::nullopt;
  read_.emplace(key);
  return e;
}

bool ObjectReader::Has(std::string_view key) const {
  simdjson::dom::element e;
  return obj_.at_key(key).get(e) == simdjson::SUCCESS;
}

Status ObjectReader::String(std::string_view key, std::string* out, bool required) {
  auto e = Get(key);
  if (!e) return required ? Error(key, "required") : OkStatus();
  std::string_view s;
  if (e->get_string().get(s) != simdjson::SUCCESS) {
    return Error(key, "must be a string, got " + std::string(TypeName(*e)));
  }
  if (s.empty()) return Error(key, "must not be empty");
  *out = std::string(s);
  return OkStatus();
}

Status ObjectReader::Uint(std::string_view key, uint64_t* out, bool required) {
  auto e = Get(key);
  if (!e) return required ? Error(key, "required") : OkStatus();
  uint64_t v = 0;
  if (e->get_uint64().get(v) == simdjson::SUCCESS) {
    // Past 2^53 canonical JSON cannot write the integer back exactly.
    if (v > kMaxExactInteger) return Error(key, "must be at most 2^53");
  } else {
    double d = 0;
    // Canonical JSON writes integers as doubles; accept an integral double within 2^53.
    if (e->get_double().get(d) != simdjson::SUCCESS || d < 0 || d > 9007199254740992.0 ||
        d != static_cast<double>(static_cast<uint64_t>(d))) {
      return Error(key, "must be a non-negative integer, got " + std::string(TypeName(*e)));
    }
    v = static_cast<uint64_t>(d);
  }
  *out = v;
  return OkStatus();
}

Status ObjectReader::Uint32(std::string_view key, uint32_t* out, bool required) {
  uint64_t v = *out;
  NHI_RETURN_IF_ERROR(Uint(key, &v, required));
  if (v > UINT32_MAX) return Error(key, "must be at most 4294967295");
  *out = static_cast<uint32_t>(v);
  return OkStatus();
}

Status ObjectReader::OptUint(std::string_view key, std::optional<uint64_t>* out) {
  if (!Has(key)) return OkStatus();
  uint64_t v = 0;
  NHI_RETURN_IF_ERROR(Uint(key, &v, true));
  *out = v;
  return OkStatus();
}

Status ObjectReader::Bool(std::string_view key, bool* out, bool required) {
  auto e = Get(key);
  if (!e) return required ? Error(key, "required") : OkStatus();
  bool v = false;
  if (e->get_bool().get(v) != simdjson::SUCCESS) {
    return Error(key, "must be true or false, got " + std::string(TypeName(*e)));
  }
  *out = v;
  return OkStatus();
}

Status ObjectReader::Time(std::string_view key, int64_t* out, bool required) {
  std::string s;
  NHI_RETURN_IF_ERROR(String(key, &s, required));
  if (s.empty()) return OkStatus();
  auto t = ParseRfc3339(s);
  if (!t.ok()) return Error(key, t.status().message());
  *out = t->unix_nanos;
  return OkStatus();
}

Status ObjectReader::OptTime(std::string_view key, std::optional<int64_t>* out) {
  if (!Has(key)) return OkStatus();
  int64_t v = 0;
  NHI_RETURN_IF_ERROR(Time(key, &v, true));
  *out = v;
  return OkStatus();
}

Status ObjectReader::Strings(std::string_view key, std::vector<std::string>* out, bool required) {
  auto e = Get(key);
  if (!e) return required ? Error(key, "required") : OkStatus();
  if (e->type() != simdjson::dom::element_type::ARRAY) {
    return Error(key, "must be an array of strings, got " + std::string(TypeName(*e)));
  }
  out->clear();
  size_t i = 0;
  for (simdjson::dom::element item : json::ArrayOf(*e)) {
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS || s.empty()) {
      return Error(std::string(key) + "[" + std::to_string(i) + "]", "must be a non-empty string");
    }
    out->emplace_back(s);
    ++i;
  }
  return OkStatus();
}

Status ObjectReader::Uints(std::string_view key, std::vector<uint64_t>* out, bool required) {
  auto e = Get(key);
  if (!e) return required ? Error(key, "required") : OkStatus();
  if (e->type() != simdjson::dom::element_type::ARRAY) {
    return Error(key, "must be an array of integers, got " + std::string(TypeName(*e)));
  }
  out->clear();
  size_t i = 0;
  for (simdjson::dom::element item : json::ArrayOf(*e)) {
    uint64_t v = 0;
    if (item.get_uint64().get(v) == simdjson::SUCCESS) {
      if (v > kMaxExactInteger) {
        return Error(std::string(key) + "[" + std::to_string(i) + "]", "must be at most 2^53");
      }
    } else {
      double d = 0;
      if (item.get_double().get(d) != simdjson::SUCCESS || d < 0 || d > 9007199254740992.0 ||
          d != static_cast<double>(static_cast<uint64_t>(d))) {
        return Error(std::string(key) + "[" + std::to_string(i) + "]",
                     "must be a non-negative integer");
      }
      v = static_cast<uint64_t>(d);
    }
    out->push_back(v);
    ++i;
  }
  return OkStatus();
}

Result<std::optional<ObjectReader>> ObjectReader::Object(std::string_view key) {
  auto e = Get(key);
  if (!e) return std::optional<ObjectReader>();
  NHI_ASSIGN_OR_RETURN(ObjectReader r, Of(*e, PathOf(key)));
  return std::optional<ObjectReader>(std::move(r));
}

std::vector<std::pair<std::string, simdjson::dom::element>> ObjectReader::Members() {
  std::vector<std::pair<std::string, simdjson::dom::element>> out;
  for (auto kv : obj_) {
    read_.emplace(kv.key);
    out.emplace_back(std::string(kv.key), kv.value);
  }
  return out;
}

Status ObjectReader::CheckNoUnknown() const {
  for (auto kv : obj_) {
    if (read_.find(kv.key) == read_.end()) return Error(kv.key, "unknown member");
  }
  return OkStatus();
}

}  // namespace nhitrace::cases::internal
