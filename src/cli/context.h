// What every command shares: where the store and key are, how to open them, and exit codes.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "base/time.h"
#include "cases/projection.h"
#include "correlate/derived_state.h"
#include "ledger/ledger.h"
#include "policy/policy_index.h"
#include "reconcile/engine.h"

namespace nhitrace::cli {

// The version nhitrace reports (--version, OCSF metadata.product.version).
inline constexpr char kVersion[] = "0.1.0";

// Process exit statuses (documented in docs/cli.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,          // the command failed (message on stderr)
  kExitUsage = 2,          // bad command line
  kExitQuarantined = 3,    // ingest finished, but some records were quarantined
  kExitVerifyFailed = 4,   // verify found the store altered
  kExitReplayDiffers = 5,  // replay: the rule says something else than the finding recorded
};

struct GlobalOptions {
  std::string store;     // --store
  std::string key_file;  // --key-file
};

class Context {
 public:
  explicit Context(const Clock& clock) : clock_(clock) {}

  GlobalOptions options;

  // --store, else $NHITRACE_STORE, else ./nhitrace.db.
  std::string StorePath() const;
  // --key-file, else $NHITRACE_KEY_FILE, else <store>.key.
  std::string KeyPath() const;

  // Opens the ledger. With `need_signer` the signing key is loaded (appending, signing new
  // checkpoints); otherwise the key is loaded only if present and readable. The derived state
  // (identities, grant chains), the case projection, the policy index and (unless
  // set_reconcile(false)) the reconciliation engine are attached, so appends keep them current.
  Result<std::unique_ptr<ledger::Ledger>> OpenLedger(bool need_signer);
  // Whether stores opened from now on are memory-mapped for reads (default true; ingest
  // turns it off to keep its memory bounded).
  void set_read_mostly(bool v) { read_mostly_ = v; }
  // For commands that only read (traces, proofs, listings): the store is memory-mapped.
  Result<std::unique_ptr<store::Store>> OpenStoreOnly();

  const Clock& clock() const { return clock_; }
  // The case projection of the ledger OpenLedger opened last (null before).
  cases::CaseProjection* case_projection() { return cases_.get(); }

  // Whether OpenLedger attaches the reconciliation engine (default true).
  void set_reconcile(bool v) { reconcile_ = v; }
  // The engine attached by the last OpenLedger, or null. Call RunIncremental after a commit.
  reconcile::Engine* reconciler() { return engine_.get(); }

 private:
  const Clock& clock_;
  std::unique_ptr<correlate::DerivedState> derived_;
  std::unique_ptr<cases::CaseProjection> cases_;
  std::unique_ptr<policy::PolicyIndex> policy_index_;
  std::unique_ptr<reconcile::Engine> engine_;
  bool reconcile_ = true;
  bool read_mostly_ = true;
};

// Prints "nhitrace: <message>" on stderr.
void PrintError(const Status& s);

}  // namespace nhitrace::cli
