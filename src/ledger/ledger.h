// Ledger: the append-only, tamper-evident log of events, on top of a Store.
//
// Every accepted event becomes leaf `seq` of an RFC 9162 Merkle tree (see event/codec.h for the
// leaf bytes). Appends happen in batches; each batch commits atomically together with a signed
// C2SP checkpoint of the new tree size, so the invariant "the latest checkpoint covers every
// stored event" holds after every commit and `verify` can treat an event outside it as inserted.
//
//   NHI_ASSIGN_OR_RETURN(auto ledger, Ledger::Open(std::move(store), &signer, clock));
//   NHI_ASSIGN_OR_RETURN(auto batch, ledger->BeginBatch());
//   NHI_ASSIGN_OR_RETURN(AppendOutcome o, batch->Append(record, raw_line));
//   NHI_RETURN_IF_ERROR(batch->Commit());
//
// Threading: one thread at a time; at most one batch open.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "crypto/random.h"
#include "event/codec.h"
#include "store/store.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/note.h"

namespace nhitrace::ledger {

using tlog::Hash;

// Store metadata keys written at init.
inline constexpr char kMetaOrigin[] = "ledger.origin";
inline constexpr char kMetaVerifierKey[] = "ledger.verifier_key";

enum class AppendStatus {
  kAccepted,   // a new leaf
  kDuplicate,  // the same source record is already stored (same content): nothing written
  kConflict,   // the source identity is stored with different content: nothing written
};

struct AppendOutcome {
  AppendStatus status = AppendStatus::kAccepted;
  uint64_t seq = 0;  // the new leaf, or the stored one for kDuplicate / kConflict
};

struct InclusionProofResult {
  uint64_t leaf_index = 0;
  uint64_t tree_size = 0;
  Hash leaf_hash{};
  std::vector<Hash> hashes;
  std::string checkpoint;  // signed note for tree_size
};

struct ConsistencyProofResult {
  uint64_t size1 = 0;
  uint64_t size2 = 0;
  std::vector<Hash> hashes;
  std::string checkpoint1;
  std::string checkpoint2;
};

// An event ready to append: everything that does not depend on its place in the ledger (the
// canonical content and its hash, the salted hash of the raw record, the time of ingest, and the
// leaf bytes up to the sequence number). Making it is the costly, position-independent part of
// an append, so ingest does it on another thread: PrepareEvent may run on any thread.
struct PreparedEvent {
  event::Event event;             // the decoded event (for observers of the append)
  store::EventRow row;            // every column but seq, leaf, leaf_hash, tree_nodes and raw_id
  std::string leaf_prefix;        // event::EncodeLeafPrefix(...)
  std::string raw_salt;           // 32 random bytes
  std::string raw_salted_sha256;  // SHA-256(raw_salt || raw)
};

// `raw` is the original record the event was decoded from; `salts` supplies its salt.
Result<PreparedEvent> PrepareEvent(event::NativeRecord record, std::string_view raw,
                                   const Clock& clock, crypto::RandomPool& salts);

// Something that keeps state derived from the ledger (correlate::DerivedState), maintained in
// the same transactions as the appends so that it can never disagree with a committed ledger.
class AppendObserver {
 public:
  virtual ~AppendObserver() = default;
  // After each event appended in a batch.
  virtual Status OnAppend(store::WriteTxn& txn, uint64_t seq, const event::Event& event) = 0;
  // Once before the batch commits; writes what it derived through `txn`.
  virtual Status BeforeCommit(store::WriteTxn& txn) = 0;
  // The batch was rolled back: forget what OnAppend collected.
  virtual void OnRollback() = 0;
};

class Ledger;

// A group of appends committed atomically with one checkpoint.
class Batch {
 public:
  ~Batch();  // rolls back unless committed
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  // Appends one decoded record. `raw` is the original record exactly as received; it is kept
  // and the leaf commits to it through SHA-256(salt || raw) with a fresh 32-byte salt.
  Result<AppendOutcome> Append(const event::NativeRecord& record, std::string_view raw);
  // The same for an already prepared event (whose row and leaf prefix it consumes). `raw` must be
  // the bytes it was prepared from.
  Result<AppendOutcome> Append(PreparedEvent& prepared, std::string_view raw);

  // Keeps a rejected input record (committed with the batch).
  Status Quarantine(const store::QuarantineRow& row);

  // Erases the raw record of event `seq` (its salt and bytes; the salted hash its leaf commits
  // to stays, so no leaf, node, root, checkpoint or proof changes), committed with the batch.
  // Use EraseRawRecord (ledger/erasure.h), which also records the erasure in the ledger.
  // kFailedPrecondition when the record is already erased or there is none.
  Status EraseRaw(uint64_t seq, int64_t erased_ns);

  // Signs a checkpoint for the new size (when anything was appended) and commits everything.
  // After a failure nothing of the batch is stored and the ledger is as before.
  Status Commit();

  uint64_t appended() const { return appended_; }

 private:
  friend class Ledger;
  Batch(Ledger* ledger, std::unique_ptr<store::WriteTxn> txn);

  Ledger* ledger_;
  std::unique_ptr<store::WriteTxn> txn_;
  tlog::CompactRange range_;  // the tree including this batch's appends
  crypto::RandomPool salts_;
  uint64_t appended_ = 0;
  bool done_ = false;
  bool committed_ = false;
};

class Ledger {
 public:
  // Creates a new store at store_options.path and a signing key at key_path (mode 0600;
  // neither may exist). `origin` names the log in its checkpoints and is the key name.
  static Status Init(const store::StoreOptions& store_options, const std::string& key_path,
                     const std::string& origin, const Clock& clock);

  // Opens a ledger over an open store. `signer` may be null for read-only use (proofs of
  // already published checkpoints, verification); appending then fails. When given, it must
  // be the key recorded at init.
  static Result<std::unique_ptr<Ledger>> Open(std::unique_ptr<store::Store> store,
                                              std::optional<tlog::NoteSigner> signer,
                                              const Clock& clock);

  uint64_t size() const { return range_.size(); }
  Hash root() const { return range_.Root(); }
  const std::string& origin() const { return origin_; }
  const tlog::NoteVerifier& verifier() const { return verifier_; }
  store::Store& store() { return *store_; }
  const Clock& clock() const { return clock_; }

  Result<std::unique_ptr<Batch>> BeginBatch();

  // `observer` (not owned; must outlive the ledger) sees every later append.
  void AddObserver(AppendObserver* observer) { observers_.push_back(observer); }

  // The signed checkpoint of the tree at `size`: the published one if stored, else signed
  // now (Ed25519 is deterministic, so the bytes equal what publishing would have produced).
  // REQUIRES: size <= size().
  Result<std::string> CheckpointNote(uint64_t size);
  // The latest published checkpoint.
  Result<store::CheckpointRow> LatestCheckpoint();

  // Proof that leaf `seq` is in the tree of `tree_size` (default: the latest checkpoint). The
  // leaf hash is recomputed from the stored leaf bytes; a mismatch is kDataLoss.
  Result<InclusionProofResult> ProveInclusion(uint64_t seq, std::optional<uint64_t> tree_size);
  // Proof that the tree of size1 is a prefix of the tree of size2 (default: latest).
  Result<ConsistencyProofResult> ProveConsistency(uint64_t size1, std::optional<uint64_t> size2);

 private:
  friend class Batch;
  Ledger(std::unique_ptr<store::Store> store, std::optional<tlog::NoteSigner> signer,
         const Clock& clock);

  std::unique_ptr<store::Store> store_;
  std::optional<tlog::NoteSigner> signer_;
  const Clock& clock_;
  std::string origin_;
  tlog::NoteVerifier verifier_;
  tlog::CompactRange range_;
  bool batch_open_ = false;
  std::vector<AppendObserver*> observers_;
  // Checkpoint roots whose signature was verified, by tree size (with the note verified).
  std::map<uint64_t, std::pair<std::string, Hash>> verified_roots_;
  Result<Hash> RootOfNote(const std::string& note, uint64_t size);
};

// The signing key file: the C2SP/Go-note signer key string on one line, mode 0600.
Result<tlog::NoteSigner> LoadSigningKey(const std::string& path);

}  // namespace nhitrace::ledger
