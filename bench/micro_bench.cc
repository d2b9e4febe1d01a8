// Micro-benchmarks of the hot paths of ingest and proving (Google Benchmark).
//
//   build/bench/nhitrace_micro_bench                                  # everything
//   build/bench/nhitrace_micro_bench --benchmark_filter='Proof'       # proofs only
//
// The proof benchmarks at 1M leaves run against an in-memory tree and against a real SQLite
// ledger built through the Ledger API from 1,000,000 generated events (bench/workload.h), opened
// with 0, 1024 and 4096 MiB of the file memory-mapped (argument mmap_mib; the CLI's query
// commands map 1 GiB). That ledger takes a while to build, so it is built once and cached in
// $NHITRACE_BENCH_CACHE (default /tmp/nhitrace-bench-cache) under a name that includes
// kFixtureVersion; bump the version when the event, leaf or store format changes. A cached
// ledger that no longer opens read-only, whose schema version differs from this build's, or that
// fails a proof smoke test is rebuilt; NHITRACE_BENCH_REBUILD=1 forces a rebuild.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <simdjson.h>
#include <unistd.h>

#include "base/time.h"
#include "bench/workload.h"
#include "crypto/sha256.h"
#include "event/codec.h"
#include "json/canonical.h"
#include "ledger/ledger.h"
#include "store/store.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/proof.h"

namespace nhitrace {
namespace {

using tlog::Hash;
using tlog::NodeId;

constexpr uint64_t kTreeSize = 1'000'000;
constexpr char kFixtureVersion[] = "ledger-v1-workload-v1";

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "nhitrace_micro_bench: %s: %s\n", what.c_str(), s.message().c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what, r.status());
  return std::move(r).value();
}

// ---------------------------------------------------------------------------------------------
// Typical inputs: a cycle of generated events, so that "typical" means the real mix of kinds
// (about 89% actions, the rest the grant chain events).

const std::vector<std::string>& TypicalLines() {
  static const std::vector<std::string> lines = [] {
    bench::WorkloadOptions o;
    o.events = 100'000;
    o.seed = 42;
    bench::Workload w = bench::Workload::Plan(o);
    std::vector<std::string> v;
    bench::RenderedEvent e;
    // Every (size / 1024)-th event: 1,031 events spread over the whole workload.
    for (uint64_t i = 0; i < w.size(); i += w.size() / 1024) {
      w.Render(i, &e);
      v.push_back(e.line);
    }
    return v;
  }();
  return lines;
}

size_t TotalBytes(const std::vector<std::string>& v) {
  size_t n = 0;
  for (const auto& s : v) n += s.size();
  return n;
}

// ---------------------------------------------------------------------------------------------
// Hashing.

void BM_LeafHash(benchmark::State& state) {
  std::string leaf(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    Hash h = tlog::LeafHash(leaf);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_LeafHash)->Arg(500)->Arg(1000);

void BM_NodeHash(benchmark::State& state) {
  Hash l = tlog::LeafHash("left"), r = tlog::LeafHash("right");
  for (auto _ : state) {
    l = tlog::NodeHash(l, r);
    benchmark::DoNotOptimize(l);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_NodeHash);

// ---------------------------------------------------------------------------------------------
// JSON and the event codec, over the typical lines.

void BM_Canonicalize(benchmark::State& state) {
  const auto& lines = TypicalLines();
  size_t i = 0;
  for (auto _ : state) {
    auto c = json::Canonicalize(lines[i]);
    if (!c.ok()) Die("Canonicalize", c.status());
    benchmark::DoNotOptimize(c);
    if (++i == lines.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * TotalBytes(lines) / lines.size()));
}
BENCHMARK(BM_Canonicalize);

// Stage by stage: parse (simdjson), + DecodeNative, + EncodeContent.
void DecodeBench(benchmark::State& state, int stages) {
  const auto& lines = TypicalLines();
  std::vector<simdjson::padded_string> padded;
  for (const auto& l : lines) padded.emplace_back(l);
  simdjson::dom::parser parser;
  size_t i = 0;
  for (auto _ : state) {
    simdjson::dom::element root;
    if (parser.parse(padded[i]).get(root) != simdjson::SUCCESS) std::abort();
    if (stages >= 2) {
      auto rec = event::DecodeNative(root);
      if (!rec.ok()) Die("DecodeNative", rec.status());
      if (stages >= 3) {
        std::string content = event::EncodeContent(rec->event);
        benchmark::DoNotOptimize(content);
      }
      benchmark::DoNotOptimize(rec);
    }
    if (++i == lines.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * TotalBytes(lines) / lines.size()));
}
void BM_Parse(benchmark::State& state) { DecodeBench(state, 1); }
void BM_ParseDecodeNative(benchmark::State& state) { DecodeBench(state, 2); }
void BM_ParseDecodeNativeEncodeContent(benchmark::State& state) { DecodeBench(state, 3); }
BENCHMARK(BM_Parse);
BENCHMARK(BM_ParseDecodeNative);
BENCHMARK(BM_ParseDecodeNativeEncodeContent);

// Everything Batch::Append computes per event besides the store writes: parse, decode, content,
// content hash, salted raw digest, leaf, leaf hash, and the tree's right edge. This is the CPU
// ceiling of ingest on one core.
void BM_AppendCpuPath(benchmark::State& state) {
  const auto& lines = TypicalLines();
  std::vector<simdjson::padded_string> padded;
  for (const auto& l : lines) padded.emplace_back(l);
  simdjson::dom::parser parser;
  tlog::CompactRange range;
  std::string salt(32, 's');
  size_t i = 0;
  uint64_t seq = 0;
  for (auto _ : state) {
    simdjson::dom::element root;
    if (parser.parse(padded[i]).get(root) != simdjson::SUCCESS) std::abort();
    auto rec = event::DecodeNative(root);
    if (!rec.ok()) Die("DecodeNative", rec.status());
    std::string content = event::EncodeContent(rec->event);
    std::string content_hash = event::ContentHash(content, rec->raw_member);
    event::LeafEnvelope env;
    env.seq = seq++;
    env.ingested_ns = 1767571200000000000;
    env.raw = event::RawDigest{std::string(crypto::AsBytes(crypto::Sha256(salt, lines[i]))),
                               lines[i].size()};
    std::string leaf = event::EncodeLeaf(content, env);
    range.Append(tlog::LeafHash(leaf));
    benchmark::DoNotOptimize(content_hash);
    if (++i == lines.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * TotalBytes(lines) / lines.size()));
}
BENCHMARK(BM_AppendCpuPath);

// Signing and opening a checkpoint (Ed25519): once per committed batch when appending, and once
// per proof when proving (Ledger::Prove* verify the signed checkpoint before answering).
void CheckpointBench(benchmark::State& state, bool sign) {
  auto signer = Must(tlog::NoteSigner::Generate("bench.nhitrace.example/log"), "Generate");
  tlog::Checkpoint cp{"bench.nhitrace.example/log", kTreeSize, tlog::LeafHash("root"), {}};
  std::string note = Must(tlog::SignCheckpoint(cp, signer), "SignCheckpoint");
  tlog::NoteVerifier verifier = signer.Verifier();
  for (auto _ : state) {
    if (sign) {
      auto n = tlog::SignCheckpoint(cp, signer);
      benchmark::DoNotOptimize(n);
    } else {
      auto opened = tlog::OpenCheckpoint(note, verifier);
      if (!opened.ok()) Die("OpenCheckpoint", opened.status());
      benchmark::DoNotOptimize(opened);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
void BM_CheckpointSign(benchmark::State& state) { CheckpointBench(state, true); }
void BM_CheckpointOpen(benchmark::State& state) { CheckpointBench(state, false); }
BENCHMARK(BM_CheckpointSign)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CheckpointOpen)->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------------------------
// The tree's right edge.

void BM_CompactRangeAppend(benchmark::State& state) {
  std::vector<Hash> leaves;
  for (int i = 0; i < 4096; ++i) leaves.push_back(tlog::LeafHash(std::to_string(i)));
  tlog::CompactRange range;
  uint64_t nodes = 0;
  size_t i = 0;
  const bool with_callback = state.range(0) != 0;
  for (auto _ : state) {
    if (with_callback) {
      range.Append(leaves[i], [&](const NodeId&, const Hash&) { ++nodes; });
    } else {
      range.Append(leaves[i]);
    }
    if (++i == leaves.size()) i = 0;
  }
  benchmark::DoNotOptimize(nodes);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["tree_size"] = static_cast<double>(range.size());
}
BENCHMARK(BM_CompactRangeAppend)->ArgName("on_node")->Arg(0)->Arg(1);

// ---------------------------------------------------------------------------------------------
// Proofs at 1M leaves, in memory.

// Every perfect subtree of a tree, in memory: the lower bound for a NodeReader.
class MemoryNodes final : public tlog::NodeReader {
 public:
  explicit MemoryNodes(uint64_t size) {
    levels_.emplace_back();
    levels_[0].reserve(size);
    tlog::CompactRange range;
    for (uint64_t i = 0; i < size; ++i) {
      Hash leaf = tlog::LeafHash("leaf " + std::to_string(i));
      levels_[0].push_back(leaf);
      range.Append(leaf, [&](const NodeId& id, const Hash& h) {
        if (levels_.size() <= id.level) levels_.resize(id.level + 1);
        levels_[id.level].push_back(h);  // completed left to right on each level
      });
    }
    root_ = range.Root();
  }
  Result<std::vector<Hash>> ReadNodes(std::span<const NodeId> ids) override {
    std::vector<Hash> out;
    out.reserve(ids.size());
    for (const NodeId& id : ids) {
      if (id.level >= levels_.size() || id.index >= levels_[id.level].size()) {
        return NotFoundError("no node " + std::to_string(id.level) + "/" +
                             std::to_string(id.index));
      }
      out.push_back(levels_[id.level][id.index]);
    }
    return out;
  }
  const Hash& leaf(uint64_t i) const { return levels_[0][i]; }
  const Hash& root() const { return root_; }

 private:
  std::vector<std::vector<Hash>> levels_;
  Hash root_{};
};

MemoryNodes& MemoryTree() {
  static MemoryNodes nodes(kTreeSize);
  return nodes;
}

std::vector<uint64_t> RandomIndices(uint64_t lo, uint64_t hi, size_t n) {
  std::mt19937_64 rng(12345);
  std::uniform_int_distribution<uint64_t> d(lo, hi - 1);
  std::vector<uint64_t> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void BM_InclusionProof_Memory(benchmark::State& state) {
  MemoryNodes& nodes = MemoryTree();
  auto idx = RandomIndices(0, kTreeSize, 4096);
  // The proofs are right: check one.
  auto p = Must(tlog::InclusionProof(nodes, idx[0], kTreeSize), "InclusionProof");
  if (!tlog::VerifyInclusion(idx[0], kTreeSize, nodes.leaf(idx[0]), p, nodes.root()).ok()) {
    std::abort();
  }
  size_t i = 0;
  for (auto _ : state) {
    auto proof = tlog::InclusionProof(nodes, idx[i], kTreeSize);
    benchmark::DoNotOptimize(proof);
    if (++i == idx.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_InclusionProof_Memory)->Unit(benchmark::kMicrosecond);

void BM_InclusionProofVerify(benchmark::State& state) {
  MemoryNodes& nodes = MemoryTree();
  auto idx = RandomIndices(0, kTreeSize, 256);
  std::vector<std::vector<Hash>> proofs;
  for (uint64_t x : idx) proofs.push_back(Must(tlog::InclusionProof(nodes, x, kTreeSize), "proof"));
  size_t i = 0;
  for (auto _ : state) {
    Status s =
        tlog::VerifyInclusion(idx[i], kTreeSize, nodes.leaf(idx[i]), proofs[i], nodes.root());
    benchmark::DoNotOptimize(s);
    if (++i == idx.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_InclusionProofVerify)->Unit(benchmark::kMicrosecond);

void BM_ConsistencyProof_Memory(benchmark::State& state) {
  MemoryNodes& nodes = MemoryTree();
  auto sizes = RandomIndices(1, kTreeSize, 4096);
  size_t i = 0;
  for (auto _ : state) {
    auto proof = tlog::ConsistencyProof(nodes, sizes[i], kTreeSize);
    benchmark::DoNotOptimize(proof);
    if (++i == sizes.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ConsistencyProof_Memory)->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------------------------
// Proofs at 1M leaves, against a real SQLite ledger.

std::string CacheDir() {
  const char* env = std::getenv("NHITRACE_BENCH_CACHE");
  std::string base = env != nullptr && *env != '\0' ? env : "/tmp/nhitrace-bench-cache";
  return base + "/" + kFixtureVersion + "-" + std::to_string(kTreeSize);
}

// Builds the ledger into `dir` through the public Ledger API, as `nhitrace ingest` would:
// batches of 16,384 events, each committed durably with a signed checkpoint.
void BuildLedger(const std::string& dir) {
  std::filesystem::create_directories(dir);
  const std::string db = dir + "/ledger.db", key = dir + "/ledger.key";
  const Clock& clock = SystemClock::Instance();
  store::StoreOptions so;
  so.path = db;
  Status s = ledger::Ledger::Init(so, key, "bench.nhitrace.example/micro", clock);
  if (!s.ok()) Die("Ledger::Init " + db, s);
  auto signer = Must(ledger::LoadSigningKey(key), "LoadSigningKey");
  auto ledger =
      Must(ledger::Ledger::Open(Must(store::OpenStore(so), "OpenStore"), std::move(signer), clock),
           "Ledger::Open");
  bench::WorkloadOptions o;
  o.events = kTreeSize;
  o.seed = 1;
  bench::Workload w = bench::Workload::Plan(o);
  bench::RenderedEvent e;
  simdjson::dom::parser parser;
  int64_t t0 = clock.NowUnixNanos();
  std::unique_ptr<ledger::Batch> batch;
  for (uint64_t i = 0; i < w.size(); ++i) {
    if (!batch) batch = Must(ledger->BeginBatch(), "BeginBatch");
    w.Render(i, &e);
    simdjson::dom::element root;
    if (parser.parse(e.line.data(), e.line.size(), true).get(root) != simdjson::SUCCESS) {
      std::fprintf(stderr, "generated line %llu is not JSON\n", static_cast<unsigned long long>(i));
      std::exit(1);
    }
    auto rec = Must(event::DecodeNative(root), "DecodeNative line " + std::to_string(i));
    auto out = Must(batch->Append(rec, e.line), "Append");
    if (out.status != ledger::AppendStatus::kAccepted) {
      std::fprintf(stderr, "generated line %llu was not accepted\n",
                   static_cast<unsigned long long>(i));
      std::exit(1);
    }
    if (batch->appended() == 16384 || i + 1 == w.size()) {
      s = batch->Commit();
      if (!s.ok()) Die("Commit", s);
      batch.reset();
    }
    if ((i + 1) % 200'000 == 0) {
      std::fprintf(stderr, "  %llu events, %.0f s\n", static_cast<unsigned long long>(i + 1),
                   static_cast<double>(clock.NowUnixNanos() - t0) / 1e9);
    }
  }
}

struct SqliteFixture {
  std::unique_ptr<ledger::Ledger> ledger;
  std::vector<uint64_t> checkpoint_sizes;  // published, > 0 and < kTreeSize
};

// The schema version a store created by this build has.
int CurrentSchemaVersion(const std::string& dir) {
  const std::string path = dir + "/schema-probe.db";
  std::filesystem::remove(path);
  store::StoreOptions so;
  so.path = path;
  so.create = true;
  auto st = Must(store::OpenStore(so), "creating a probe store");
  int v = st->schema_version();
  st.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return v;
}

Result<SqliteFixture> OpenFixture(const std::string& dir, int schema_version,
                                  int64_t mmap_bytes = 0) {
  SqliteFixture f;
  store::StoreOptions so;
  so.path = dir + "/ledger.db";
  so.read_only = true;
  so.mmap_bytes = mmap_bytes;
  // A read-only store does not run migrations (nor report its version), so the version the
  // ledger was built with is kept next to it.
  std::string stamp;
  if (FILE* sf = std::fopen((dir + "/schema-version").c_str(), "r")) {
    char buf[32] = {};
    size_t got = std::fread(buf, 1, sizeof buf - 1, sf);
    std::fclose(sf);
    stamp.assign(buf, got);
  }
  if (stamp != std::to_string(schema_version)) {
    return FailedPreconditionError("cached ledger was built with store schema version \"" + stamp +
                                   "\", this build has " + std::to_string(schema_version));
  }
  NHI_ASSIGN_OR_RETURN(auto st, store::OpenStore(so));
  NHI_ASSIGN_OR_RETURN(f.ledger,
                       ledger::Ledger::Open(std::move(st), std::nullopt, SystemClock::Instance()));
  if (f.ledger->size() != kTreeSize) {
    return DataLossError("cached ledger has " + std::to_string(f.ledger->size()) + " events");
  }
  NHI_ASSIGN_OR_RETURN(auto cps, f.ledger->store().ListCheckpoints());
  for (const auto& cp : cps) {
    if (cp.size > 0 && cp.size < kTreeSize) f.checkpoint_sizes.push_back(cp.size);
  }
  if (f.checkpoint_sizes.empty()) return DataLossError("cached ledger has no checkpoints");
  // Smoke test: the proofs the benchmarks ask for work and verify.
  NHI_RETURN_IF_ERROR(f.ledger->ProveInclusion(kTreeSize / 3, kTreeSize).status());
  NHI_RETURN_IF_ERROR(f.ledger->ProveConsistency(f.checkpoint_sizes[0], kTreeSize).status());
  return f;
}

struct FixtureDir {
  std::string dir;
  int schema = 0;
};

// The directory of a valid cached 1M-event ledger, built first if needed.
const FixtureDir& Fixture() {
  static FixtureDir fixture = [] {
    const std::string dir = CacheDir();
    std::filesystem::create_directories(std::filesystem::path(dir).parent_path());
    const int schema = CurrentSchemaVersion(std::filesystem::path(dir).parent_path().string());
    const char* rebuild = std::getenv("NHITRACE_BENCH_REBUILD");
    auto f = rebuild != nullptr && *rebuild == '1'
                 ? Result<SqliteFixture>(FailedPreconditionError("NHITRACE_BENCH_REBUILD=1"))
                 : OpenFixture(dir, schema);
    if (f.ok()) {
      std::fprintf(stderr, "using the cached 1M-event ledger in %s\n", dir.c_str());
      return FixtureDir{dir, schema};
    }
    std::fprintf(stderr, "building a 1M-event ledger in %s (cached for later runs): %s\n",
                 dir.c_str(), f.status().message().c_str());
    std::filesystem::remove_all(dir);
    const std::string tmp = dir + ".tmp." + std::to_string(::getpid());
    std::filesystem::remove_all(tmp);
    int64_t t0 = SystemClock::Instance().NowUnixNanos();
    BuildLedger(tmp);
    if (FILE* sf = std::fopen((tmp + "/schema-version").c_str(), "w")) {
      std::fputs(std::to_string(schema).c_str(), sf);
      std::fclose(sf);
    }
    double secs = static_cast<double>(SystemClock::Instance().NowUnixNanos() - t0) / 1e9;
    std::filesystem::rename(tmp, dir);
    Must(OpenFixture(dir, schema), "opening the ledger just built");
    std::fprintf(stderr, "built in %.1f s (%.0f events/s through the Ledger API)\n", secs,
                 static_cast<double>(kTreeSize) / secs);
    return FixtureDir{dir, schema};
  }();
  return fixture;
}

// The cached ledger opened read-only with `mmap_mib` MiB of the file memory-mapped (the CLI's
// query commands map 1 GiB; the 1M-event store is ~1.9 GB).
SqliteFixture& Sqlite(int64_t mmap_mib) {
  static std::map<int64_t, SqliteFixture> opened;
  auto it = opened.find(mmap_mib);
  if (it == opened.end()) {
    const FixtureDir& d = Fixture();
    it = opened.emplace(mmap_mib, Must(OpenFixture(d.dir, d.schema, mmap_mib << 20), "open")).first;
  }
  return it->second;
}

void BM_InclusionProof_Sqlite(benchmark::State& state) {
  SqliteFixture& f = Sqlite(state.range(0));
  auto idx = RandomIndices(0, kTreeSize, 4096);
  size_t i = 0;
  for (auto _ : state) {
    auto proof = tlog::InclusionProof(f.ledger->store().nodes(), idx[i], kTreeSize);
    if (!proof.ok()) Die("InclusionProof", proof.status());
    benchmark::DoNotOptimize(proof);
    if (++i == idx.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_InclusionProof_Sqlite)
    ->ArgName("mmap_mib")
    ->Arg(0)
    ->Arg(1024)
    ->Arg(4096)
    ->Unit(benchmark::kMicrosecond);

// What `nhitrace prove inclusion` does after opening the store: read the event, re-hash its
// leaf, build the proof, fetch the signed checkpoint, verify its signature (once per tree size
// and Ledger: verified roots are reused) and the proof.
void BM_LedgerProveInclusion(benchmark::State& state) {
  SqliteFixture& f = Sqlite(state.range(0));
  auto idx = RandomIndices(0, kTreeSize, 4096);
  size_t i = 0;
  for (auto _ : state) {
    auto r = f.ledger->ProveInclusion(idx[i], kTreeSize);
    if (!r.ok()) Die("ProveInclusion", r.status());
    benchmark::DoNotOptimize(r);
    if (++i == idx.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_LedgerProveInclusion)
    ->ArgName("mmap_mib")
    ->Arg(0)
    ->Arg(1024)
    ->Arg(4096)
    ->Unit(benchmark::kMicrosecond);

void BM_ConsistencyProof_Sqlite(benchmark::State& state) {
  SqliteFixture& f = Sqlite(state.range(0));
  auto sizes = RandomIndices(1, kTreeSize, 4096);
  size_t i = 0;
  for (auto _ : state) {
    auto proof = tlog::ConsistencyProof(f.ledger->store().nodes(), sizes[i], kTreeSize);
    if (!proof.ok()) Die("ConsistencyProof", proof.status());
    benchmark::DoNotOptimize(proof);
    if (++i == sizes.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ConsistencyProof_Sqlite)
    ->ArgName("mmap_mib")
    ->Arg(0)
    ->Arg(1024)
    ->Arg(4096)
    ->Unit(benchmark::kMicrosecond);

// Between two published checkpoints (the older one random), verified against both signatures.
void BM_LedgerProveConsistency(benchmark::State& state) {
  SqliteFixture& f = Sqlite(state.range(0));
  std::mt19937_64 rng(7);
  std::vector<uint64_t> sizes;
  for (int j = 0; j < 1024; ++j)
    sizes.push_back(f.checkpoint_sizes[rng() % f.checkpoint_sizes.size()]);
  size_t i = 0;
  for (auto _ : state) {
    auto r = f.ledger->ProveConsistency(sizes[i], kTreeSize);
    if (!r.ok()) Die("ProveConsistency", r.status());
    benchmark::DoNotOptimize(r);
    if (++i == sizes.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_LedgerProveConsistency)
    ->ArgName("mmap_mib")
    ->Arg(0)
    ->Arg(1024)
    ->Arg(4096)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace nhitrace

BENCHMARK_MAIN();
