// JsonBody: a strict reader of JSON object request bodies, for route handlers.
//
// Parse rejects what is not one JSON object in valid UTF-8; the accessors reject a missing
// required member, a wrong type, an over-long string, and (Fields) members the route does not
// know or that appear twice. Every error is kInvalidArgument with the message "field: reason",
// which the API sends as 400 {"error":{"code":"invalid_argument",...}}.
//
//   NHI_ASSIGN_OR_RETURN(JsonBody body, JsonBody::Parse(text));
//   NHI_RETURN_IF_ERROR(body.Fields({"name", "role"}));
//   NHI_ASSIGN_OR_RETURN(std::string name, body.String("name", 64));
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace simdjson::dom {
class parser;
class element;
}  // namespace simdjson::dom

namespace nhitrace::api {

class JsonBody {
 public:
  // REQUIRES nothing of `text`: any bytes are rejected cleanly or parsed.
  static Result<JsonBody> Parse(std::string_view text);

  JsonBody(JsonBody&&) noexcept;
  JsonBody& operator=(JsonBody&&) noexcept;
  ~JsonBody();

  // Fails if a member is not in `known` or a member name appears twice.
  Status Fields(std::initializer_list<std::string_view> known) const;

  bool Has(std::string_view field) const;
  // A required string of at most `max_bytes` bytes (empty strings are rejected too).
  Result<std::string> String(std::string_view field, size_t max_bytes) const;
  // The same, or nullopt when the member is absent or null.
  Result<std::optional<std::string>> OptionalString(std::string_view field, size_t max_bytes) const;
  Result<std::optional<int64_t>> OptionalInt(std::string_view field) const;
  Result<std::optional<bool>> OptionalBool(std::string_view field) const;
  // An array of non-empty strings of at most `max_bytes` each, at most `max_items` of them;
  // empty when the member is absent or null.
  Result<std::vector<std::string>> StringArray(std::string_view field, size_t max_items,
                                               size_t max_bytes) const;
  // An array of non-negative integers, at most `max_items`; empty when absent or null.
  Result<std::vector<uint64_t>> UintArray(std::string_view field, size_t max_items) const;

  // The whole document (for handlers that need more than members of scalars).
  const simdjson::dom::element& root() const;

 private:
  JsonBody();
  std::unique_ptr<simdjson::dom::parser> parser_;
  std::unique_ptr<simdjson::dom::element> root_;
};

}  // namespace nhitrace::api
