// Cryptographically secure randomness and constant-time comparison.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace nhitrace::crypto {

// `n` bytes from the OpenSSL CSPRNG (seeded from the OS). Fails only if the CSPRNG does.
Result<std::string> RandomBytes(size_t n);

// Buffers CSPRNG output so that many small draws (per-event salts) cost one RAND_bytes call
// per 4 KiB instead of one each (OpenSSL checks for fork() with getpid() on every call).
// Not thread-safe; one per thread.
class RandomPool {
 public:
  // Appends `n` random bytes to `out`.
  Status Draw(size_t n, std::string* out);

 private:
  std::string buf_;
  size_t pos_ = 0;
};

// Compares in time that depends only on the lengths, never on the contents: for tokens, MACs
// and anything an attacker could probe byte by byte.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace nhitrace::crypto
