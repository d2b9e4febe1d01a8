// Cryptographically secure randomness and constant-time comparison.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace nhitrace::crypto {

// `n` bytes from the OpenSSL CSPRNG (seeded from the OS). Fails only if the CSPRNG does.
Result<std::string> RandomBytes(size_t n);

// Compares in time that depends only on the lengths, never on the contents: for tokens, MACs
// and anything an attacker could probe byte by byte.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace nhitrace::crypto
