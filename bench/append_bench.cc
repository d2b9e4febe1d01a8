// nhitrace_append_bench: append throughput through the public Ledger API (decode, Batch::Append,
// durable Commit with a signed checkpoint) for one store page size and batch size, with the
// bytes this process made the kernel write (/proc/self/io write_bytes: WAL, checkpoints and the
// database file). It isolates the ledger and store from the CLI's reading and threading, to
// compare storage settings, and with --derived the cost of maintaining the derived identity and
// grant tables (correlate::DerivedState, which `nhitrace ingest` attaches):
//
//   for p in 4096 16384 65536; do build/bench/nhitrace_append_bench --events 1000000 --page-size
//   $p; done for b in 4096 16384 65536; do build/bench/nhitrace_append_bench --events 1000000
//   --batch $b; done
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <simdjson.h>
#include <unistd.h>

#include "base/time.h"
#include "bench/workload.h"
#include "correlate/derived_state.h"
#include "event/codec.h"
#include "ledger/ledger.h"
#include "store/store.h"

namespace {

using namespace nhitrace;

int64_t WrittenBytes() {
  std::ifstream f("/proc/self/io");
  std::string key;
  int64_t value = 0, written = -1;
  while (f >> key >> value) {
    if (key == "write_bytes:") written = value;
  }
  return written;
}

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "nhitrace_append_bench: %s: %s\n", what.c_str(), s.message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t events = 1'000'000, seed = 1;
  int page_size = 65536;
  uint64_t batch_size = 16384;
  std::string dir;
  bool derived = false;
  CLI::App app{"Ledger API append throughput by store page size and batch size"};
  app.add_option("--events,-n", events, "Events to append")->capture_default_str();
  app.add_option("--seed", seed, "Workload seed")->capture_default_str();
  app.add_option("--page-size", page_size, "SQLite page size of the new store")
      ->capture_default_str();
  app.add_option("--batch", batch_size, "Events per committed batch")->capture_default_str();
  app.add_flag("--derived", derived, "Maintain the derived tables as nhitrace ingest does");
  app.add_option("--dir", dir, "Scratch directory (default: a new one under $TMPDIR or /tmp)");
  CLI11_PARSE(app, argc, argv);

  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/nhitrace-append-bench." +
          std::to_string(::getpid());
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  struct Cleanup {
    std::string d;
    ~Cleanup() { std::filesystem::remove_all(d); }
  } cleanup{dir};

  const Clock& clock = SystemClock::Instance();
  store::StoreOptions so;
  so.path = dir + "/ledger.db";
  so.page_size = page_size;
  const std::string key = dir + "/ledger.key";
  if (Status s = ledger::Ledger::Init(so, key, "bench.nhitrace.example/append", clock); !s.ok()) {
    return Fail("Init", s);
  }
  auto store = store::OpenStore(so);
  if (!store.ok()) return Fail("OpenStore", store.status());
  auto signer = ledger::LoadSigningKey(key);
  if (!signer.ok()) return Fail("LoadSigningKey", signer.status());
  auto ledger = ledger::Ledger::Open(std::move(store).value(), std::move(signer).value(), clock);
  if (!ledger.ok()) return Fail("Open", ledger.status());
  std::unique_ptr<correlate::DerivedState> derived_state;
  if (derived) {
    derived_state = std::make_unique<correlate::DerivedState>((*ledger)->store());
    (*ledger)->AddObserver(derived_state.get());
  }

  bench::WorkloadOptions o;
  o.events = events;
  o.seed = seed;
  bench::Workload w = bench::Workload::Plan(o);
  if (!w.error().empty()) {
    std::fprintf(stderr, "nhitrace_append_bench: %s\n", w.error().c_str());
    return 2;
  }
  bench::RenderedEvent e;
  simdjson::dom::parser parser;
  std::unique_ptr<ledger::Batch> batch;
  const int64_t written0 = WrittenBytes();
  const int64_t t0 = clock.NowUnixNanos();
  for (uint64_t i = 0; i < w.size(); ++i) {
    if (!batch) {
      auto b = (*ledger)->BeginBatch();
      if (!b.ok()) return Fail("BeginBatch", b.status());
      batch = std::move(b).value();
    }
    w.Render(i, &e);
    simdjson::dom::element root;
    if (parser.parse(e.line.data(), e.line.size(), true).get(root) != simdjson::SUCCESS) {
      std::fprintf(stderr, "nhitrace_append_bench: line %llu is not JSON\n",
                   static_cast<unsigned long long>(i));
      return 1;
    }
    auto rec = event::DecodeNative(root);
    if (!rec.ok()) return Fail("DecodeNative", rec.status());
    auto out = batch->Append(*rec, e.line);
    if (!out.ok()) return Fail("Append", out.status());
    if (batch->appended() >= batch_size || i + 1 == w.size()) {
      if (Status s = batch->Commit(); !s.ok()) return Fail("Commit", s);
      batch.reset();
    }
  }
  const double secs = static_cast<double>(clock.NowUnixNanos() - t0) / 1e9;
  const int64_t written = WrittenBytes() - written0;
  std::error_code ec;
  uintmax_t db_bytes = std::filesystem::file_size(so.path, ec);
  std::printf(
      "{\"events\":%llu,\"page_size\":%d,\"batch\":%llu,\"derived\":%s,\"seconds\":%.2f,"
      "\"events_per_s\":%.0f,\"written_gb\":%.2f,\"store_mb\":%.0f}\n",
      static_cast<unsigned long long>(events), page_size,
      static_cast<unsigned long long>(batch_size), derived ? "true" : "false", secs,
      static_cast<double>(events) / secs, static_cast<double>(written) / 1e9,
      static_cast<double>(db_bytes) / 1e6);
  return 0;
}
