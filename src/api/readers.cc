#include "api/readers.h"

namespace nhitrace::api {

Result<std::unique_ptr<ledger::Ledger>> ReaderPool::Open() {
  store::StoreOptions opts;
  opts.path = path_;
  opts.read_only = true;
  opts.mmap_bytes = int64_t{1} << 30;
  opts.cache_bytes = int64_t{4} << 20;  // reads come from the mapping; keep the heap small
  NHI_ASSIGN_OR_RETURN(auto store, store::OpenStore(opts));
  return ledger::Ledger::Open(std::move(store), std::nullopt, clock_);
}

Status ReaderPool::Warm() {
  auto lease = Acquire();  // opens one (none is open yet) and gives it back
  return lease.status();
}

Result<ReaderPool::Lease> ReaderPool::Acquire() {
  {
    std::unique_lock lock(mu_);
    ++waiting_;
    returned_.wait(lock, [&] { return !idle_.empty() || open_ < max_handles_; });
    --waiting_;
    if (!idle_.empty()) {
      auto l = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(l));
    }
    ++open_;  // counted before it is opened, so that the bound holds
  }
  auto l = Open();
  if (!l.ok()) {
    Return(nullptr);
    return l.status();
  }
  return Lease(this, std::move(l).value());
}

void ReaderPool::Return(std::unique_ptr<ledger::Ledger> l) {
  {
    std::lock_guard lock(mu_);
    if (l) {
      idle_.push_back(std::move(l));
    } else {
      --open_;  // a handle that failed to open, or was lost
    }
  }
  returned_.notify_one();
}

size_t ReaderPool::open_handles() {
  std::lock_guard lock(mu_);
  return open_;
}

size_t ReaderPool::waiting() {
  std::lock_guard lock(mu_);
  return waiting_;
}

ReaderPool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Return(std::move(ledger_));
}

Result<ledger::Ledger*> ReaderPool::Lease::FreshLedger() {
  NHI_ASSIGN_OR_RETURN(auto latest, ledger_->store().LatestCheckpoint());
  if (latest && latest->size > ledger_->size()) {
    NHI_ASSIGN_OR_RETURN(ledger_, pool_->Open());
  }
  return ledger_.get();
}

}  // namespace nhitrace::api
