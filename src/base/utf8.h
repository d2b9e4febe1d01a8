// UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF.
#pragma once

#include <cstddef>
#include <string_view>

namespace nhitrace {

// Returns true when `s` is well-formed UTF-8. Otherwise returns false and, when `bad_offset` is
// not null, stores the byte offset of the first byte of the first ill-formed sequence.
bool IsValidUtf8(std::string_view s, size_t* bad_offset = nullptr);

}  // namespace nhitrace
