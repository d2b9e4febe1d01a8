// Parsing of a request target (RFC 9112 origin-form: "/path?query") into decoded path segments
// and query parameters. The router works on these, never on the HTTP library's decoded path, so
// that an id containing "/" can be sent as %2F within one segment ("k8s:sa:ns%2Fname").
//
// Rejected with kInvalidArgument, naming the part and the reason: a target that does not start
// with "/", a fragment, a "." or ".." segment (path traversal has no meaning here and is never
// passed on), malformed percent-encoding, a decoded NUL or other control character, invalid
// UTF-8, a repeated query parameter, and more than the limits below.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace nhitrace::api {

struct TargetLimits {
  size_t max_segments = 16;
  size_t max_segment_bytes = 1024;  // decoded
  size_t max_params = 32;
  size_t max_param_bytes = 2048;  // decoded value
};

struct ParsedTarget {
  std::vector<std::string> segments;  // "/v1/events/7" -> {"v1", "events", "7"}
  std::vector<std::pair<std::string, std::string>> query;  // in order, names unique

  // The value of query parameter `name`, or nullptr.
  const std::string* Param(std::string_view name) const;
};

Result<ParsedTarget> ParseTarget(std::string_view target, const TargetLimits& limits = {});

// Decodes %XX escapes (and "+" as a space when `plus_is_space`), then checks the result: no
// control characters (U+0000-U+001F, U+007F), valid UTF-8.
Result<std::string> PercentDecode(std::string_view s, bool plus_is_space);

// Encodes everything but RFC 3986 unreserved characters (for building targets in tests, docs).
std::string PercentEncode(std::string_view s);

}  // namespace nhitrace::api
