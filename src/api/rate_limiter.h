// RateLimiter: a token bucket per key (an API token's id; a client address for failed logins).
//
// Each key may make `burst` requests at once and then `rate` per second; a request over the
// limit is refused with the time until one would be allowed (sent as 429 with Retry-After).
// Time comes from the injected Clock. Thread-safe. Memory is bounded: at most `max_keys`
// buckets; when full, buckets that have refilled completely (indistinguishable from new ones) are
// dropped, and if none has, the request is refused rather than the table grown.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/time.h"

namespace nhitrace::api {

class RateLimiter {
 public:
  // rate <= 0 disables the limit (Allow always succeeds).
  RateLimiter(const Clock& clock, double rate_per_second, double burst, size_t max_keys = 100000);

  // Takes one request from `key`'s bucket. On refusal returns false and sets *retry_after_s
  // (>= 1, whole seconds, for the Retry-After header).
  bool Allow(std::string_view key, int64_t* retry_after_s);

  bool enabled() const { return rate_ > 0; }

 private:
  struct Bucket {
    double tokens = 0;
    int64_t updated_ns = 0;
  };
  const Clock& clock_;
  double rate_, burst_;
  size_t max_keys_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace nhitrace::api
