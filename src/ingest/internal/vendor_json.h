// Helpers shared by the vendor importers (gcp_audit, github_audit, okta, entra): reading members
// of a vendor record, timestamps, record ids, canonical attributes, and finishing the events an
// importer built so that they pass the native decoder's rules.
//
// Vendor records are not ours: members may be missing, of another type, spelled in another case
// (some pipelines lower-case member names), or hold strings that are not valid identifiers
// (a display name with a trailing space). These helpers never fail on such input; they return
// nullopt, and FinishEvents drops optional descriptive values that the schema would reject. Only
// the keys an event cannot exist without (its time, id and identity keys) turn into errors,
// which quarantine the record with a "field: reason" message.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "base/status.h"
#include "event/event.h"
#include "ingest/importer.h"

namespace nhitrace::ingest::internal {

using simdjson::dom::element;

// The member `name` of `obj`: the exact name first, then an ASCII case-insensitive match.
// nullopt when `obj` is not an object or has no such member. A JSON null counts as absent.
std::optional<element> Member(const element& obj, std::string_view name);

// Follows a chain of member names (Member at each step).
std::optional<element> MemberPath(const element& root,
                                  std::initializer_list<std::string_view> path);

// A non-empty string value, or nullopt (absent, null, empty, or not a string).
std::optional<std::string_view> AsString(const std::optional<element>& e);
std::optional<std::string_view> StringAt(const element& root,
                                         std::initializer_list<std::string_view> path);

// A string, or an integer written in decimal (ids such as GitHub's token_id 555555), or a
// double with an integral value; nullopt otherwise.
std::optional<std::string> ScalarText(const std::optional<element>& e);
std::optional<std::string> ScalarAt(const element& root,
                                    std::initializer_list<std::string_view> path);

std::optional<bool> AsBool(const std::optional<element>& e);
std::optional<int64_t> AsInt(const std::optional<element>& e);  // integers; "123" too

// The elements of an array member (empty when absent or not an array).
std::vector<element> ArrayItems(const std::optional<element>& e);

// The source's time for an event: the text written into Event::time and the instant.
struct Timestamp {
  std::string text;
  int64_t ns = 0;
};

// Reads a record timestamp. Accepted:
//   - RFC 3339 with an offset, kept exactly as written;
//   - the same without an offset, with 'T' or a space between date and time
//     ("2025-01-15 14:20:35.456", Panther's and Office 365's form): read as UTC, written as
//     RFC 3339 with 'T' and 'Z';
//   - with `epoch_ms`, a JSON number of milliseconds since the Unix epoch (GitHub's
//     @timestamp): written as RFC 3339 UTC with a millisecond fraction.
// Errors are kInvalidArgument "<field>: <reason>".
Result<Timestamp> ReadTimestamp(const std::optional<element>& v, std::string_view field,
                                bool epoch_ms = false);
Result<Timestamp> NormalizeTimestamp(std::string_view s, std::string_view field);

// A validity-window bound (RFC 3339, or without offset as UTC); instants beyond 64-bit
// nanoseconds are clamped, as the decoder does for window bounds. nullopt if unreadable.
std::optional<Timestamp> WindowBound(std::string_view s);

// RFC 3339 UTC text for whole seconds since the epoch plus nanoseconds, for years 0001-9999
// (protobuf Timestamps such as GCP's {"seconds": 253402300799}); nullopt outside that range.
std::optional<std::string> FormatUtcSeconds(int64_t seconds, int32_t nanos);

// Whether `s` is a valid identifier of the native schema (docs/format/event.md section 2).
bool IsIdentifier(std::string_view s);

// kInvalidArgument "<field>: <reason>".
Status FieldError(std::string_view field, std::string_view reason);

// A record id for records that carry none: "sha256:" and the first 32 hex digits of the
// SHA-256 of the record's RFC 8785 canonical JSON (the same whatever the framing or spacing).
Result<std::string> ContentId(const element& record);

// Builds an attributes object in canonical form. Keys must be ASCII (their byte order is then
// the UTF-16 order RFC 8785 sorts by). Empty strings and empty lists are left out.
class Attributes {
 public:
  void String(std::string_view key, std::string_view value);
  void String(std::string_view key, const std::optional<std::string_view>& value);
  void String(std::string_view key, const char* value) { String(key, std::string_view(value)); }
  void String(std::string_view key, const std::string& value) {
    String(key, std::string_view(value));
  }
  void Strings(std::string_view key, const std::vector<std::string>& values);
  void Int(std::string_view key, int64_t value);
  void Bool(std::string_view key, bool value);
  // The canonical JSON of a vendor value (left out if it cannot be canonicalised).
  void Json(std::string_view key, const std::optional<element>& value);
  bool empty() const { return members_.empty(); }
  // "" when empty, else the canonical JSON object.
  std::string Finish() const;

 private:
  std::map<std::string, std::string, std::less<>> members_;
};

// An event being built and the suffix that names it within its record ("issued-token",
// "binding-2"): when a record yields several events each source id is "<record id>#<suffix>".
struct Draft {
  event::Event event;
  std::string suffix;
};

// Turns drafts into the importer's result: assigns source system, time and source ids (the
// record id alone for a single event, "<id>#<suffix>" for several; suffixes made unique),
// removes empty and repeated aliases and aliases equal to the identity, drops optional
// descriptive values the native schema would reject (an actor whose id is not an identifier, a
// subject name with a trailing space, an over-long message, list items that are not
// identifiers), and checks the keys an event stands on: identity, aliases, correlation key and
// source id must be identifiers, else the record is an error naming the field.
Result<MapResult> FinishEvents(std::vector<Draft> drafts, std::string_view source_system,
                               std::string_view record_id, const Timestamp& time,
                               std::string_view ignored_name);

// Splits "a, b,c" at commas and trims spaces; empty items are dropped.
std::vector<std::string> SplitList(std::string_view s, char sep = ',');

// The last '/'-separated segment of `s`.
std::string_view LastSegment(std::string_view s);

bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool ContainsIgnoreCase(std::string_view haystack, std::string_view needle);

}  // namespace nhitrace::ingest::internal
