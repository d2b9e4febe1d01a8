// Reading vendor records and building native events from them: the pieces every importer
// (src/ingest/<format>/) needs, so that each one only says what maps to what.
//
// Reading: typed access to members of a simdjson DOM object with errors in the importer contract
// form "field.path: reason" (kInvalidArgument), e.g. "request.id: must be a string, got a number".
// An absent member and a JSON null are the same (vendors write both for "none").
//
// Building: the native schema's rules for the strings an event carries (identifiers: 1 to 1024
// bytes, no control characters, no leading or trailing space; text: at most 64 KiB), RFC 3339
// times with the instants the decoder would compute, and canonical `attributes`.
//
//   NHI_ASSIGN_OR_RETURN(std::string_view id, record_fields::RequiredString(req, "id", "request"));
//   record_fields::Attributes attrs;
//   attrs.String("remote_address", addr);
//   e.attributes = attrs.Build();
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "base/status.h"
#include "event/event.h"

namespace nhitrace::ingest::record_fields {

using simdjson::dom::element;

// kInvalidArgument "path: reason".
Status FieldError(std::string_view path, std::string_view reason);

// "prefix.name", or "name" when prefix is empty.
std::string Join(std::string_view prefix, std::string_view name);

// "a string", "an object", "a number", ...
std::string_view TypeName(const element& e);

// "path: must be <want>, got <type of e>".
Status WrongType(std::string_view path, const element& e, std::string_view want);

// The member `key` of `obj`, or nullopt when `obj` is not an object, the member is absent, or it
// is JSON null.
std::optional<element> Member(const element& obj, std::string_view key);

// Optional string member: "" when absent or null; an error when it is another type.
Result<std::string_view> OptionalString(const element& obj, std::string_view key,
                                        std::string_view prefix);

// Required string member: an error when absent, null, empty or another type.
Result<std::string_view> RequiredString(const element& obj, std::string_view key,
                                        std::string_view prefix);

// Optional object member: nullopt when absent or null; an error when another type.
Result<std::optional<element>> OptionalObject(const element& obj, std::string_view key,
                                              std::string_view prefix);

// Optional integer member (an integer literal or a double with an integral value in the int64
// range); nullopt when absent or null.
Result<std::optional<int64_t>> OptionalInt(const element& obj, std::string_view key,
                                           std::string_view prefix);

// Optional array of strings: empty when absent or null; an error naming the first element that
// is not a string.
Result<std::vector<std::string_view>> OptionalStringList(const element& obj, std::string_view key,
                                                         std::string_view prefix);

// Why `s` cannot be a native identifier (empty, longer than event::kMaxKeyBytes, a control or
// line-separator character, a leading or trailing space), or "" when it can.
std::string_view IdentifierProblem(std::string_view s);
inline bool IsIdentifier(std::string_view s) { return IdentifierProblem(s).empty(); }

// OK when `value` is an identifier; else "path: <problem> (cannot be <what>)".
Status CheckIdentifier(std::string_view path, std::string_view value, std::string_view what);

// `s` cut to at most event::kMaxTextBytes on a character boundary (REQUIRES: valid UTF-8).
std::string ClipText(std::string_view s);

// Sets e->time (as written) and e->time_ns. Errors: "path: not an RFC 3339 date-time with offset
// (<why>): \"<value>\"".
Status SetTime(std::string_view path, std::string_view value, event::Event* e);

// A window bound as the decoder reads it: the instant, saturated beyond 64-bit nanoseconds.
// nullopt when `value` is not an RFC 3339 date-time.
std::optional<int64_t> WindowBound(std::string_view value);

// Appends `value` to `list` unless it is empty, not an identifier, or already there.
void AddUnique(std::vector<std::string>* list, std::string value);

// The canonical JSON object for Event::attributes: string and string-list members. Members are
// kept sorted by name; names must be ASCII (byte order is then RFC 8785's UTF-16 order). Setting
// a name twice keeps the last value.
class Attributes {
 public:
  // Each setter skips empty values (an empty string or list says nothing).
  void String(std::string_view name, std::string_view value);  // REQUIRES: valid UTF-8
  void Strings(std::string_view name, const std::vector<std::string_view>& values);

  bool empty() const { return members_.empty(); }
  // "" when there are no members (the same content as no attributes).
  std::string Build() const;

 private:
  std::map<std::string, std::string, std::less<>> members_;  // name -> canonical value
};

}  // namespace nhitrace::ingest::record_fields
