#include "cli/context.h"

#include <cstdio>
#include <cstdlib>

#include "base/file.h"

namespace nhitrace::cli {

std::string Context::StorePath() const {
  if (!options.store.empty()) return options.store;
  if (const char* env = std::getenv("NHITRACE_STORE"); env != nullptr && *env != '\0') return env;
  return "nhitrace.db";
}

std::string Context::KeyPath() const {
  if (!options.key_file.empty()) return options.key_file;
  if (const char* env = std::getenv("NHITRACE_KEY_FILE"); env != nullptr && *env != '\0') {
    return env;
  }
  return StorePath() + ".key";
}

Result<std::unique_ptr<store::Store>> Context::OpenStoreOnly() {
  store::StoreOptions opts;
  opts.path = StorePath();
  if (read_mostly_) opts.mmap_bytes = int64_t{1} << 30;
  if (!read_mostly_) {
    // Ingest: a larger page cache keeps the hot index pages; still well inside the 256 MB
    // resident-memory budget (BENCHMARKS.md).
    opts.cache_bytes = int64_t{128} << 20;
    if (const char* v = std::getenv("NHITRACE_CACHE_MB")) opts.cache_bytes = std::atoll(v) << 20;
  }
  return store::OpenStore(opts);
}

Result<std::unique_ptr<ledger::Ledger>> Context::OpenLedger(bool need_signer) {
  std::optional<tlog::NoteSigner> signer;
  std::string key_path = KeyPath();
  if (need_signer || PathExists(key_path)) {
    auto loaded = ledger::LoadSigningKey(key_path);
    if (loaded.ok()) {
      signer = std::move(loaded).value();
    } else if (need_signer) {
      return loaded.status();
    }
  }
  NHI_ASSIGN_OR_RETURN(auto store, OpenStoreOnly());
  NHI_ASSIGN_OR_RETURN(auto l, ledger::Ledger::Open(std::move(store), std::move(signer), clock_));
  engine_.reset();
  derived_ = std::make_unique<correlate::DerivedState>(l->store());
  l->AddObserver(derived_.get());
  cases_ = std::make_unique<cases::CaseProjection>(l->store());
  l->AddObserver(cases_.get());
  policy_index_ = std::make_unique<policy::PolicyIndex>(l->store());
  l->AddObserver(policy_index_.get());
  if (reconcile_) {
    engine_ = std::make_unique<reconcile::Engine>(*l);
    engine_->AttachCases(cases_.get());  // findings open or join cases (docs/reconcile.md)
  }
  return l;
}

void PrintError(const Status& s) { std::fprintf(stderr, "nhitrace: %s\n", s.message().c_str()); }

}  // namespace nhitrace::cli
