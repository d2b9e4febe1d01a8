// Timestamps: RFC 3339 parsing and formatting, and the injected clock.
//
// nhitrace keeps every source timestamp exactly as given (the string) and, next to it, the
// instant it denotes as nanoseconds since the Unix epoch (UTC) for ordering and indexing.
//
//   Result<Rfc3339Time> t = ParseRfc3339("2026-03-01T10:15:00.250+01:00");
//   t->unix_nanos;        // 1772356500250000000
//   t->offset_minutes;    // 60
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace nhitrace {

struct Rfc3339Time {
  int64_t unix_nanos = 0;  // the instant, UTC
  int offset_minutes = 0;  // the offset written in the source, e.g. +01:00 -> 60; Z -> 0
  bool saturated = false;  // unix_nanos was clamped (see ParseRfc3339's `saturate`)
};

// Parses an RFC 3339 date-time (section 5.6): YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM).
// 'T' and 'Z' may be lower case. The offset is mandatory: a local time without an offset is not
// an instant and is rejected. Fractions may have any number of digits; digits past the ninth
// (sub-nanosecond) are truncated. A leap second (:60) is accepted and denotes the instant one
// second after :59 (POSIX time has no leap seconds). The syntax allows years 0001-9999, but only
// instants that 64-bit nanoseconds can hold (1677-09-21T00:12:43.145224192Z to
// 2262-04-11T23:47:16.854775807Z) are accepted; others fail with kInvalidArgument, unless
// `saturate` is true: then they are clamped to INT64_MIN / INT64_MAX nanoseconds and marked
// `saturated` (for bounds such as a certificate's "9999-12-31T23:59:59Z" not-after, where "later
// than anything we can represent" is the meaning that matters).
Result<Rfc3339Time> ParseRfc3339(std::string_view s, bool saturate = false);

// Formats as UTC with the given number of fraction digits (0, 3, 6 or 9):
// "2026-03-01T09:15:00.250000Z".
std::string FormatRfc3339Utc(int64_t unix_nanos, int fraction_digits = 6);

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

// A source of "now". Everything that reads the time takes a Clock so that tests, replays and
// --as-of runs are reproducible and never sleep.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowUnixNanos() const = 0;
};

// The real wall clock (CLOCK_REALTIME).
class SystemClock final : public Clock {
 public:
  int64_t NowUnixNanos() const override;
  // A process-wide instance.
  static const SystemClock& Instance();
};

// A clock that returns a set time; tests move it forward explicitly.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t unix_nanos) : now_(unix_nanos) {}
  int64_t NowUnixNanos() const override { return now_; }
  void Set(int64_t unix_nanos) { now_ = unix_nanos; }
  void Advance(int64_t nanos) { now_ += nanos; }

 private:
  int64_t now_;
};

}  // namespace nhitrace
