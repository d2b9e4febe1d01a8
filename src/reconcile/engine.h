// Engine: runs the reconciliation rules over the ledger and records what they find as finding
// events (docs/reconcile.md).
//
// Two ways to run, with the same result:
//   - incrementally: the engine observes every append; after each committed batch of evidence
//     (ingest calls RunIncremental), it evaluates the units the batch touched, plus the units
//     whose time rules fall due (the schedule), and appends the finding changes in a batch of
//     their own;
//   - as a full pass (`nhitrace reconcile`): every unit, and every open finding whose subject is
//     gone is resolved.
// A finding is appended only when it opens, changes or resolves, so running a pass twice writes
// nothing the second time. The latest policy applies; when it is not the one the last full pass
// used, RunIncremental runs a full pass instead.
//
// The engine also keeps, in the transactions of the appends, the tables folded from events:
// findings (from finding events) and exception/override decisions (from approval and case events
// with attributes.decision).
//
//   Engine engine(*ledger);                  // attaches itself as an observer of the ledger
//   ... ingest a batch ...
//   NHI_ASSIGN_OR_RETURN(PassStats s, engine.RunIncremental());
//   NHI_ASSIGN_OR_RETURN(PassStats f, engine.RunFull(as_of, nullptr));
//
// Threading: as the ledger (one thread).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "cases/projection.h"
#include "ledger/ledger.h"
#include "policy/policy.h"
#include "store/store.h"

namespace nhitrace::reconcile {

// Store metadata written by the engine.
inline constexpr char kMetaWatermark[] = "reconcile.watermark";  // events < N were considered
inline constexpr char kMetaPolicyVersion[] = "reconcile.policy_version";  // of the last full pass

struct PassStats {
  bool full = false;
  bool skipped = false;  // no policy is published: nothing was evaluated
  uint64_t policy_version = 0;
  int64_t as_of_ns = 0;
  uint64_t horizon = 0;  // evidence considered: seq <= horizon
  uint64_t units = 0;    // units evaluated
  uint64_t actions = 0;  // actions attributed
  uint64_t opened = 0, updated = 0, resolved = 0;
  uint64_t open_total = 0;  // open findings after the pass
  // Cases (only with AttachCases): opened by findings, findings joined to a case, closed cases
  // reopened, resolved (or reopened) findings noted on their case, severities raised.
  uint64_t cases_opened = 0, cases_joined = 0, cases_reopened = 0, cases_noted = 0,
           cases_raised = 0;
};

class Engine {
 public:
  // Attaches the engine to `ledger`. REQUIRES: the engine outlives every later append to the
  // ledger, and a correlate::DerivedState (and a policy::PolicyIndex) observe it too, added
  // before the engine.
  explicit Engine(ledger::Ledger& ledger);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // From now on, every pass also opens or joins cases for the findings it records, as the
  // policy's `cases.findings` says, appending the case events in the batch of the finding events
  // (docs/reconcile.md section 8). REQUIRES: `projection` observes the ledger and outlives the
  // engine. Without it, findings open no cases.
  void AttachCases(cases::CaseProjection* projection) { cases_ = projection; }

  // Evaluates what the batches committed since the last pass touched, and the units due at
  // `as_of` (default: the ledger's clock). A no-op when no policy is published.
  Result<PassStats> RunIncremental(std::optional<int64_t> as_of = std::nullopt);

  // Evaluates every unit at `as_of` (default: now) under the latest policy. kNotFound when no
  // policy is published. `progress` (may be empty) gets (units done, units in all).
  Result<PassStats> RunFull(std::optional<int64_t> as_of,
                            const std::function<void(uint64_t, uint64_t)>& progress);

  // Refolds the findings, decisions and policies tables from the ledger (one transaction) and
  // clears the schedule; the next RunIncremental then makes a full pass. For `nhitrace rebuild`.
  static Status RebuildTables(store::Store& store,
                              const std::function<void(uint64_t, uint64_t)>& progress = nullptr);

 private:
  class Fold;
  struct Change;
  Result<PassStats> Evaluate(const std::set<std::string>& units, const policy::Policy& policy,
                             int64_t as_of, bool full,
                             const std::function<void(uint64_t, uint64_t)>& progress);
  Result<const policy::Policy*> LatestPolicy();

  ledger::Ledger& ledger_;
  std::unique_ptr<Fold> fold_;
  std::unique_ptr<policy::Policy> policy_;  // cache of the latest policy
  cases::CaseProjection* cases_ = nullptr;
};

}  // namespace nhitrace::reconcile
