// Fuzzes one line of native JSON Lines through the steps of ingest (src/ingest/ingest.cc):
// UTF-8 check, simdjson DOM parse, event::DecodeNative.
//
// Properties:
//   - a rejection is kInvalidArgument with a "field: reason" message (ingest splits it there);
//   - an accepted event survives the ledger: EncodeContent is canonical JSON, EncodeLeaf with a
//     fixed envelope gives a leaf that DecodeLeaf accepts, and the decoded event and envelope
//     equal the originals (verify re-derives every stored column from those bytes).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "base/utf8.h"
#include "event/codec.h"
#include "fuzz_check.h"
#include "json/canonical.h"

namespace {

using nhitrace::StatusCode;
namespace event = nhitrace::event;

bool IsBlank(std::string_view s) { return s.find_first_not_of(" \t\r") == std::string_view::npos; }

event::LeafEnvelope FixedEnvelope() {
  event::LeafEnvelope env;
  env.seq = 4711;
  env.ingested_ns = 1'772'356'500'250'123'000;  // 2026-03-01T09:15:00.250123Z (microseconds)
  env.raw = event::RawDigest{std::string(32, '\xA5'), 1234};
  return env;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  // The LineReader hands ingest one line without its "\n".
  line = line.substr(0, line.find('\n'));
  if (IsBlank(line) || !nhitrace::IsValidUtf8(line)) return 0;

  // One parser for all lines, as ingest keeps one.
  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(line.data(), line.size(), /*realloc_if_needed=*/true).get(root)) return 0;

  auto rec = event::DecodeNative(root);
  if (!rec.ok()) {
    const auto& st = rec.status();
    FUZZ_CHECK(st.code() == StatusCode::kInvalidArgument, st.ToString());
    size_t sep = st.message().find(": ");
    FUZZ_CHECK(sep != std::string::npos && sep > 0 && sep + 2 < st.message().size(), st.message());
    return 0;
  }

  const event::Event& ev = rec->event;
  const std::string content = event::EncodeContent(ev);
  auto canon = nhitrace::json::Canonicalize(content);
  FUZZ_CHECK(canon.ok(), canon.status().message() + "\n  content: " + content);
  FUZZ_CHECK(*canon == content,
             "content is not canonical:\n  content:   " + content + "\n  canonical: " + *canon);
  if (!rec->raw_member.empty()) {
    auto raw = nhitrace::json::Canonicalize(rec->raw_member);
    FUZZ_CHECK(raw.ok() && *raw == rec->raw_member, rec->raw_member);
  }
  (void)event::ContentHash(content, rec->raw_member);

  for (bool with_raw : {true, false}) {
    event::LeafEnvelope env = FixedEnvelope();
    if (!with_raw) env.raw.reset();
    const std::string leaf = event::EncodeLeaf(content, env);
    auto decoded = event::DecodeLeaf(leaf);
    FUZZ_CHECK(decoded.ok(), decoded.status().ToString() + "\n  leaf: " + leaf);
    FUZZ_CHECK(decoded->event == ev, "event changed through the leaf:\n  leaf:  " + leaf +
                                         "\n  again: " + event::EncodeContent(decoded->event));
    FUZZ_CHECK(decoded->envelope.seq == env.seq);
    FUZZ_CHECK(decoded->envelope.ingested_ns == env.ingested_ns);
    FUZZ_CHECK(decoded->envelope.raw == env.raw);
  }
  return 0;
}
