// ReaderPool: read-only store handles for the request threads.
//
// Each handle is its own SQLite connection opened read-only (a bug in a read route cannot
// write), memory-mapped like the CLI's query commands. SQLite in WAL mode lets any number of
// them read while the writer commits; each statement sees a committed state. A handle is used by
// one request at a time: Acquire() leases one (opening a new one when all are busy, up to
// `max_handles`; beyond that it waits for one to come back) and the lease gives it back when
// destroyed.
//
// Why a bound: each handle keeps its own page cache (up to 4 MiB, filled from the WAL, whose
// pages the mapping cannot serve) and its prepared statements, about 4.4 MiB once warm; handles
// are kept for reuse, so without a bound the server's memory grew with the most requests ever in
// flight at once (to 530 MB at 96 request threads; BENCHMARKS.md, "HTTP API"). Waiting cannot
// deadlock: a request holds at most one lease at a time, and the writer thread takes none.
//
// Proofs need a Ledger, whose view of the tree is loaded when it is opened; FreshLedger()
// reopens the handle's ledger when the store has published a checkpoint beyond it.
#pragma once

#include <condition_variable>
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
  // REQUIRES: max_handles >= 1.
  ReaderPool(std::string store_path, const Clock& clock, size_t max_handles)
      : path_(std::move(store_path)), clock_(clock), max_handles_(max_handles) {}
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

  // An idle handle, else a new one while fewer than max_handles are open, else waits for one.
  Result<Lease> Acquire();
  // Opens one handle now, so that a store that cannot be read fails at start-up.
  Status Warm();

  // Handles open (idle or leased), and Acquire calls waiting for one (for tests and metrics).
  size_t open_handles();
  size_t waiting();

 private:
  Result<std::unique_ptr<ledger::Ledger>> Open();
  void Return(std::unique_ptr<ledger::Ledger> l);

  std::string path_;
  const Clock& clock_;
  const size_t max_handles_;
  std::mutex mu_;
  std::condition_variable returned_;
  size_t open_ = 0;  // handles idle or leased, and being opened
  size_t waiting_ = 0;
  std::vector<std::unique_ptr<ledger::Ledger>> idle_;
};

}  // namespace nhitrace::api
