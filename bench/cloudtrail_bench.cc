// Throughput of the CloudTrail importer on the invictus sample (Google Benchmark): the records
// of ../shared/data/cloudtrail/invictus-aws-dataset, each minified, parsed with simdjson and
// mapped (BM_ParseAndMap), and additionally encoded to the canonical event content that ingest
// signs (BM_ParseMapEncode). Framing, decompression and the store are not included.
//
//   build/bench/nhitrace_cloudtrail_bench [--benchmark_filter=...]
//
// NHITRACE_SHARED_DIR overrides the location of ../shared.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <simdjson.h>

#include "event/codec.h"
#include "ingest/cloudtrail/cloudtrail.h"
#include "json/dom.h"

namespace nhitrace {
namespace {

std::vector<std::string> LoadInvictus() {
  const char* env = std::getenv("NHITRACE_SHARED_DIR");
  std::filesystem::path shared = env != nullptr && *env != '\0'
                                     ? std::filesystem::path(env)
                                     : std::filesystem::path(NHITRACE_SOURCE_DIR) / ".." / "shared";
  const auto dir = shared / "data" / "cloudtrail" / "invictus-aws-dataset";
  std::vector<std::filesystem::path> files;
  if (std::filesystem::exists(dir)) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> records;
  simdjson::dom::parser parser;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    simdjson::dom::element root, list;
    if (json::ParseJson(parser, text, &root) != simdjson::SUCCESS ||
        root.at_key("Records").get(list) != simdjson::SUCCESS) {
      continue;
    }
    for (simdjson::dom::element r : json::ArrayOf(list)) records.push_back(simdjson::minify(r));
  }
  return records;
}

const std::vector<std::string>& Records() {
  static const std::vector<std::string> records = LoadInvictus();
  return records;
}

void Run(benchmark::State& state, bool encode) {
  const auto& records = Records();
  if (records.empty()) {
    state.SkipWithError("needs ../shared/data/cloudtrail/invictus-aws-dataset");
    return;
  }
  size_t bytes = 0;
  for (const auto& r : records) bytes += r.size();
  auto importer = ingest::cloudtrail::MakeImporter();
  simdjson::dom::parser parser;
  size_t events = 0, content = 0;
  for (auto _ : state) {
    for (const auto& r : records) {
      simdjson::dom::element root;
      if (json::ParseJson(parser, r, &root) != simdjson::SUCCESS) continue;
      auto m = importer->Map(root, r);
      if (!m.ok()) continue;
      events += m->events.size();
      if (encode) {
        for (const auto& e : m->events) content += event::EncodeContent(e.event).size();
      }
    }
  }
  benchmark::DoNotOptimize(content);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records.size()));
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}

void BM_ParseAndMap(benchmark::State& state) { Run(state, false); }
void BM_ParseMapEncode(benchmark::State& state) { Run(state, true); }
BENCHMARK(BM_ParseAndMap)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseMapEncode)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace nhitrace

BENCHMARK_MAIN();
