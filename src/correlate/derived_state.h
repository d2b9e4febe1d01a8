// DerivedState: the identity and grant-chain tables, kept in step with the ledger.
//
// It observes every append (ledger::AppendObserver) and writes in the same transaction:
//   identity_keys   every identity key with its alias group, first/last seen, use counts and the
//                   latest descriptive facts (kind, owner, sponsor, system);
//   identity_links  every alias assertion ("event N said A and B are the same identity");
//   grants          one GrantChain per correlation key.
// All of it is a function of the ledger's set of events, not of their arrival order, and
// `Rebuild` recomputes it from scratch; tests check that both give identical tables.
//
// Alias groups: the keys linked by alias assertions form one identity, named by its canonical
// key: the member seen first (smallest first-seen time, then smallest key).
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "correlate/grant_chain.h"
#include "correlate/identity_facts.h"
#include "ledger/ledger.h"
#include "store/store.h"

namespace nhitrace::correlate {

class DerivedState final : public ledger::AppendObserver {
 public:
  // `store` is the ledger's store (not owned).
  explicit DerivedState(store::Store& store) : store_(store) {}

  Status OnAppend(store::WriteTxn& txn, uint64_t seq, const event::Event& event) override;
  Status BeforeCommit(store::WriteTxn& txn) override;
  void OnRollback() override;

  // Recomputes all derived tables from the ledger in one transaction.
  // `progress` (may be empty) is called now and then with (events read, events in total).
  static Status Rebuild(store::Store& store,
                        const std::function<void(uint64_t, uint64_t)>& progress = nullptr);

 private:
  // What this batch saw of one key.
  struct KeyDelta {
    int64_t first_seen = INT64_MAX;
    int64_t last_seen = INT64_MIN;
    int64_t first_action = INT64_MAX;
    int64_t last_action = INT64_MIN;
    uint64_t events = 0;
    uint64_t actions = 0;
    // A provision, or a rotation/revocation/expiry/reconciliation without request id: either
    // can change every chain of the key's identity.
    bool lifecycle = false;
    IdentityFacts facts;
  };

  KeyDelta& Touch(const std::string& key, int64_t time_ns);
  Status FlushKeys(store::WriteTxn& txn, std::set<std::string>* recheck);
  // Records the alias assertions and merges groups; adds the keys of merged groups to
  // `regrouped`.
  Status FlushLinks(store::WriteTxn& txn, std::set<std::string>* regrouped);
  Status Recanonicalize(store::WriteTxn& txn, const std::set<std::string>& keys);
  // Adds to dirty_chains_ every grant of the identities (alias groups) of `keys`.
  Status MarkGroupsDirty(const std::set<std::string>& keys);
  // Adds to dirty_chains_ the grants that this batch's actions or lifecycle events may change.
  Status FindAffectedChains();
  // Recomputes dirty_chains_. With `changed`, collects the credentials whose set of
  // provisioned grants changed.
  Status RecomputeChains(store::WriteTxn& txn, std::set<std::string>* changed);

  store::Store& store_;
  bool defer_chains_ = false;  // Rebuild computes every chain once, at the end
  std::unordered_map<std::string, KeyDelta> keys_;
  std::vector<store::IdentityLinkRow> links_;
  std::set<std::string> dirty_chains_;
};

// Loads the events of one grant chain (its correlation key, and the lifecycle events of its
// credential that carry no correlation key) and builds it, first use included.
Result<GrantChain> LoadChain(store::Store& store, const std::string& correlation_key);

// True when `key` is the credential of a provisioned grant.
Result<bool> HasProvisionedGrant(store::Store& store, const std::string& key);

// Reads a stored leaf back into a ChainEvent.
Result<ChainEvent> DecodeEventRow(const store::EventRow& row);

}  // namespace nhitrace::correlate
