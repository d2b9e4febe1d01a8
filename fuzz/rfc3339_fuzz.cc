// Fuzzes ParseRfc3339, which reads every source timestamp (event time, window bounds) and the
// ingest time of every leaf.
//
// Properties, on success:
//   - the instant formats and parses back: ParseRfc3339(FormatRfc3339Utc(ns, 9)) == ns, offset 0;
//   - with offset Z and at most 6 fraction digits (what leaves store), the 6-digit form also
//     parses back to the same instant;
//   - the offset is within +-23:59.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/time.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nhitrace::FormatRfc3339Utc;
  using nhitrace::ParseRfc3339;
  std::string_view s(reinterpret_cast<const char*>(data), size);

  auto t = ParseRfc3339(s);
  if (!t.ok()) {
    FUZZ_CHECK(t.status().code() == nhitrace::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(t->offset_minutes >= -(23 * 60 + 59) && t->offset_minutes <= 23 * 60 + 59);

  const std::string nine = FormatRfc3339Utc(t->unix_nanos, 9);
  auto back = ParseRfc3339(nine);
  FUZZ_CHECK(back.ok(), "9-digit form does not parse: " + nine);
  FUZZ_CHECK(back->unix_nanos == t->unix_nanos && back->offset_minutes == 0,
             "9-digit form is another instant: " + nine);

  size_t dot = s.find('.');
  size_t digits = 0;
  if (dot != std::string_view::npos) {
    while (dot + 1 + digits < s.size() && s[dot + 1 + digits] >= '0' &&
           s[dot + 1 + digits] <= '9') {
      ++digits;
    }
  }
  char last = s.back();
  if ((last == 'Z' || last == 'z') && digits <= 6) {
    const std::string six = FormatRfc3339Utc(t->unix_nanos, 6);
    auto back6 = ParseRfc3339(six);
    FUZZ_CHECK(back6.ok() && back6->unix_nanos == t->unix_nanos,
               "6-digit form is another instant: " + six + " from " + nine);
  }
  return 0;
}
