// Fuzzes the Vault audit importer (src/ingest/vault/): the input is a stream of audit entries,
// one per line, mapped by one importer (so requests are held, paired, evicted and finished).
//
// Properties (fuzz/importer_check.h, and):
//   - a request held back and emitted later (eviction, Finish) carries as raw the exact bytes of
//     a line of the input;
//   - Finish empties the importer: a second Finish returns nothing.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "base/utf8.h"
#include "importer_check.h"
#include "ingest/vault/vault.h"

namespace {

namespace ingest = nhitrace::ingest;
using nhitrace::fuzz::CheckEvents;
using nhitrace::fuzz::MapAndCheck;

void CheckRaws(const ingest::MapResult& r, const std::set<std::string>& lines) {
  for (const auto& m : r.events) {
    if (m.raw) FUZZ_CHECK(lines.count(*m.raw) == 1, "raw is not an input line: " + *m.raw);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ingest::vault::Options options;
  options.max_pending_requests = 3;  // small, so eviction is reached
  options.max_pending_bytes = 2048;
  auto importer = ingest::vault::MakeImporter(options);
  static simdjson::dom::parser parser;
  std::set<std::string> lines;
  while (!input.empty()) {
    size_t nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    if (!nhitrace::IsValidUtf8(line)) continue;
    simdjson::dom::element root;
    if (nhitrace::json::ParseJson(parser, line, &root) != simdjson::SUCCESS) continue;
    lines.emplace(line);
    auto r = MapAndCheck(*importer, root, line);
    if (r.ok()) CheckRaws(*r, lines);
  }
  auto fin = importer->Finish();
  FUZZ_CHECK(fin.ok(), fin.status().ToString());
  CheckEvents(*fin, /*from_map=*/false);
  CheckRaws(*fin, lines);
  for (const auto& m : fin->events) FUZZ_CHECK(m.raw.has_value(), "a finished event has no raw");
  auto again = importer->Finish();
  FUZZ_CHECK(again.ok() && again->events.empty(), "Finish did not empty the importer");
  return 0;
}
