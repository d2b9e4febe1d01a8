#include "policy/duration.h"

#include <cstdio>

namespace nhitrace::policy {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

struct Unit {
  char name;
  int64_t ns;
};
constexpr Unit kUnits[] = {{'w', 7 * 86400 * kSecond},
                           {'d', 86400 * kSecond},
                           {'h', 3600 * kSecond},
                           {'m', 60 * kSecond},
                           {'s', kSecond}};

}  // namespace

Result<int64_t> ParseDuration(std::string_view s) {
  const std::string why = "not a duration (write e.g. 90d, 72h, 1h30m, 0s; units w, d, h, m, s)";
  if (s.empty()) return InvalidArgumentError(why);
  int64_t total = 0;
  size_t i = 0;
  int last_unit = -1;
  while (i < s.size()) {
    if (s[i] < '0' || s[i] > '9') return InvalidArgumentError(why);
    int64_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      n = n * 10 + (s[i] - '0');
      if (n > kMaxDurationNs / kSecond)
        return InvalidArgumentError("duration is longer than 100 years");
      ++i;
    }
    if (i == s.size()) return InvalidArgumentError(why + ": a number needs a unit");
    int unit = -1;
    for (int u = 0; u < 5; ++u) {
      if (kUnits[u].name == s[i]) unit = u;
    }
    if (unit < 0) return InvalidArgumentError(why);
    if (unit <= last_unit)
      return InvalidArgumentError(why + ": units must go from largest to smallest, once each");
    last_unit = unit;
    ++i;
    if (n > (kMaxDurationNs - total) / kUnits[unit].ns) {
      return InvalidArgumentError("duration is longer than 100 years");
    }
    total += n * kUnits[unit].ns;
  }
  return total;
}

std::string FormatDuration(int64_t ns) {
  if (ns < 0) return "-" + FormatDuration(-ns);
  if (ns == 0) return "0s";
  std::string out;
  int64_t rest = ns;
  for (const Unit& u : kUnits) {
    if (u.name == 'w') continue;  // "90d" reads better than "12w6d"
    if (u.name == 's') break;
    if (rest >= u.ns) {
      out += std::to_string(rest / u.ns) + u.name;
      rest %= u.ns;
    }
  }
  if (rest > 0) {
    if (rest % kSecond == 0) {
      out += std::to_string(rest / kSecond) + "s";
    } else {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(rest) / 1e9);
      out += std::string(buf) + "s";
    }
  }
  return out;
}

}  // namespace nhitrace::policy
