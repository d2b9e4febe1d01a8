// Fuzzes json::Canonicalize (RFC 8785), the encoding every ledger leaf is hashed over.
//
// Properties, on success:
//   - the output is valid UTF-8;
//   - canonicalisation is idempotent: Canonicalize(output) == output, byte for byte (otherwise
//     one value would have two leaf hashes);
//   - the output is JSON that simdjson parses. One exception: integer literals beyond the 64-bit
//     range (canonical numbers below 1e21 are written without an exponent, e.g. 2^68 is
//     "295147905179352830000") are JSON that simdjson refuses with NUMBER_ERROR; Canonicalize
//     itself reads them, which the idempotence check covers.
// Failures must carry a message.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "base/utf8.h"
#include "fuzz_check.h"
#include "json/canonical.h"

namespace {

// True when canonical JSON `s` has an integer literal (no fraction, no exponent) of 19 or more
// digits outside strings: the only numbers simdjson may refuse in canonical output.
bool HasLongInteger(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\') ++i;
      }
      ++i;
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) {
      ++i;
      continue;
    }
    size_t digits = 0;
    bool integer = true;
    for (; i < s.size(); ++i) {
      c = s[i];
      if (c >= '0' && c <= '9') {
        ++digits;
      } else if (c == '.' || c == 'e' || c == '+' || (c == '-' && digits > 0)) {
        integer = false;
      } else if (c != '-') {
        break;
      }
    }
    if (integer && digits >= 19) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using nhitrace::json::Canonicalize;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto first = Canonicalize(input);
  if (!first.ok()) {
    FUZZ_CHECK(!first.status().message().empty());
    return 0;
  }
  const std::string& out = *first;
  FUZZ_CHECK(!out.empty());
  FUZZ_CHECK(nhitrace::IsValidUtf8(out), out);

  auto second = Canonicalize(out);
  FUZZ_CHECK(second.ok(), "canonical output does not canonicalize: " + second.status().message() +
                              "\n  output: " + out);
  FUZZ_CHECK(*second == out, "not idempotent:\n  first:  " + out + "\n  second: " + *second);

  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  auto err = parser.parse(out.data(), out.size(), /*realloc_if_needed=*/true).get(root);
  FUZZ_CHECK(err == simdjson::SUCCESS || (err == simdjson::NUMBER_ERROR && HasLongInteger(out)),
             std::string("simdjson rejects the output: ") + simdjson::error_message(err) +
                 "\n  output: " + out);
  return 0;
}
