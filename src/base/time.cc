#include "base/time.h"

#include <cstdint>
#include <cstdio>
#include <ctime>

namespace nhitrace {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly n digits at s[pos..]; false if any is not a digit.
bool ReadDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

Status Bad(std::string_view s, std::string_view why) {
  std::string m = "not an RFC 3339 date-time with offset (";
  m += why;
  m += "): \"";
  // Quote at most 64 bytes of the offending value.
  m += s.substr(0, 64);
  if (s.size() > 64) m += "...";
  m += "\"";
  return InvalidArgumentError(std::move(m));
}

}  // namespace

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

Result<Rfc3339Time> ParseRfc3339(std::string_view s, bool saturate) {
  int year, month, day, hour, minute, second;
  if (!ReadDigits(s, 0, 4, &year) || s.size() < 5 || s[4] != '-' || !ReadDigits(s, 5, 2, &month) ||
      s.size() < 8 || s[7] != '-' || !ReadDigits(s, 8, 2, &day)) {
    return Bad(s, "date must be YYYY-MM-DD");
  }
  if (s.size() < 11 || (s[10] != 'T' && s[10] != 't'))
    return Bad(s, "missing 'T' between date and time");
  if (!ReadDigits(s, 11, 2, &hour) || s.size() < 14 || s[13] != ':' ||
      !ReadDigits(s, 14, 2, &minute) || s.size() < 17 || s[16] != ':' ||
      !ReadDigits(s, 17, 2, &second)) {
    return Bad(s, "time must be HH:MM:SS");
  }
  if (year < 1) return Bad(s, "year out of range");
  if (month < 1 || month > 12) return Bad(s, "month out of range");
  if (day < 1 || day > DaysInMonth(year, month)) return Bad(s, "day out of range");
  if (hour > 23 || minute > 59 || second > 60) return Bad(s, "time out of range");

  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t scale = 100'000'000;
    while (pos < s.size() && IsDigit(s[pos])) {
      nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return Bad(s, "empty fraction after '.'");
  }
  if (pos >= s.size()) return Bad(s, "missing offset (Z or +HH:MM)");
  int offset = 0;
  char c = s[pos];
  if (c == 'Z' || c == 'z') {
    ++pos;
  } else if (c == '+' || c == '-') {
    int oh, om;
    if (!ReadDigits(s, pos + 1, 2, &oh) || s.size() < pos + 6 || s[pos + 3] != ':' ||
        !ReadDigits(s, pos + 4, 2, &om)) {
      return Bad(s, "offset must be +HH:MM or -HH:MM");
    }
    if (oh > 23 || om > 59) return Bad(s, "offset out of range");
    offset = (oh * 60 + om) * (c == '-' ? -1 : 1);
    pos += 6;
  } else {
    return Bad(s, "missing offset (Z or +HH:MM)");
  }
  if (pos != s.size()) return Bad(s, "trailing characters");

  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - int64_t{offset} * 60;
  // |secs| < 2^39 here, but secs * 10^9 only fits in 64 bits for 1677-09-21 .. 2262-04-11. Below
  // the epoch the instant is assembled as (secs + 1) * 10^9 - (10^9 - nanos) so that the lowest
  // representable instant does not overflow on the way.
  int64_t whole = secs, part = nanos;
  if (secs < 0 && nanos > 0) {
    whole = secs + 1;
    part = nanos - kNanosPerSecond;
  }
  int64_t unix_nanos = 0;
  if (__builtin_mul_overflow(whole, kNanosPerSecond, &unix_nanos) ||
      __builtin_add_overflow(unix_nanos, part, &unix_nanos)) {
    if (saturate) {
      Rfc3339Time t;
      t.unix_nanos = secs < 0 ? INT64_MIN : INT64_MAX;
      t.offset_minutes = offset;
      t.saturated = true;
      return t;
    }
    return Bad(s,
               "outside 1677-09-21T00:12:43.145224192Z..2262-04-11T23:47:16.854775807Z, "
               "the range of 64-bit nanoseconds");
  }
  Rfc3339Time t;
  t.unix_nanos = unix_nanos;
  t.offset_minutes = offset;
  return t;
}

std::string FormatRfc3339Utc(int64_t unix_nanos, int fraction_digits) {
  int64_t secs = unix_nanos / kNanosPerSecond;
  int64_t nanos = unix_nanos % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --secs;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // civil_from_days (H. Hinnant).
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;

  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d",
                        static_cast<long long>(y), m, d, static_cast<int>(rem / 3600),
                        static_cast<int>(rem / 60 % 60), static_cast<int>(rem % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (fraction_digits > 0) {
    if (fraction_digits > 9) fraction_digits = 9;
    char frac[16];
    std::snprintf(frac, sizeof frac, "%09lld", static_cast<long long>(nanos));
    out += '.';
    out.append(frac, static_cast<size_t>(fraction_digits));
  }
  out += 'Z';
  return out;
}

int64_t SystemClock::NowUnixNanos() const {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * kNanosPerSecond + ts.tv_nsec;
}

const SystemClock& SystemClock::Instance() {
  static const SystemClock clock;
  return clock;
}

}  // namespace nhitrace
