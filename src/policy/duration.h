// Durations as policies write them: one or more <integer><unit> groups, largest unit first,
// units s (seconds), m (minutes), h (hours), d (days of 24 h), w (weeks of 7 d):
// "90d", "72h", "1h30m", "0s". At most 100 years.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace nhitrace::policy {

inline constexpr int64_t kMaxDurationNs = int64_t{100} * 365 * 86400 * 1'000'000'000;

// Nanoseconds, or kInvalidArgument naming what is wrong.
Result<int64_t> ParseDuration(std::string_view s);

// A short form in days, hours, minutes and seconds: "90d", "1h30m", "0s" (for whole seconds, one
// that ParseDuration reads back to the same value). A sub-second remainder is written in seconds
// with a fraction ("1.5s").
std::string FormatDuration(int64_t ns);

}  // namespace nhitrace::policy
