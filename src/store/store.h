// Store: where the ledger and everything derived from it is persisted.
//
// One interface, several backends: SQLite (store/sqlite/, the embedded default) and, later,
// PostgreSQL. The ledger computes every hash; a store only keeps bytes and answers lookups.
//
// Threading: a Store object is used by one thread at a time. Writes go through a WriteTxn, of
// which at most one is open per Store; its destructor rolls back unless Commit() succeeded.
//
//   auto store = OpenStore({.path = "nhitrace.db"});
//   auto txn = (*store)->BeginWrite();
//   ... (*txn)->InsertEvent(row) ...
//   NHI_RETURN_IF_ERROR((*txn)->Commit());
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tlog/merkle.h"

namespace nhitrace::store {

using tlog::Hash;
using tlog::NodeId;

// One row of the events table: the leaf bytes, its stored hash, and the columns derived from
// the leaf for lookups (verify re-derives them from the leaf and compares).
struct EventRow {
  uint64_t seq = 0;
  std::string leaf;          // canonical JSON, the leaf data
  Hash leaf_hash{};          // as stored
  std::string content_hash;  // 32 bytes; empty after erasure
  std::string kind;
  int64_t time_ns = 0;
  int64_t ingested_ns = 0;
  std::string source_system;
  std::string source_event_id;
  std::string correlation_key;  // empty = NULL
  std::string identity_key;     // empty = NULL
  std::string actor_id;         // empty = NULL
  // The hashes (32 bytes each, level 1 first) of the perfect subtrees this leaf completes: leaf
  // k completes the nodes (L, ((k + 1) >> L) - 1) for L = 1 .. the number of trailing 1 bits of
  // k. Keeping them in the leaf's own row makes every node an O(1) primary-key lookup without
  // a separate table (and a separate insert) per event.
  std::string tree_nodes;
  std::optional<int64_t> raw_id;
};

// A kept original record.
struct RawRow {
  int64_t id = 0;
  std::string salt;           // 32 random bytes; empty once erased
  std::string bytes;          // the record exactly as received; empty once erased
  std::string salted_sha256;  // SHA-256(salt || bytes), 32 bytes
  uint64_t size = 0;
  std::optional<int64_t> erased_ns;
};

struct CheckpointRow {
  uint64_t size = 0;
  Hash root{};
  std::string note;  // the signed note
  int64_t created_ns = 0;
};

// A raw record to insert, by reference (no copy of the bytes).
struct RawRef {
  int64_t id = 0;  // the seq of the event that owns it
  std::string_view salt;
  std::string_view bytes;
  std::string_view salted_sha256;
};

// A rejected input record, kept with its bytes so nothing is silently lost.
struct QuarantineRow {
  int64_t id = 0;
  int64_t received_ns = 0;
  std::string source;  // file name or "-" for stdin
  uint64_t line = 0;
  std::string format;  // "native", ...
  std::string field;   // the offending field path, or empty
  std::string reason;
  std::string raw;         // the bytes (at most the line limit; see truncated)
  uint64_t raw_size = 0;   // the full size of the rejected record
  std::string raw_sha256;  // SHA-256 of the full record, 32 bytes
  bool truncated = false;  // raw holds only the first bytes
};

// The stored event with a given record identity (see WriteTxn::InsertEvent).
struct ExistingEvent {
  uint64_t seq = 0;
  std::string content_hash;
};

// Derived state (rebuildable from the ledger; see correlate/derived_state.h).

// One identity key and the identity (alias group) it belongs to.
struct IdentityKeyRow {
  std::string key;
  std::string canonical;  // the group's canonical key (== key for the canonical member)
  int64_t first_seen_ns = 0;
  int64_t last_seen_ns = 0;
  std::optional<int64_t> last_action_ns;
  uint64_t event_count = 0;
  uint64_t action_count = 0;
  // The latest value stated for each descriptive fact about this key (by authoritative time,
  // then source id), and which event stated it: a canonical JSON object
  // {"<fact>": [time_ns, "<system>\n<event id>", seq], ...} over the facts that are set.
  std::string subject_kind, subject_name, owner, sponsor, system;
  std::string facts_provenance = "{}";
  friend bool operator==(const IdentityKeyRow&, const IdentityKeyRow&) = default;
};

// Event `seq` stated that key_a and key_b name the same identity.
struct IdentityLinkRow {
  std::string key_a, key_b;
  uint64_t seq = 0;
  friend bool operator==(const IdentityLinkRow&, const IdentityLinkRow&) = default;
};

struct GrantRow {
  std::string correlation_key;
  std::string identity_key;  // empty = NULL
  std::string status;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::optional<uint64_t> first_use_seq;
  uint32_t issue_count = 0;
  std::string doc;  // the chain as canonical JSON
  friend bool operator==(const GrantRow&, const GrantRow&) = default;
};

// A filter over events; empty fields do not filter. Results are ordered by source time, then seq.
struct EventQuery {
  std::string correlation_key;
  std::string identity_key;
  std::string kind;
  std::vector<std::string> kinds;  // any of these (in addition to `kind`, if both are set)
  std::optional<int64_t> from_ns;  // time_ns >= from_ns
  std::optional<int64_t> to_ns;    // time_ns < to_ns
  size_t limit = 1000;
};

// A filter over identities (alias groups); empty fields do not filter.
struct IdentityQuery {
  std::string kind;   // subject kind of any key of the group
  std::string owner;  // owner of any key of the group
  size_t limit = 100000;
};

class WriteTxn {
 public:
  virtual ~WriteTxn() = default;

  // The stored event with this record identity, if any (sees this transaction's writes).
  virtual Result<std::optional<ExistingEvent>> FindBySource(std::string_view system,
                                                            int64_t time_ns,
                                                            std::string_view event_id) = 0;
  // Inserts the event unless one with the same record identity (source_system, time_ns,
  // source_event_id) is stored; returns whether it did. REQUIRES: row.seq is larger than every
  // stored seq: the ledger always inserts the next sequence number; a scratch store that replays
  // a subset of a ledger (evidence/summary.cc) keeps the events' own numbers, leaving gaps.
  virtual Result<bool> InsertEvent(const EventRow& row) = 0;
  // REQUIRES: raw.id is new.
  virtual Status InsertRaw(const RawRef& raw) = 0;
  virtual Status InsertCheckpoint(const CheckpointRow& row) = 0;
  virtual Status InsertQuarantine(const QuarantineRow& row) = 0;
  virtual Status SetMeta(std::string_view key, std::string_view value) = 0;

  // Derived state.
  virtual Status PutIdentityKey(const IdentityKeyRow& row) = 0;  // insert or replace
  // Moves every key of group `from` into group `to`.
  virtual Status Recanonicalize(std::string_view from, std::string_view to) = 0;
  virtual Status PutIdentityLink(const IdentityLinkRow& row) = 0;  // ignored when present
  virtual Status PutGrant(const GrantRow& row) = 0;                // insert or replace
  // Deletes all derived state (before a rebuild).
  virtual Status ClearDerived() = 0;
  // Node hashes as of this transaction (level 0 = leaf hashes of events).
  virtual tlog::NodeReader& nodes() = 0;

  // Makes every write durable (fsync'd, per StoreOptions::durable) or fails and rolls back.
  virtual Status Commit() = 0;

  // Erasure (right to erasure; ledger/erasure.h). Deletes the salt and bytes of raw record `id`
  // and sets its erased_ns (its salted_sha256 and size stay), and clears the owning event's
  // content_hash (an unsalted hash of the erasable part). Returns false, changing nothing, when
  // there is no raw record `id` or it is already erased.
  virtual Result<bool> EraseRaw(int64_t id, int64_t erased_ns) = 0;
};

struct StoreOptions {
  std::string path;
  bool create = false;  // create the file and schema; fail if it exists
  bool read_only = false;
  // fsync on every commit (survives power loss). When false, committed data survives a crash
  // of the process but not of the machine.
  bool durable = true;
  // SQLite page cache, in bytes. Ingest raises it: index pages that stay cached need not be
  // read again (BENCHMARKS.md). It is most of the process's resident memory.
  int64_t cache_bytes = int64_t{32} << 20;
  // Bytes of the database file to memory-map for reads (0: none). Worth it for query commands
  // (proofs, traces); ingest leaves it off so that its resident memory stays bounded.
  int64_t mmap_bytes = 0;
  // Database page size for a new store (SQLite: a power of two, 512..65536). With every index
  // appended near its end, large pages cost the least CPU per event (BENCHMARKS.md: 3M events
  // in 121 s with 64 KiB pages, 196 s with 4 KiB).
  int page_size = 65536;
  // A scratch store whose content is recomputed if lost (evidence/summary.cc): never synced to
  // disk at all, not even when the machine keeps running. Implies !durable.
  bool ephemeral = false;
};

// Keeps a consistent view of a store while it lives (see Store::BeginRead).
class ReadSnapshot {
 public:
  virtual ~ReadSnapshot() = default;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual std::string_view backend() const = 0;
  // The schema version after migrations.
  virtual int schema_version() const = 0;

  virtual Result<std::optional<std::string>> GetMeta(std::string_view key) = 0;

  // The number of events (= the next sequence number).
  virtual Result<uint64_t> EventCount() = 0;
  virtual Result<std::optional<EventRow>> GetEvent(uint64_t seq) = 0;
  virtual Result<std::optional<RawRow>> GetRaw(int64_t id) = 0;
  // Calls `fn` for each event with seq >= from, in seq order, until it returns non-OK.
  virtual Status ScanEvents(uint64_t from, const std::function<Status(const EventRow&)>& fn) = 0;
  virtual Result<std::optional<RawRow>> GetRawForEvent(uint64_t seq) = 0;
  virtual Result<std::vector<EventRow>> QueryEvents(const EventQuery& query) = 0;
  virtual tlog::NodeReader& nodes() = 0;

  virtual Result<std::optional<CheckpointRow>> LatestCheckpoint() = 0;
  virtual Result<std::optional<CheckpointRow>> CheckpointAt(uint64_t size) = 0;
  virtual Result<std::vector<CheckpointRow>> ListCheckpoints() = 0;

  virtual Result<std::vector<QuarantineRow>> ListQuarantine(int64_t after_id, size_t limit) = 0;

  // Derived state. Reads see the open write transaction's writes.
  virtual Result<std::optional<IdentityKeyRow>> GetIdentityKey(std::string_view key) = 0;
  // The keys of a group, by key.
  virtual Result<std::vector<IdentityKeyRow>> ListGroupKeys(std::string_view canonical) = 0;
  // The canonical keys of the groups matching `query`, by key.
  virtual Result<std::vector<std::string>> ListCanonicalKeys(const IdentityQuery& query) = 0;
  // Alias assertions naming `key` on either side.
  virtual Result<std::vector<IdentityLinkRow>> ListLinks(std::string_view key) = 0;
  virtual Result<std::optional<GrantRow>> GetGrant(std::string_view correlation_key) = 0;
  virtual Result<std::vector<GrantRow>> ListGrantsForKey(std::string_view identity_key) = 0;
  // The earliest event of `kind` for `identity_key` with from_ns <= time_ns < to_ns.
  virtual Result<std::optional<EventRow>> FirstEventOf(std::string_view identity_key,
                                                       std::string_view kind, int64_t from_ns,
                                                       int64_t to_ns) = 0;
  // Whole-table reads, ordered by key, for comparisons (rebuild == incremental) and exports.
  virtual Status ScanIdentityKeys(const std::function<Status(const IdentityKeyRow&)>& fn) = 0;
  virtual Status ScanIdentityLinks(const std::function<Status(const IdentityLinkRow&)>& fn) = 0;
  virtual Status ScanGrants(const std::function<Status(const GrantRow&)>& fn) = 0;
  virtual Result<uint64_t> QuarantineCount() = 0;

  // Starts the (single) write transaction.
  virtual Result<std::unique_ptr<WriteTxn>> BeginWrite() = 0;

  // After an erasure: makes sure deleted bytes are in no file of the store any more (the
  // backend overwrites deleted content; this also moves the write-ahead log into the database
  // and empties it, since its older frames still hold the bytes as they were). kUnavailable
  // when another connection's open read keeps the log from being emptied (the erasure itself is
  // committed; running this again later finishes it). REQUIRES: no write transaction is open.
  virtual Status PurgeFreedSpace() = 0;

  // Until the returned snapshot is destroyed, every read through this Store sees the store as
  // it was at the first of them, whatever other processes commit meanwhile (an export reads the
  // same events, trace and checkpoints). REQUIRES: no write transaction is open, and none is
  // begun while the snapshot lives. A backend without snapshots returns null (reads are then
  // not isolated from concurrent commits).
  virtual Result<std::unique_ptr<ReadSnapshot>> BeginRead() {
    return std::unique_ptr<ReadSnapshot>();
  }
};

// Opens (or with options.create, creates) the store at options.path, choosing the backend by
// the path: a file path is SQLite. Applies pending schema migrations on open (not read-only).
Result<std::unique_ptr<Store>> OpenStore(const StoreOptions& options);

}  // namespace nhitrace::store
