// A deterministic, realistic workload of native schema v1 events (docs/format/event.md) for
// benchmarks and for checking reconciliation: many non-human identities, each with a grant chain
// keyed by a correlation key
//
//   request -> approval | denial -> provision (success | failure [-> retry]) -> actions
//           -> rotation | revocation | expiry -> reconciliation
//
// with actions Zipf-distributed over identities and a known number of deliberately broken chains
// (see BreakKind). Events come out in *arrival* order: per-source delivery delays and a few late
// re-exports make source timestamps mostly, but not always, increasing.
//
// The same options and seed always give the same bytes. The plan (one small record per event) is
// built up front so that the output can be ordered by arrival time; the lines themselves are
// rendered one at a time, so memory is about 40 bytes per event plus the identities.
//
//   bench::WorkloadOptions o;
//   o.events = 1'000'000;
//   auto w = bench::Workload::Plan(o);    // check w.error().empty()
//   bench::RenderedEvent e;
//   for (uint64_t i = 0; i < w.size(); ++i) { w.Render(i, &e); use(e.line); }
//
// Nothing here depends on the nhitrace libraries, so the generator keeps building while they
// change; the event lines are validated by ingesting them with the real binary.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nhitrace::bench {

struct WorkloadOptions {
  uint64_t events = 1'000'000;  // exact number of lines produced
  uint64_t seed = 1;
  uint64_t identities = 0;    // 0: events / 40; at most events / 10
  double zipf = 1.1;          // exponent of the action distribution over identities (> 0)
  double broken_rate = 0.02;  // share of chains broken on purpose, spread over the BreakKinds
  double late_rate = 0.02;    // share of events delivered 1..12 h late (besides source delays)
};

// The deliberate breaks, each a gap the reconciliation rules must find.
enum class BreakKind : int {
  kApprovalNeverProvisioned = 0,  // request + approval, no provision ever
  kProvisionWithoutRequest,       // provision (and use) under a correlation key never requested
  kActionAfterRevocation,         // revoked, then used again
  kActionOutsideScope,            // one use of a resource or permission the grant does not cover
  kActionAfterExpiry,             // expired (window.not_after passed), then used again
};
inline constexpr int kBreakKinds = 5;
std::string_view BreakKindName(BreakKind k);

struct BreakCount {
  uint64_t chains = 0;  // broken chains of this kind
  uint64_t events = 0;  // offending events (the actions, or the orphan provision)
};

struct WorkloadStats {
  uint64_t events = 0;
  uint64_t identities = 0;
  uint64_t chains_normal = 0;  // complete, unbroken chains (possibly with a retried provision)
  uint64_t chains_denied = 0;  // request -> denial
  uint64_t chains_provision_failed = 0;   // request -> approval -> failed provision, no retry
  uint64_t chains_provision_retried = 0;  // failed provision followed by a successful one
  std::array<BreakCount, kBreakKinds> breaks{};
  std::array<uint64_t, 12> kinds{};    // events per kind, in the order of KindNames()
  std::array<uint64_t, 5> subjects{};  // identities per subject kind (SubjectNames())
  uint64_t actions_zipf = 0;           // in-scope actions distributed by the Zipf law
  uint64_t max_actions_per_identity = 0;
  uint64_t out_of_order = 0;      // events whose time is before an earlier line's time
  uint64_t late_over_minute = 0;  // ... by more than a minute
  int64_t first_time_ns = 0, last_time_ns = 0;
};

const std::array<std::string_view, 12>& KindNames();
const std::array<std::string_view, 5>& SubjectNames();

// One rendered event: the native JSON line (no newline) and the columns nhitrace indexes, as
// `nhitrace ingest` will store them (empty = absent).
struct RenderedEvent {
  std::string line;
  std::string_view kind;
  int64_t time_ns = 0;
  std::string source_system;
  std::string source_event_id;
  std::string correlation_key;
  std::string identity_key;
  std::string actor_id;
  // The chain (= identity index) the event belongs to, and when the event is the offending
  // event of a deliberate break, that break's kind (else -1).
  uint32_t chain = 0;
  int break_kind = -1;
};

// The keys of one chain: its correlation key and its identity key (empty when no identity was
// ever provisioned).
struct ChainKeys {
  std::string_view correlation_key;
  std::string_view identity_key;
};

class Workload {
 public:
  // Plans the whole workload. On bad options returns an empty workload with error() set.
  static Workload Plan(const WorkloadOptions& options);

  Workload(Workload&&) noexcept;
  Workload& operator=(Workload&&) noexcept;
  ~Workload();

  const std::string& error() const { return error_; }
  uint64_t size() const;
  const WorkloadStats& stats() const { return stats_; }

  // Renders event `i` (0-based, arrival order; i is also its ledger seq when ingested into an
  // empty store). REQUIRES: i < size(). Thread-compatible: concurrent calls need their own `out`.
  void Render(uint64_t i, RenderedEvent* out) const;

  // REQUIRES: chain < stats().identities.
  ChainKeys Chain(uint32_t chain) const;

  // The statistics as one JSON object (counts per kind, per break, out-of-order lines...).
  std::string StatsJson(const WorkloadOptions& options, uint64_t bytes) const;

  struct Impl;

 private:
  Workload();
  std::unique_ptr<Impl> impl_;
  std::string error_;
  WorkloadStats stats_;
};

}  // namespace nhitrace::bench
