// PolicyIndex: keeps the `policies` table (one row per published version) in step with the
// ledger's policy events, in the same transaction as their append.
//
// A policy event becomes version N only if it is nhitrace's own (source system "nhitrace"),
// names {id, version "N", hash} in its `policy` member, N is one more than the latest version,
// and its raw record (when not erased) hashes to `hash`. Anything else (for instance a line of
// kind "policy" fed to `nhitrace ingest`) is kept in the ledger but is not a version.
//
//   PolicyIndex index(ledger->store());
//   ledger->AddObserver(&index);     // before publishing: PublishPolicy relies on it
#pragma once

#include "ledger/ledger.h"
#include "store/store.h"

namespace nhitrace::policy {

class PolicyIndex final : public ledger::AppendObserver {
 public:
  // `store` is the ledger's store (not owned).
  explicit PolicyIndex(store::Store& store) : store_(store) {}

  Status OnAppend(store::WriteTxn& txn, uint64_t seq, const event::Event& event) override {
    return Fold(store_, txn, seq, event);
  }
  Status BeforeCommit(store::WriteTxn&) override { return OkStatus(); }
  void OnRollback() override {}

  // Folds one event into the table (a no-op unless it is a policy version). Rebuild calls it for
  // every event in seq order.
  static Status Fold(store::Store& store, store::WriteTxn& txn, uint64_t seq,
                     const event::Event& event);

 private:
  store::Store& store_;
};

}  // namespace nhitrace::policy
