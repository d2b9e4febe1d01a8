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
  NHI_ASSIGN_OR_RETURN(auto l, Open());
  Return(std::move(l));
  return OkStatus();
}

Result<ReaderPool::Lease> ReaderPool::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto l = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(l));
    }
  }
  NHI_ASSIGN_OR_RETURN(auto l, Open());
  return Lease(this, std::move(l));
}

void ReaderPool::Return(std::unique_ptr<ledger::Ledger> l) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(l));
}

ReaderPool::Lease::~Lease() {
  if (pool_ != nullptr && ledger_) pool_->Return(std::move(ledger_));
}

Result<ledger::Ledger*> ReaderPool::Lease::FreshLedger() {
  NHI_ASSIGN_OR_RETURN(auto latest, ledger_->store().LatestCheckpoint());
  if (latest && latest->size > ledger_->size()) {
    NHI_ASSIGN_OR_RETURN(ledger_, pool_->Open());
  }
  return ledger_.get();
}

}  // namespace nhitrace::api
