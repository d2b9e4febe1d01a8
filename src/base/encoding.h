// Hex and base64 (RFC 4648 section 4, standard alphabet, padded) for hashes, keys and proofs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nhitrace {

// Lower-case hex of the bytes.
std::string HexEncode(std::string_view bytes);
// Decodes hex (either case); nullopt on odd length or a non-hex character.
std::optional<std::string> HexDecode(std::string_view hex);

// Standard, padded base64.
std::string Base64Encode(std::string_view bytes);
// Decodes standard, padded base64 strictly: no whitespace, correct padding, and the unused bits
// of the last group must be zero (so every byte string has exactly one accepted encoding).
std::optional<std::string> Base64Decode(std::string_view b64);

}  // namespace nhitrace
