#include "api/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace nhitrace::api {

RateLimiter::RateLimiter(const Clock& clock, double rate_per_second, double burst, size_t max_keys)
    : clock_(clock), rate_(rate_per_second), burst_(std::max(burst, 1.0)), max_keys_(max_keys) {}

bool RateLimiter::Allow(std::string_view key, int64_t* retry_after_s) {
  if (rate_ <= 0) return true;
  int64_t now = clock_.NowUnixNanos();
  std::lock_guard lock(mu_);
  auto refill = [&](Bucket& b) {
    double elapsed = static_cast<double>(std::max<int64_t>(0, now - b.updated_ns)) / 1e9;
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.updated_ns = now;
  };
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) {
      for (auto i = buckets_.begin(); i != buckets_.end();) {
        refill(i->second);
        i = i->second.tokens >= burst_ ? buckets_.erase(i) : std::next(i);
      }
      if (buckets_.size() >= max_keys_) {
        *retry_after_s = 1;
        return false;
      }
    }
    it = buckets_.emplace(std::string(key), Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  refill(b);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  *retry_after_s = std::max<int64_t>(1, static_cast<int64_t>(std::ceil((1.0 - b.tokens) / rate_)));
  return false;
}

}  // namespace nhitrace::api
