// ObjectReader: typed, path-named reads of the members of one JSON object (simdjson DOM), which
// remembers what was read so that a member nobody asked for is reported as unknown instead of
// being silently ignored. Internal to src/cases (policy sections and case event attributes).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "json/dom.h"

namespace nhitrace::cases::internal {

class ObjectReader {
 public:
  // `path` names the object in errors ("cases.sla", "attributes").
  ObjectReader(simdjson::dom::object obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  // Reads `e` as an object, or fails naming `path`.
  static Result<ObjectReader> Of(const simdjson::dom::element& e, std::string path);

  const std::string& path() const { return path_; }
  std::string PathOf(std::string_view key) const;
  Status Error(std::string_view key, std::string_view reason) const;

  // The member, marked as read; nullopt when absent.
  std::optional<simdjson::dom::element> Get(std::string_view key);
  bool Has(std::string_view key) const;

  // Each reads one member; absent and not `required` leaves *out unchanged. Strings must be
  // non-empty when present.
  Status String(std::string_view key, std::string* out, bool required = false);
  Status Uint(std::string_view key, uint64_t* out, bool required = false);
  Status Uint32(std::string_view key, uint32_t* out, bool required = false);
  Status OptUint(std::string_view key, std::optional<uint64_t>* out);
  Status Bool(std::string_view key, bool* out, bool required = false);
  // An RFC 3339 date-time with offset, as nanoseconds.
  Status Time(std::string_view key, int64_t* out, bool required = false);
  Status OptTime(std::string_view key, std::optional<int64_t>* out);
  Status Strings(std::string_view key, std::vector<std::string>* out, bool required = false);
  Status Uints(std::string_view key, std::vector<uint64_t>* out, bool required = false);
  // A nested object.
  Result<std::optional<ObjectReader>> Object(std::string_view key);

  // The members in document order (each marked as read).
  std::vector<std::pair<std::string, simdjson::dom::element>> Members();

  // Fails naming the first member that no call above read.
  Status CheckNoUnknown() const;

 private:
  simdjson::dom::object obj_;
  std::string path_;
  std::set<std::string, std::less<>> read_;
};

// "a string", "an array", ...: the JSON type of `e` for error messages.
std::string_view TypeName(const simdjson::dom::element& e);

}  // namespace nhitrace::cases::internal
