#include "ledger/ledger.h"

#include <unistd.h>

#include "base/file.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "tlog/proof.h"

namespace nhitrace::ledger {
namespace {

constexpr size_t kSaltBytes = 32;

int64_t TruncateToMicros(int64_t ns) {
  int64_t us = ns / 1000;
  if (ns < 0 && ns % 1000 != 0) --us;
  return us * 1000;
}

}  // namespace

Result<tlog::NoteSigner> LoadSigningKey(const std::string& path) {
  NHI_ASSIGN_OR_RETURN(mode_t mode, FileMode(path));
  if ((mode & 077) != 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return PermissionDeniedError(path + ": signing key is accessible by other users (mode " + buf +
                                 "); run: chmod 600 " + path);
  }
  NHI_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, 4096));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  auto signer = tlog::NoteSigner::Parse(text);
  // Never echo the key material in errors.
  if (!signer.ok()) return InvalidArgumentError(path + ": not a valid signing key file");
  return signer;
}

Status Ledger::Init(const store::StoreOptions& store_options, const std::string& key_path,
                    const std::string& origin, const Clock& clock) {
  if (!tlog::IsValidKeyName(origin)) {
    return InvalidArgumentError("origin \"" + origin +
                                "\" must be non-empty, without '+' or white space");
  }
  if (PathExists(store_options.path)) {
    return AlreadyExistsError(store_options.path + ": a file is already there");
  }
  if (PathExists(key_path)) return AlreadyExistsError(key_path + ": a file is already there");
  NHI_ASSIGN_OR_RETURN(tlog::NoteSigner signer, tlog::NoteSigner::Generate(origin));
  NHI_RETURN_IF_ERROR(WriteNewFile(key_path, signer.ToString() + "\n", 0600));

  auto fail = [&](const Status& s) {
    ::unlink(key_path.c_str());
    ::unlink(store_options.path.c_str());
    ::unlink((store_options.path + "-wal").c_str());
    ::unlink((store_options.path + "-shm").c_str());
    return s;
  };
  store::StoreOptions opts = store_options;
  opts.create = true;
  auto store = store::OpenStore(opts);
  if (!store.ok()) return fail(store.status());
  auto txn = (*store)->BeginWrite();
  if (!txn.ok()) return fail(txn.status());
  tlog::Checkpoint cp{origin, 0, tlog::EmptyTreeHash(), {}};
  auto note = tlog::SignCheckpoint(cp, signer);
  if (!note.ok()) return fail(note.status());
  for (Status s :
       {(*txn)->SetMeta(kMetaOrigin, origin),
        (*txn)->SetMeta(kMetaVerifierKey, signer.Verifier().ToString()),
        (*txn)->InsertCheckpoint({0, cp.root, *note, clock.NowUnixNanos()}), (*txn)->Commit()}) {
    if (!s.ok()) return fail(s);
  }
  return OkStatus();
}

Ledger::Ledger(std::unique_ptr<store::Store> store, std::optional<tlog::NoteSigner> signer,
               const Clock& clock)
    : store_(std::move(store)), signer_(std::move(signer)), clock_(clock) {}

Result<std::unique_ptr<Ledger>> Ledger::Open(std::unique_ptr<store::Store> store,
                                             std::optional<tlog::NoteSigner> signer,
                                             const Clock& clock) {
  std::unique_ptr<Ledger> l(new Ledger(std::move(store), std::move(signer), clock));
  NHI_ASSIGN_OR_RETURN(auto origin, l->store_->GetMeta(kMetaOrigin));
  NHI_ASSIGN_OR_RETURN(auto vkey, l->store_->GetMeta(kMetaVerifierKey));
  if (!origin || !vkey) {
    return DataLossError("the store has no ledger origin or verifier key (not initialised?)");
  }
  l->origin_ = *origin;
  auto verifier = tlog::NoteVerifier::Parse(*vkey);
  if (!verifier.ok()) return DataLossError("stored verifier key: " + verifier.status().message());
  l->verifier_ = *verifier;
  if (l->signer_ && l->signer_->Verifier().ToString() != *vkey) {
    return PermissionDeniedError(
        "the signing key does not belong to this store (its verifier key "
        "is " +
        *vkey + ")");
  }
  NHI_ASSIGN_OR_RETURN(uint64_t n, l->store_->EventCount());
  auto range = tlog::CompactRange::Load(l->store_->nodes(), n);
  if (!range.ok()) {
    return DataLossError("cannot load the tree's right edge: " + range.status().message() +
                         " (run nhitrace verify)");
  }
  l->range_ = std::move(range).value();
  return l;
}

Result<store::CheckpointRow> Ledger::LatestCheckpoint() {
  NHI_ASSIGN_OR_RETURN(auto cp, store_->LatestCheckpoint());
  if (!cp) return DataLossError("the store has no checkpoint (not even for the empty tree)");
  return *cp;
}

Result<std::unique_ptr<Batch>> Ledger::BeginBatch() {
  if (!signer_) return FailedPreconditionError("appending needs the ledger's signing key");
  if (batch_open_) return FailedPreconditionError("a batch is already open");
  // Never build on a store that does not match its own latest signature.
  NHI_ASSIGN_OR_RETURN(store::CheckpointRow latest, LatestCheckpoint());
  if (latest.size != range_.size() || latest.root != range_.Root()) {
    return DataLossError("the stored tree (size " + std::to_string(range_.size()) +
                         ") does not match the latest signed checkpoint (size " +
                         std::to_string(latest.size) + "); run nhitrace verify");
  }
  NHI_ASSIGN_OR_RETURN(auto txn, store_->BeginWrite());
  batch_open_ = true;
  return std::unique_ptr<Batch>(new Batch(this, std::move(txn)));
}

Batch::Batch(Ledger* ledger, std::unique_ptr<store::WriteTxn> txn)
    : ledger_(ledger), txn_(std::move(txn)), range_(ledger->range_) {}

Batch::~Batch() {
  if (!committed_) {
    for (AppendObserver* o : ledger_->observers_) o->OnRollback();
  }
  txn_.reset();  // rolls back unless committed
  ledger_->batch_open_ = false;
}

Result<PreparedEvent> PrepareEvent(event::NativeRecord record, std::string_view raw,
                                   const Clock& clock, crypto::RandomPool& salts) {
  PreparedEvent p;
  p.event = std::move(record.event);
  const event::Event& e = p.event;
  std::string content = event::EncodeContent(e);
  NHI_RETURN_IF_ERROR(salts.Draw(kSaltBytes, &p.raw_salt));
  p.raw_salted_sha256 = std::string(crypto::AsBytes(crypto::Sha256(p.raw_salt, raw)));
  store::EventRow& row = p.row;
  row.ingested_ns = TruncateToMicros(clock.NowUnixNanos());
  p.leaf_prefix = event::EncodeLeafPrefix(content, row.ingested_ns,
                                          event::RawDigest{p.raw_salted_sha256, raw.size()});
  row.content_hash = event::ContentHash(content, record.raw_member);
  row.kind = std::string(event::KindName(e.kind));
  row.time_ns = e.time_ns;
  row.source_system = e.source_system;
  row.source_event_id = e.source_event_id;
  row.correlation_key = e.correlation_key;
  row.identity_key = e.identity;
  if (e.actor) row.actor_id = e.actor->id;
  return p;
}

Result<AppendOutcome> Batch::Append(const event::NativeRecord& record, std::string_view raw) {
  NHI_ASSIGN_OR_RETURN(PreparedEvent p, PrepareEvent(record, raw, ledger_->clock_, salts_));
  // (PrepareEvent takes its record by value: this copy is the price of the convenience form.)
  return Append(p, raw);
}

Result<AppendOutcome> Batch::Append(PreparedEvent& prepared, std::string_view raw) {
  if (done_) return FailedPreconditionError("batch already committed");
  // Everything is built for the next position first; the insert then tells whether the source
  // record is new (one index probe instead of a lookup followed by an insert).
  store::EventRow& row = prepared.row;
  row.seq = range_.size();
  row.leaf = std::move(prepared.leaf_prefix);
  event::FinishLeaf(row.seq, &row.leaf);
  row.leaf_hash = tlog::LeafHash(row.leaf);
  row.raw_id = static_cast<int64_t>(row.seq);
  row.tree_nodes.clear();
  tlog::CompactRange next = range_;
  next.Append(row.leaf_hash, [&](const tlog::NodeId&, const Hash& h) {
    row.tree_nodes.append(crypto::AsBytes(h));
  });

  NHI_ASSIGN_OR_RETURN(bool inserted, txn_->InsertEvent(row));
  if (!inserted) {
    NHI_ASSIGN_OR_RETURN(auto existing,
                         txn_->FindBySource(row.source_system, row.time_ns, row.source_event_id));
    if (!existing) return InternalError("insert was refused but no event has its source id");
    AppendOutcome o;
    o.seq = existing->seq;
    // After erasure the content hash is gone; the source identity alone then decides.
    bool same = existing->content_hash.empty() ||
                crypto::ConstantTimeEquals(existing->content_hash, row.content_hash);
    o.status = same ? AppendStatus::kDuplicate : AppendStatus::kConflict;
    return o;
  }
  NHI_RETURN_IF_ERROR(txn_->InsertRaw(store::RawRef{
      static_cast<int64_t>(row.seq), prepared.raw_salt, raw, prepared.raw_salted_sha256}));
  range_ = std::move(next);
  ++appended_;
  for (AppendObserver* o : ledger_->observers_) {
    Status s = o->OnAppend(*txn_, row.seq, prepared.event);
    if (!s.ok()) {
      done_ = true;  // the batch is unusable; the destructor rolls back
      return s;
    }
  }
  return AppendOutcome{AppendStatus::kAccepted, row.seq};
}

Status Batch::Quarantine(const store::QuarantineRow& row) {
  if (done_) return FailedPreconditionError("batch already committed");
  return txn_->InsertQuarantine(row);
}

Status Batch::EraseRaw(uint64_t seq, int64_t erased_ns) {
  if (done_) return FailedPreconditionError("batch already committed");
  NHI_ASSIGN_OR_RETURN(bool erased, txn_->EraseRaw(static_cast<int64_t>(seq), erased_ns));
  if (!erased) {
    return FailedPreconditionError("event " + std::to_string(seq) +
                                   " has no raw record that is not erased already");
  }
  return OkStatus();
}

Status Batch::Commit() {
  if (done_) return FailedPreconditionError("batch already committed or failed");
  done_ = true;
  if (appended_ > 0) {
    tlog::Checkpoint cp{ledger_->origin_, range_.size(), range_.Root(), {}};
    NHI_ASSIGN_OR_RETURN(std::string note, tlog::SignCheckpoint(cp, *ledger_->signer_));
    NHI_RETURN_IF_ERROR(txn_->InsertCheckpoint(
        {cp.size, cp.root, std::move(note), ledger_->clock_.NowUnixNanos()}));
  }
  for (AppendObserver* o : ledger_->observers_) NHI_RETURN_IF_ERROR(o->BeforeCommit(*txn_));
  NHI_RETURN_IF_ERROR(txn_->Commit());
  committed_ = true;
  ledger_->range_ = range_;
  return OkStatus();
}

Result<std::string> Ledger::CheckpointNote(uint64_t size) {
  if (size > range_.size()) {
    return OutOfRangeError("tree size " + std::to_string(size) + " is larger than the ledger (" +
                           std::to_string(range_.size()) + ")");
  }
  NHI_ASSIGN_OR_RETURN(auto stored, store_->CheckpointAt(size));
  if (stored) return stored->note;
  if (!signer_) {
    return FailedPreconditionError("no checkpoint was published at size " + std::to_string(size) +
                                   " and signing one needs the ledger's signing key");
  }
  Hash root = tlog::EmptyTreeHash();
  if (size > 0) {
    NHI_ASSIGN_OR_RETURN(root, tlog::SubtreeHash(store_->nodes(), 0, size));
  }
  return tlog::SignCheckpoint(tlog::Checkpoint{origin_, size, root, {}}, *signer_);
}

namespace {

Result<Hash> OpenRoot(const std::string& note, const tlog::NoteVerifier& v, uint64_t size) {
  auto cp = tlog::OpenCheckpoint(note, v);
  if (!cp.ok())
    return DataLossError("checkpoint at size " + std::to_string(size) +
                         " does not verify: " + cp.status().message());
  if (cp->size != size)
    return DataLossError("checkpoint at size " + std::to_string(size) + " states size " +
                         std::to_string(cp->size));
  return cp->root;
}

}  // namespace

Result<Hash> Ledger::RootOfNote(const std::string& note, uint64_t size) {
  // Verifying the Ed25519 signature costs ~80 us; a note verified once stays verified.
  auto it = verified_roots_.find(size);
  if (it != verified_roots_.end() && it->second.first == note) return it->second.second;
  NHI_ASSIGN_OR_RETURN(Hash root, OpenRoot(note, verifier_, size));
  if (verified_roots_.size() > 4096) verified_roots_.clear();
  verified_roots_[size] = {note, root};
  return root;
}

Result<InclusionProofResult> Ledger::ProveInclusion(uint64_t seq,
                                                    std::optional<uint64_t> tree_size) {
  InclusionProofResult r;
  if (tree_size) {
    r.tree_size = *tree_size;
  } else {
    NHI_ASSIGN_OR_RETURN(store::CheckpointRow latest, LatestCheckpoint());
    r.tree_size = latest.size;
  }
  if (seq >= r.tree_size) {
    return OutOfRangeError("event " + std::to_string(seq) + " is not in the tree of size " +
                           std::to_string(r.tree_size));
  }
  NHI_ASSIGN_OR_RETURN(auto row, store_->GetEvent(seq));
  if (!row) return DataLossError("event " + std::to_string(seq) + " is missing from the store");
  r.leaf_index = seq;
  r.leaf_hash = tlog::LeafHash(row->leaf);
  if (r.leaf_hash != row->leaf_hash) {
    return DataLossError("event " + std::to_string(seq) +
                         ": stored bytes do not match the stored leaf hash (run nhitrace verify)");
  }
  NHI_ASSIGN_OR_RETURN(r.hashes, tlog::InclusionProof(store_->nodes(), seq, r.tree_size));
  NHI_ASSIGN_OR_RETURN(r.checkpoint, CheckpointNote(r.tree_size));
  // Never hand out a proof that does not verify against the signed root.
  NHI_ASSIGN_OR_RETURN(Hash root, RootOfNote(r.checkpoint, r.tree_size));
  Status ok = tlog::VerifyInclusion(seq, r.tree_size, r.leaf_hash, r.hashes, root);
  if (!ok.ok()) {
    return DataLossError("the stored tree does not prove event " + std::to_string(seq) +
                         " against its checkpoint (run nhitrace verify): " + ok.message());
  }
  return r;
}

Result<ConsistencyProofResult> Ledger::ProveConsistency(uint64_t size1,
                                                        std::optional<uint64_t> size2) {
  ConsistencyProofResult r;
  r.size1 = size1;
  if (size2) {
    r.size2 = *size2;
  } else {
    NHI_ASSIGN_OR_RETURN(store::CheckpointRow latest, LatestCheckpoint());
    r.size2 = latest.size;
  }
  if (r.size1 > r.size2) {
    return OutOfRangeError("size1 " + std::to_string(r.size1) + " is larger than size2 " +
                           std::to_string(r.size2));
  }
  if (r.size2 > range_.size()) {
    return OutOfRangeError("size2 " + std::to_string(r.size2) + " is larger than the ledger (" +
                           std::to_string(range_.size()) + ")");
  }
  NHI_ASSIGN_OR_RETURN(r.hashes, tlog::ConsistencyProof(store_->nodes(), r.size1, r.size2));
  NHI_ASSIGN_OR_RETURN(r.checkpoint1, CheckpointNote(r.size1));
  NHI_ASSIGN_OR_RETURN(r.checkpoint2, CheckpointNote(r.size2));
  NHI_ASSIGN_OR_RETURN(Hash root1, RootOfNote(r.checkpoint1, r.size1));
  NHI_ASSIGN_OR_RETURN(Hash root2, RootOfNote(r.checkpoint2, r.size2));
  Status ok = tlog::VerifyConsistency(r.size1, r.size2, r.hashes, root1, root2);
  if (!ok.ok()) {
    return DataLossError(
        "the stored tree does not prove consistency between its checkpoints "
        "(run nhitrace verify): " +
        ok.message());
  }
  return r;
}

}  // namespace nhitrace::ledger
