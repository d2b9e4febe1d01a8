#include "base/time.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace nhitrace {
namespace {

// Expected instants below were computed independently with GNU date, e.g.
// `TZ=UTC date -d "1996-12-19T16:39:57-08:00" +%s.%N`, never with the code under test. (Before
// the epoch date prints the floor second and a positive fraction: -1041337173.87 there means
// -1041337173 + 0.87 s.)
constexpr int64_t kNs = 1'000'000'000;

struct Valid {
  const char* text;
  int64_t unix_nanos;
  int offset_minutes;
};

TEST(ParseRfc3339Test, ValidTimestamps) {
  const Valid cases[] = {
      {"1970-01-01T00:00:00Z", 0, 0},
      {"2001-09-09T01:46:40Z", 1000000000 * kNs, 0},
      // Lower-case 't' and 'z' (RFC 3339 section 5.6 NOTE).
      {"2001-09-09t01:46:40z", 1000000000 * kNs, 0},
      {"2026-03-01T10:15:00.250+01:00", 1772356500250000000, 60},
      // The RFC 3339 section 5.8 examples.
      {"1985-04-12T23:20:50.52Z", 482196050520000000, 0},
      {"1996-12-19T16:39:57-08:00", 851042397 * kNs, -480},
      {"1937-01-01T12:00:27.87+00:20", -1041337172130000000, 20},
      {"2023-06-15T08:00:00+05:30", 1686796200 * kNs, 330},
      {"2023-06-15T08:00:00-00:00", 1686816000 * kNs, 0},
      {"2023-12-31T23:59:59-23:59", 1704153539 * kNs, -(23 * 60 + 59)},
      {"2023-01-01T00:00:00+23:59", 1672444860 * kNs, 23 * 60 + 59},
      {"1969-12-31T23:59:59Z", -1 * kNs, 0},
      {"1969-12-31T23:59:59.5Z", -500000000, 0},
      {"2038-01-19T03:14:08Z", 2147483648 * kNs, 0},
      // Feb 29 in leap years, including the 400-year rule.
      {"2024-02-29T12:00:00Z", 1709208000 * kNs, 0},
      {"2000-02-29T00:00:00Z", 951782400 * kNs, 0},
      {"2100-03-01T00:00:00Z", 4107542400 * kNs, 0},
      // A leap second denotes the instant one second after :59 (RFC 3339 section 5.8 examples).
      {"1990-12-31T23:59:60Z", 662688000 * kNs, 0},
      {"1990-12-31T15:59:60-08:00", 662688000 * kNs, -480},
      {"2016-12-31T23:59:60Z", 1483228800 * kNs, 0},
  };
  for (const Valid& c : cases) {
    Result<Rfc3339Time> t = ParseRfc3339(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status().ToString();
    EXPECT_EQ(t->unix_nanos, c.unix_nanos) << c.text;
    EXPECT_EQ(t->offset_minutes, c.offset_minutes) << c.text;
  }
}

// Fractions of 1 to 9 digits scale to nanoseconds; digits past the ninth are truncated.
TEST(ParseRfc3339Test, FractionDigits) {
  const int64_t base = 1000000000 * kNs;  // 2001-09-09T01:46:40Z
  const struct {
    const char* fraction;
    int64_t nanos;
  } cases[] = {
      {"1", 100000000},       {"12", 120000000},         {"123", 123000000},
      {"1234", 123400000},    {"12345", 123450000},      {"123456", 123456000},
      {"1234567", 123456700}, {"12345678", 123456780},   {"123456789", 123456789},
      {"000000001", 1},       {"1234567891", 123456789}, {"9999999999999999999999", 999999999},
      {"000000000999", 0},
  };
  for (const auto& c : cases) {
    std::string text = std::string("2001-09-09T01:46:40.") + c.fraction + "Z";
    Result<Rfc3339Time> t = ParseRfc3339(text);
    ASSERT_TRUE(t.ok()) << text << ": " << t.status().ToString();
    EXPECT_EQ(t->unix_nanos, base + c.nanos) << text;
  }
}

// 64-bit nanoseconds hold 1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z
// (date -d @-9223372037 / @9223372036). The ends parse exactly; one nanosecond beyond, and the
// syntactically valid years 0001 and 9999, are rejected instead of overflowing.
TEST(ParseRfc3339Test, RepresentableRange) {
  Result<Rfc3339Time> max = ParseRfc3339("2262-04-11T23:47:16.854775807Z");
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  EXPECT_EQ(max->unix_nanos, std::numeric_limits<int64_t>::max());
  Result<Rfc3339Time> max_offset = ParseRfc3339("2262-04-12T00:47:16.854775807+01:00");
  ASSERT_TRUE(max_offset.ok()) << max_offset.status().ToString();
  EXPECT_EQ(max_offset->unix_nanos, std::numeric_limits<int64_t>::max());
  Result<Rfc3339Time> min = ParseRfc3339("1677-09-21T00:12:43.145224192Z");
  ASSERT_TRUE(min.ok()) << min.status().ToString();
  EXPECT_EQ(min->unix_nanos, std::numeric_limits<int64_t>::min());

  for (const char* text : {"2262-04-11T23:47:16.854775808Z", "2262-04-11T23:47:17Z",
                           "2262-04-11T23:47:16.854775807-00:01", "1677-09-21T00:12:43.145224191Z",
                           "1677-09-21T00:12:43Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                           "9999-12-31T23:59:59.999999999-23:59", "0001-01-01T00:00:00+23:59"}) {
    Result<Rfc3339Time> t = ParseRfc3339(text);
    EXPECT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << text;
  }
}

TEST(ParseRfc3339Test, Rejects) {
  for (const char* text : {
           "",
           "2023-06-15",
           "2023-06-15T08:00:00",      // no offset: a local time is not an instant
           "2023-06-15T08:00:00.250",  // no offset after a fraction
           "2023-06-15 08:00:00Z",     // space instead of T
           "2023-06-15_08:00:00Z",
           "2023-13-01T00:00:00Z",  // month 13
           "2023-00-01T00:00:00Z",  // month 0
           "2023-01-00T00:00:00Z",  // day 0
           "2023-01-32T00:00:00Z",
           "2023-04-31T00:00:00Z",  // April has 30 days
           "2023-02-29T00:00:00Z",  // not a leap year
           "1900-02-29T00:00:00Z",  // divisible by 100, not by 400
           "2100-02-29T00:00:00Z",
           "2023-01-01T24:00:00Z",      // hour 24
           "2023-01-01T23:60:00Z",      // minute 60
           "2023-01-01T23:59:61Z",      // second 61
           "2023-06-15T08:00:00+0530",  // offset without colon
           "2023-06-15T08:00:00+05",
           "2023-06-15T08:00:00+5:30",
           "2023-06-15T08:00:00+24:00",  // offset hour out of range
           "2023-06-15T08:00:00+05:60",  // offset minute out of range
           "2023-06-15T08:00:00Z ",      // trailing space
           "2023-06-15T08:00:00Zjunk",   // trailing garbage
           "2023-06-15T08:00:00+05:30Z",
           "2023-06-15T08:00:00.Z",   // empty fraction
           "2023-06-15T08:00:00,5Z",  // comma fraction (ISO 8601, not RFC 3339)
           "2023-6-15T08:00:00Z",     // one-digit month
           "2023-06-15T8:00:00Z",     // one-digit hour
           "23-06-15T08:00:00Z",
           "0000-01-01T00:00:00Z",  // year 0
           "+2023-06-15T08:00:00Z",
           " 2023-06-15T08:00:00Z",
           "2023-06-15T08:00Z",  // seconds are mandatory
           "2023/06/15T08:00:00Z",
           "2023-06-15T08:00:00z\n",
       }) {
    Result<Rfc3339Time> t = ParseRfc3339(text);
    EXPECT_FALSE(t.ok()) << '"' << text << '"';
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << '"' << text << '"';
  }
}

// The error message quotes the offending value, cut at 64 bytes.
TEST(ParseRfc3339Test, ErrorQuotesValue) {
  Result<Rfc3339Time> t = ParseRfc3339("2023-06-15T08:00:00");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("\"2023-06-15T08:00:00\""), std::string::npos)
      << t.status().message();
  std::string long_value(200, '9');
  Result<Rfc3339Time> l = ParseRfc3339(long_value);
  ASSERT_FALSE(l.ok());
  EXPECT_LT(l.status().message().size(), 200u);
  EXPECT_NE(l.status().message().find("..."), std::string::npos);
}

TEST(FormatRfc3339UtcTest, KnownInstants) {
  EXPECT_EQ(FormatRfc3339Utc(0), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatRfc3339Utc(0, 0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339Utc(1772356500250000000, 3), "2026-03-01T09:15:00.250Z");
  EXPECT_EQ(FormatRfc3339Utc(1772356500250000000), "2026-03-01T09:15:00.250000Z");
  EXPECT_EQ(FormatRfc3339Utc(1772356500250000000, 9), "2026-03-01T09:15:00.250000000Z");
  EXPECT_EQ(FormatRfc3339Utc(851042397 * kNs, 0), "1996-12-20T00:39:57Z");
  EXPECT_EQ(FormatRfc3339Utc(951782400 * kNs, 0), "2000-02-29T00:00:00Z");
  // Fractions are truncated, not rounded.
  EXPECT_EQ(FormatRfc3339Utc(1999999, 6), "1970-01-01T00:00:00.001999Z");
  EXPECT_EQ(FormatRfc3339Utc(999999999, 3), "1970-01-01T00:00:00.999Z");
  // Before the epoch the fraction still counts forward from the whole second.
  EXPECT_EQ(FormatRfc3339Utc(-1, 9), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatRfc3339Utc(-500000000, 3), "1969-12-31T23:59:59.500Z");
  EXPECT_EQ(FormatRfc3339Utc(-1041337172130000000, 2), "1937-01-01T11:40:27.87Z");
  EXPECT_EQ(FormatRfc3339Utc(std::numeric_limits<int64_t>::max(), 9),
            "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(FormatRfc3339Utc(std::numeric_limits<int64_t>::min(), 9),
            "1677-09-21T00:12:43.145224192Z");
}

// Parse(Format(x, 9)) == x over the whole representable range.
TEST(FormatRfc3339UtcTest, RoundTrip) {
  std::mt19937_64 rng(20260301);
  std::uniform_int_distribution<int64_t> any(std::numeric_limits<int64_t>::min(),
                                             std::numeric_limits<int64_t>::max());
  for (int i = 0; i < 5000; ++i) {
    int64_t x = i < 3 ? std::numeric_limits<int64_t>::min() + i : any(rng);
    std::string text = FormatRfc3339Utc(x, 9);
    Result<Rfc3339Time> t = ParseRfc3339(text);
    ASSERT_TRUE(t.ok()) << text << ": " << t.status().ToString();
    ASSERT_EQ(t->unix_nanos, x) << text;
    EXPECT_EQ(t->offset_minutes, 0);
  }
}

TEST(DaysFromCivilTest, KnownDays) {
  // `date -d <day> +%s` / 86400.
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1600, 3, 1), -135080);
  EXPECT_EQ(DaysFromCivil(1, 1, 1), -719162);
  EXPECT_EQ(DaysFromCivil(9999, 12, 31), (253402300799 - 86399) / 86400);
}

TEST(ClockTest, FakeClockMovesOnlyWhenTold) {
  FakeClock clock(1000);
  const Clock& c = clock;
  EXPECT_EQ(c.NowUnixNanos(), 1000);
  EXPECT_EQ(c.NowUnixNanos(), 1000);
  clock.Advance(500);
  EXPECT_EQ(c.NowUnixNanos(), 1500);
  clock.Set(-7);
  EXPECT_EQ(c.NowUnixNanos(), -7);
}

TEST(ClockTest, SystemClockIsRecentAndMonotonicEnough) {
  const Clock& c = SystemClock::Instance();
  int64_t a = c.NowUnixNanos();
  int64_t b = c.NowUnixNanos();
  EXPECT_GT(a, 1704067200 * kNs);  // after 2024-01-01
  EXPECT_GE(b, a);
  EXPECT_EQ(&SystemClock::Instance(), &SystemClock::Instance());
}

}  // namespace
}  // namespace nhitrace
