// ReaderPool: read-only store handles for the request threads.
//
// Each handle is its own SQLite connection opened read-only (a bug in a read route cannot
// write), memory-mapped like the CLI's query commands. SQLite in WAL mode lets any number of
// them read while the writer commits; each statement sees a committed state. A handle is used by
// one request at a time: Acquire() leases one (opening a new one when all are busy) and the
// lease gives it back when destroyed.
//
// Proofs need a Ledger, whose view of the tree is loaded when it is opened; FreshLedger()
// reopens the handle's ledger when the store has published a checkpoint beyond it.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "ledger/ledger.h"
#include "store/store.h"

namespace nhitrace::api {

class ReaderPool {
 public:
  ReaderPool(std::string store_path, const Clock& clock)
      : path_(std::move(store_path)), clock_(clock) {}
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

  class Lease {
   public:
    Lease(Lease&& o) noexcept : pool_(o.pool_), ledger_(std::move(o.ledger_)) { o.pool_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    ~Lease();

    store::Store& store() { return ledger_->store(); }
    // The ledger, reopened first if a newer checkpoint than its tree has been published.
    Result<ledger::Ledger*> FreshLedger();

   private:
    friend class ReaderPool;
    Lease(ReaderPool* pool, std::unique_ptr<ledger::Ledger> l)
        : pool_(pool), ledger_(std::move(l)) {}
    ReaderPool* pool_;
    std::unique_ptr<ledger::Ledger> ledger_;
  };

  Result<Lease> Acquire();
  // Opens one handle now, so that a store that cannot be read fails at start-up.
  Status Warm();

 private:
  Result<std::unique_ptr<ledger::Ledger>> Open();
  void Return(std::unique_ptr<ledger::Ledger> l);

  std::string path_;
  const Clock& clock_;
  std::mutex mu_;
  std::vector<std::unique_ptr<ledger::Ledger>> idle_;
};

}  // namespace nhitrace::api
