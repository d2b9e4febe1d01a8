#include "api/json_body.h"

#include <set>

#include "base/utf8.h"
#include "json/dom.h"

namespace nhitrace::api {

JsonBody::JsonBody()
    : parser_(std::make_unique<simdjson::dom::parser>()),
      root_(std::make_unique<simdjson::dom::element>()) {}
JsonBody::JsonBody(JsonBody&&) noexcept = default;
JsonBody& JsonBody::operator=(JsonBody&&) noexcept = default;
JsonBody::~JsonBody() = default;

Result<JsonBody> JsonBody::Parse(std::string_view text) {
  // (Also keeps a null data pointer of an empty view away from the parser's memcpy: UBSan.)
  if (text.empty()) return InvalidArgumentError("body: empty (expected a JSON object)");
  size_t bad = 0;
  if (!IsValidUtf8(text, &bad)) {
    return InvalidArgumentError("body: invalid UTF-8 at byte " + std::to_string(bad));
  }
  JsonBody b;
  if (auto err = json::ParseJson(*b.parser_, text, b.root_.get())) {
    return InvalidArgumentError(std::string("body: not valid JSON (") +
                                simdjson::error_message(err) + ")");
  }
  if (b.root_->type() != simdjson::dom::element_type::OBJECT) {
    return InvalidArgumentError("body: must be a JSON object");
  }
  return b;
}

const simdjson::dom::element& JsonBody::root() const { return *root_; }

Status JsonBody::Fields(std::initializer_list<std::string_view> known) const {
  std::set<std::string_view> seen;
  for (auto [key, value] : json::ObjectOf(*root_)) {
    (void)value;
    bool ok = false;
    for (std::string_view k : known) ok = ok || k == key;
    if (!ok) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return InvalidArgumentError(std::string(key) + ": unknown field (known: " + list + ")");
    }
    if (!seen.insert(key).second) {
      return InvalidArgumentError(std::string(key) + ": appears more than once");
    }
  }
  return OkStatus();
}

bool JsonBody::Has(std::string_view field) const {
  simdjson::dom::element e;
  return json::ObjectOf(*root_).at_key(field).get(e) == simdjson::SUCCESS;
}

Result<std::optional<std::string>> JsonBody::OptionalString(std::string_view field,
                                                            size_t max_bytes) const {
  simdjson::dom::element e;
  if (json::ObjectOf(*root_).at_key(field).get(e) != simdjson::SUCCESS || e.is_null()) {
    return std::optional<std::string>();
  }
  std::string_view s;
  if (e.get_string().get(s) != simdjson::SUCCESS) {
    return InvalidArgumentError(std::string(field) + ": must be a string");
  }
  if (s.empty()) return InvalidArgumentError(std::string(field) + ": must not be empty");
  if (s.size() > max_bytes) {
    return InvalidArgumentError(std::string(field) + ": longer than " + std::to_string(max_bytes) +
                                " bytes");
  }
  return std::optional<std::string>(std::string(s));
}

Result<std::string> JsonBody::String(std::string_view field, size_t max_bytes) const {
  NHI_ASSIGN_OR_RETURN(auto s, OptionalString(field, max_bytes));
  if (!s) return InvalidArgumentError(std::string(field) + ": required");
  return std::move(*s);
}

Result<std::optional<int64_t>> JsonBody::OptionalInt(std::string_view field) const {
  simdjson::dom::element e;
  if (json::ObjectOf(*root_).at_key(field).get(e) != simdjson::SUCCESS || e.is_null()) {
    return std::optional<int64_t>();
  }
  int64_t v = 0;
  if (e.get_int64().get(v) != simdjson::SUCCESS) {
    return InvalidArgumentError(std::string(field) + ": must be an integer");
  }
  return std::optional<int64_t>(v);
}

Result<std::optional<bool>> JsonBody::OptionalBool(std::string_view field) const {
  simdjson::dom::element e;
  if (json::ObjectOf(*root_).at_key(field).get(e) != simdjson::SUCCESS || e.is_null()) {
    return std::optional<bool>();
  }
  bool v = false;
  if (e.get_bool().get(v) != simdjson::SUCCESS) {
    return InvalidArgumentError(std::string(field) + ": must be true or false");
  }
  return std::optional<bool>(v);
}

Result<std::vector<std::string>> JsonBody::StringArray(std::string_view field, size_t max_items,
                                                       size_t max_bytes) const {
  std::vector<std::string> out;
  simdjson::dom::element e;
  if (json::ObjectOf(*root_).at_key(field).get(e) != simdjson::SUCCESS || e.is_null()) return out;
  simdjson::dom::array a;
  if (e.get_array().get(a) != simdjson::SUCCESS) {
    return InvalidArgumentError(std::string(field) + ": must be an array of strings");
  }
  for (simdjson::dom::element item : a) {
    std::string_view s;
    if (item.get_string().get(s) != simdjson::SUCCESS) {
      return InvalidArgumentError(std::string(field) + ": must be an array of strings");
    }
    if (s.empty() || s.size() > max_bytes) {
      return InvalidArgumentError(std::string(field) + ": each item must have 1 to " +
                                  std::to_string(max_bytes) + " bytes");
    }
    if (out.size() == max_items) {
      return InvalidArgumentError(std::string(field) + ": more than " + std::to_string(max_items) +
                                  " items");
    }
    out.emplace_back(s);
  }
  return out;
}

Result<std::vector<uint64_t>> JsonBody::UintArray(std::string_view field, size_t max_items) const {
  std::vector<uint64_t> out;
  simdjson::dom::element e;
  if (json::ObjectOf(*root_).at_key(field).get(e) != simdjson::SUCCESS || e.is_null()) return out;
  simdjson::dom::array a;
  if (e.get_array().get(a) != simdjson::SUCCESS) {
    return InvalidArgumentError(std::string(field) + ": must be an array of integers");
  }
  for (simdjson::dom::element item : a) {
    uint64_t v = 0;
    if (item.get_uint64().get(v) != simdjson::SUCCESS) {
      return InvalidArgumentError(std::string(field) +
                                  ": must be an array of non-negative integers");
    }
    if (out.size() == max_items) {
      return InvalidArgumentError(std::string(field) + ": more than " + std::to_string(max_items) +
                                  " items");
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace nhitrace::api
