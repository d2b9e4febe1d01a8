// CaseProjection: the derived case tables, kept in step with the ledger.
//
// It observes every append (ledger::AppendObserver) and folds each case event into its case
// (cases/fold.h), writing the case's rows at once in the same transaction (so later reads in the
// batch see them, and the tables can never disagree with a committed ledger):
//   cases           one row per case: kind, state, severity, owner, times, next timer due
//   case_events     which ledger seq is which op of which case
//   case_tasks      tasks with owner, due date and status
//   case_links      identities, events, findings, grant chains and tickets linked to cases
//   case_decisions  every decision with its outcome, status and decider
//   case_rejected   case events that do not fit their case (malformed, out of sequence)
// A case event that does not fit is recorded in case_rejected and otherwise ignored; it never
// fails the batch (an ingest of someone else's "case" records must not stop). Rebuild recomputes
// all of it from the ledger, and tests check it equals what was maintained incrementally.
//
// Threading: as the ledger: one thread, one batch at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "base/status.h"
#include "cases/case_model.h"
#include "ledger/ledger.h"
#include "store/store.h"

namespace nhitrace::cases {

class CaseProjection final : public ledger::AppendObserver {
 public:
  // `store` is the ledger's store (not owned).
  explicit CaseProjection(store::Store& store) : store_(store) {}

  Status OnAppend(store::WriteTxn& txn, uint64_t seq, const event::Event& event) override;
  Status BeforeCommit(store::WriteTxn& txn) override;
  void OnRollback() override;

  // The case as it stands, including the appends of the open batch. nullopt: no such case.
  Result<std::optional<CaseView>> Load(uint64_t id);
  // The id the next opened case gets (counting this batch's opens).
  Result<uint64_t> NextCaseId();
  // Holds the bytes of a file about to be attached: when the attach event with this SHA-256
  // (32 bytes) is appended, they are stored in the same transaction (case_attachment_blobs).
  void StageAttachment(std::string sha256, std::string bytes) {
    staged_blobs_[std::move(sha256)] = std::move(bytes);
  }
  // Why the last event OnAppend saw was not folded ("" when it was, or was no case event).
  const std::string& last_rejection() const { return last_rejection_; }

  // Recomputes every derived case table from the ledger in one transaction. `progress` (may be
  // empty) is called now and then with (events read, events in total).
  static Status Rebuild(store::Store& store,
                        const std::function<void(uint64_t, uint64_t)>& progress = nullptr);

 private:
  Status Write(store::WriteTxn& txn, const CaseView& v);

  store::Store& store_;
  std::map<uint64_t, CaseView> pending_;  // cases changed in this batch, as folded
  uint64_t max_id_in_batch_ = 0;
  std::string last_rejection_;
  std::map<std::string, std::string> staged_blobs_;
};

// Folds a case from its events in the ledger (through case_events). nullopt: no such case.
Result<std::optional<CaseView>> FoldCaseFromLedger(store::Store& store, uint64_t id);

// The derived rows of a case, as CaseProjection writes them.
store::CaseRow CaseRowOf(const CaseView& v);

}  // namespace nhitrace::cases
