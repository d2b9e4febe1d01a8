// Fuzzes event::DecodeLeaf, which `verify` runs over every stored leaf: arbitrary bytes must be
// either rejected (kDataLoss with a message) or be exactly the canonical encoding of what they
// decode to, so re-encoding gives the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "event/codec.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace event = nhitrace::event;
  std::string_view leaf(reinterpret_cast<const char*>(data), size);

  auto decoded = event::DecodeLeaf(leaf);
  if (!decoded.ok()) {
    FUZZ_CHECK(decoded.status().code() == nhitrace::StatusCode::kDataLoss,
               decoded.status().ToString());
    FUZZ_CHECK(!decoded.status().message().empty());
    return 0;
  }
  const std::string again =
      event::EncodeLeaf(event::EncodeContent(decoded->event), decoded->envelope);
  FUZZ_CHECK(again == leaf,
             "re-encoding differs:\n  input: " + std::string(leaf) + "\n  again: " + again);
  // And the re-encoded leaf decodes to the same event.
  auto twice = event::DecodeLeaf(again);
  FUZZ_CHECK(twice.ok() && twice->event == decoded->event);
  return 0;
}
