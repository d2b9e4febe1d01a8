// nhitrace_case_bench: case management at scale (issue: 100k cases in a 10M-event ledger;
// explain p99 <= 10 ms, listing and filtering 100k cases <= 50 ms).
//
// 1. Appends --events background events (actions of --identities identities, 16,384 per batch)
//    so that cases live in a ledger of realistic size.
// 2. Runs --cases cases through a life of case operations (open, assign, transition, decide,
//    task add, comment, task done, close), through CaseSession as the CLI does: each operation
//    is one batch with its commit (ops/s, with the time per operation), unless --ops-per-batch
//    groups several.
// 3. Explains --explain random cases (ExplainCase: fold from the ledger plus the text): p50, p99.
// 4. Lists: every case (ListCases, no filter), open cases of one owner, closed critical ones.
//
//   build/bench/nhitrace_case_bench --cases 100000 --events 10000000
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <simdjson.h>
#include <unistd.h>

#include "base/time.h"
#include "cases/explain.h"
#include "cases/projection.h"
#include "cases/session.h"
#include "event/codec.h"
#include "ledger/ledger.h"
#include "store/store.h"

namespace {

using namespace nhitrace;
using Clk = std::chrono::steady_clock;

double Ms(Clk::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// CPU time of this thread, in ms: unlike wall time, not inflated by other processes on a shared
// machine.
double CpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "nhitrace_case_bench: %s: %s\n", what.c_str(), s.message().c_str());
  return 1;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t cases = 10000, events = 0, identities = 50000, explain = 1000, seed = 1;
  uint64_t ops_per_batch = 1;
  std::string dir;
  bool durable = false, keep = false, measure_only = false;
  CLI::App app{"Case operations, explain and listing at scale"};
  app.add_option("--cases", cases, "Cases to run through their life")->capture_default_str();
  app.add_option("--events", events, "Background events in the ledger")->capture_default_str();
  app.add_option("--identities", identities, "Identities of the background events")
      ->capture_default_str();
  app.add_option("--explain", explain, "Cases to explain")->capture_default_str();
  app.add_option("--ops-per-batch", ops_per_batch, "Case operations per committed batch")
      ->capture_default_str();
  app.add_flag("--durable", durable, "fsync every commit (default: crash-safe for the process)");
  app.add_option("--seed", seed, "Random seed")->capture_default_str();
  app.add_option("--dir", dir, "Scratch directory (default: a new one under $TMPDIR or /tmp)");
  app.add_flag("--keep", keep, "Keep the scratch directory (the store) afterwards");
  app.add_flag("--measure-only", measure_only,
               "Only explain and list, on the store a --keep run left in --dir (give --cases)");
  CLI11_PARSE(app, argc, argv);
  if (ops_per_batch == 0) ops_per_batch = 1;

  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    dir = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/nhitrace-case-bench." +
          std::to_string(::getpid());
  }
  if (!measure_only) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  struct Cleanup {
    std::string d;
    ~Cleanup() {
      if (!d.empty()) std::filesystem::remove_all(d);
    }
  } cleanup{keep || measure_only ? std::string() : dir};

  // The ledger's clock is the real one; the cases' clock moves 1 s per operation so that SLA
  // timers are planned but none falls due during the run.
  const Clock& clock = SystemClock::Instance();
  FakeClock case_clock(1772323200LL * 1000000000LL);
  store::StoreOptions so;
  so.path = dir + "/ledger.db";
  so.durable = durable;
  if (!measure_only) {
    Status st = ledger::Ledger::Init(so, dir + "/ledger.key", "bench.example/cases", clock);
    if (!st.ok()) return Fail("init", st);
  }
  auto signer = ledger::LoadSigningKey(dir + "/ledger.key");
  if (!signer.ok()) return Fail("key", signer.status());
  auto store = store::OpenStore(so);
  if (!store.ok()) return Fail("open", store.status());
  auto ledger = ledger::Ledger::Open(std::move(*store), std::move(*signer), clock);
  if (!ledger.ok()) return Fail("open ledger", ledger.status());
  cases::CaseProjection projection((*ledger)->store());
  (*ledger)->AddObserver(&projection);
  std::mt19937_64 rng(seed);

  // 1. Background events.
  auto t0 = Clk::now();
  if (measure_only) events = 0;
  for (uint64_t i = 0; i < events;) {
    auto batch = (*ledger)->BeginBatch();
    if (!batch.ok()) return Fail("batch", batch.status());
    for (uint64_t j = 0; j < 16384 && i < events; ++j, ++i) {
      event::NativeRecord r;
      r.event.kind = event::Kind::kAction;
      r.event.source_system = "bench";
      r.event.source_event_id = "a-" + std::to_string(i);
      r.event.time_ns = 1769904000LL * 1000000000LL + static_cast<int64_t>(i) * 1000000;
      r.event.time = FormatRfc3339Utc(r.event.time_ns, 6);
      r.event.identity = "aws:accesskey:AKIABENCH" + std::to_string(rng() % identities);
      auto o = (*batch)->Append(r, r.event.source_event_id);
      if (!o.ok()) return Fail("append", o.status());
    }
    Status c = (*batch)->Commit();
    if (!c.ok()) return Fail("commit", c);
  }
  double bg_s = Ms(Clk::now() - t0) / 1000;
  if (events) std::printf("background: %llu events in %.1f s\n", (unsigned long long)events, bg_s);

  // 2. Case operations.
  store::Store& s = (*ledger)->store();
  std::vector<std::string> owners;
  for (int i = 0; i < 50; ++i) owners.push_back("analyst" + std::to_string(i) + "@example.com");
  const int kOpsPerCase = 8;
  std::vector<double> op_ms;
  op_ms.reserve(cases * kOpsPerCase);
  uint64_t total_ops = 0;
  std::unique_ptr<ledger::Batch> batch;
  std::unique_ptr<cases::BatchEventWriter> writer;
  std::unique_ptr<cases::CaseSession> session;
  uint64_t in_batch = 0;
  auto begin = [&]() -> Status {
    NHI_ASSIGN_OR_RETURN(batch, (*ledger)->BeginBatch());
    writer = std::make_unique<cases::BatchEventWriter>(*batch);
    session = std::make_unique<cases::CaseSession>(
        s, projection, *writer, cases::CaseEnv{&case_clock, cases::PolicyContext{}, nullptr});
    in_batch = 0;
    return OkStatus();
  };
  auto end = [&]() -> Status {
    session.reset();
    writer.reset();
    Status c = batch->Commit();
    batch.reset();
    return c;
  };
  t0 = Clk::now();
  for (uint64_t c = 0; c < cases && !measure_only; ++c) {
    uint64_t id = c + 1;
    const std::string& owner = owners[rng() % owners.size()];
    std::string reporter = "requester" + std::to_string(c % 977) + "@example.com";
    std::string key = "aws:accesskey:AKIABENCH" + std::to_string(rng() % identities);
    bool close = c % 4 != 0;  // a quarter stay open
    for (int k = 0; k < kOpsPerCase; ++k) {
      if (k == kOpsPerCase - 1 && !close) break;
      auto op_start = Clk::now();
      if (!batch) {
        Status b = begin();
        if (!b.ok()) return Fail("begin", b);
      }
      case_clock.Advance(1000000000);
      Result<cases::OpResult> r = Status(StatusCode::kInternal, "no op");
      cases::ActorRef actor{owner, "human"};
      switch (k) {
        case 0: {
          cases::OpenArgs a;
          a.kind = c % 3 == 0 ? cases::CaseKind::kIncident : cases::CaseKind::kFinding;
          a.severity = static_cast<cases::Severity>(rng() % 4);
          a.title = "Unexpected use of " + key;
          a.links.identities = {key};
          r = session->Open(a, {reporter, "human"});
          break;
        }
        case 1:
          r = session->Assign(id, owner, {reporter, "human"}, "");
          break;
        case 2:
          r = session->Transition(id, cases::CaseState::kInvestigating, actor, "triaged");
          break;
        case 3: {
          cases::DecideArgs d;
          d.outcome = cases::Outcome::kApprove;
          d.rationale = "expected use by the deploy pipeline";
          r = session->Decide(id, d, actor);
          break;
        }
        case 4:
          r = session->AddTask(id, "Confirm with the owner", owner, std::nullopt, actor, "");
          break;
        case 5:
          r = session->Comment(id, "owner confirmed in chat", actor);
          break;
        case 6:
          r = session->UpdateTask(id, 1, "done", actor, "");
          break;
        case 7:
          r = session->Close(id, cases::Resolution::kFalsePositive, "expected use", actor);
          break;
      }
      if (!r.ok())
        return Fail("case " + std::to_string(id) + " op " + std::to_string(k), r.status());
      if (++in_batch >= ops_per_batch) {
        Status e = end();
        if (!e.ok()) return Fail("commit", e);
      }
      op_ms.push_back(Ms(Clk::now() - op_start));
      ++total_ops;
    }
  }
  if (batch) {
    Status e = end();
    if (!e.ok()) return Fail("commit", e);
  }
  double ops_s = Ms(Clk::now() - t0) / 1000;
  auto count = s.EventCount();
  if (!measure_only)
    std::printf(
        "case ops: %llu cases, %llu ops in %.1f s: %.0f ops/s (%llu per batch%s); per op "
        "p50 %.3f ms, p99 %.3f ms; ledger %llu events\n",
        (unsigned long long)cases, (unsigned long long)total_ops, ops_s,
        static_cast<double>(total_ops) / ops_s, (unsigned long long)ops_per_batch,
        durable ? ", fsync" : "", Percentile(op_ms, 0.5), Percentile(op_ms, 0.99),
        (unsigned long long)(count.ok() ? *count : 0));

  // 3. Explain.
  std::vector<double> ex_ms, ex_cpu;
  for (uint64_t i = 0; i < explain && cases > 0; ++i) {
    uint64_t id = 1 + rng() % cases;
    auto t = Clk::now();
    double c0 = CpuMs();
    auto x = cases::ExplainCase(s, id);
    if (!x.ok()) return Fail("explain", x.status());
    std::string text = cases::ExplanationToText(*x);
    ex_ms.push_back(Ms(Clk::now() - t));
    ex_cpu.push_back(CpuMs() - c0);
    if (!x->view_consistent) return Fail("explain", InternalError(x->inconsistency));
  }
  std::printf(
      "explain: %zu cases: wall p50 %.3f ms, p99 %.3f ms, max %.3f ms; cpu p50 %.3f ms, "
      "p99 %.3f ms\n",
      ex_ms.size(), Percentile(ex_ms, 0.5), Percentile(ex_ms, 0.99),
      ex_ms.empty() ? 0 : *std::max_element(ex_ms.begin(), ex_ms.end()), Percentile(ex_cpu, 0.5),
      Percentile(ex_cpu, 0.99));

  // 4. Listing and filtering.
  // ScanCases streams the rows (what `case list` does); ListCases collects them in a vector.
  auto timed_list = [&](const char* what, store::CaseQuery q) -> int {
    std::vector<double> scan_ms, list_ms, scan_cpu;
    size_t n = 0;
    uint64_t checksum = 0;
    for (int i = 0; i < 5; ++i) {
      auto t = Clk::now();
      double c0 = CpuMs();
      n = 0;
      Status sc = s.ScanCases(q, [&](const store::CaseRow& r) {
        ++n;
        checksum += r.id + r.title.size();
        return OkStatus();
      });
      if (!sc.ok()) return Fail("scan", sc);
      scan_ms.push_back(Ms(Clk::now() - t));
      scan_cpu.push_back(CpuMs() - c0);
      t = Clk::now();
      auto rows = s.ListCases(q);
      if (!rows.ok()) return Fail("list", rows.status());
      list_ms.push_back(Ms(Clk::now() - t));
      if (rows->size() != n) return Fail("list", InternalError("scan and list disagree"));
    }
    std::printf("list %-26s %6zu rows: scan median %.1f ms (cpu %.1f ms), collected %.1f ms\n",
                what, n, Percentile(scan_ms, 0.5), Percentile(scan_cpu, 0.5),
                Percentile(list_ms, 0.5));
    return checksum == 0 && n > 0 ? 1 : 0;
  };
  store::CaseQuery all;
  all.limit = SIZE_MAX >> 1;
  if (timed_list("all", all)) return 1;
  store::CaseQuery mine = all;
  mine.owner = owners[0];
  mine.open_only = true;
  if (timed_list("open, one owner", mine)) return 1;
  store::CaseQuery crit = all;
  crit.state = "closed";
  crit.severity = "critical";
  if (timed_list("closed and critical", crit)) return 1;
  store::CaseQuery page = all;
  page.open_only = true;
  page.limit = 100;
  if (timed_list("open, first page of 100", page)) return 1;
  return 0;
}
