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
#include <utility>
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

// One action event with an identity, and what attributing it to a grant reads of it
// (correlate::Attribute): kept so that reconciliation, traces and reports go through actions
// without decoding their leaves. Derived from the leaf when the action is appended (DerivedState).
struct ActionRow {
  std::string identity_key;
  int64_t time_ns = 0;
  uint64_t seq = 0;
  bool failed = false;     // outcome.result is "failure"
  bool delegated = false;  // the event has a delegation
  std::string credential;  // delegation.credential; empty = NULL
  std::string scope;       // the event's scope, canonical JSON as in the leaf; empty = NULL (none)
  friend bool operator==(const ActionRow&, const ActionRow&) = default;
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

// API access (nhitrace serve; docs/api/README.md). Not part of the ledger.

// A bearer token of the HTTP API. Only the SHA-256 of the token is stored.
struct ApiTokenRow {
  std::string id;            // the token's public id (16 hex digits, part of the token)
  std::string name;          // unique; recorded as the actor of everything the token does
  std::string role;          // ingest, investigator, approver, control_owner, auditor, admin
  std::string token_sha256;  // SHA-256 of the whole token, 32 bytes
  int64_t created_ns = 0;
  std::optional<int64_t> revoked_ns;
  friend bool operator==(const ApiTokenRow&, const ApiTokenRow&) = default;
};

// Who caused a write through the API: one row per committed batch (or other write) of one
// request. Events appended by that commit are seqs [first_seq, first_seq + event_count).
struct ApiAuditRow {
  int64_t id = 0;  // assigned on insert
  int64_t time_ns = 0;
  std::string request_id;
  std::string token_id;
  std::string token_name;
  std::string role;
  std::string action;  // "POST /v1/ingest", "token.create", ...
  std::optional<uint64_t> first_seq;
  uint64_t event_count = 0;
  std::string detail = "{}";  // JSON object
  friend bool operator==(const ApiAuditRow&, const ApiAuditRow&) = default;
};

// Policies, findings and what reconciliation keeps (policy/, reconcile/). All of it is folded
// from ledger events of kind policy, finding, approval and case, or recomputed by a full
// reconciliation pass, so it can be rebuilt (`nhitrace rebuild`).

// A published policy version (its document is the raw record of event `seq`).
struct PolicyRow {
  uint64_t version = 0;
  uint64_t seq = 0;
  std::string policy_id;
  std::string hash;            // "sha256:<hex>" of the document bytes
  std::string canonical_hash;  // "sha256:<hex>" of its canonical JSON
  int64_t published_ns = 0;
  std::string published_by;
  std::string note;
  friend bool operator==(const PolicyRow&, const PolicyRow&) = default;
};

// The latest revision of a finding (docs/reconcile.md). `doc` is the attributes of the finding
// event of that revision; the other columns repeat parts of it for lookups.
struct FindingRow {
  std::string id;
  std::string rule_id;
  uint32_t rule_version = 0;
  std::string subject_type;  // identity | credential | grant | approver
  std::string subject;
  std::string status;  // open | resolved
  std::string severity;
  uint64_t policy_version = 0;
  std::string policy_hash;
  std::string identity_key;     // empty = NULL
  std::string correlation_key;  // empty = NULL
  int64_t first_seen_ns = 0;
  int64_t last_seen_ns = 0;
  uint64_t evidence_count = 0;
  uint64_t horizon = 0;  // the evidence considered: events with seq <= horizon
  int64_t as_of_ns = 0;
  uint32_t revision = 0;
  uint64_t seq = 0;        // the finding event of this revision
  int64_t opened_ns = 0;   // time of the event that (last) opened it
  int64_t updated_ns = 0;  // time of the event of this revision
  std::string doc;
  friend bool operator==(const FindingRow&, const FindingRow&) = default;
};

// A filter over findings; empty fields do not filter. Ordered by id.
struct FindingQuery {
  std::string rule_id;
  std::vector<std::string> severities;  // any of these
  std::string status;                   // open | resolved
  size_t limit = SIZE_MAX >> 1;
};

// An exception or override decision read from an approval or case event (reconcile/).
struct DecisionRow {
  uint64_t seq = 0;
  std::string kind;  // exception | override
  int64_t time_ns = 0;
  std::string actor;            // empty = NULL
  std::string identity_key;     // empty = NULL
  std::string correlation_key;  // empty = NULL
  std::optional<int64_t> expires_ns;
  friend bool operator==(const DecisionRow&, const DecisionRow&) = default;
};

// Exactly one of the fields (the others empty); ordered by time, then seq.
struct DecisionQuery {
  std::string identity_key;
  std::string correlation_key;
  std::string actor;
  std::string kind;  // additionally restricts to one kind
};

// When an evaluation unit must be looked at again although no new evidence names it (an SLA
// or a dormancy period runs out).
struct ScheduleRow {
  std::string unit;  // "group:<canonical key>", "grant:<request id>", "approver:<actor>"
  int64_t due_ns = 0;
  friend bool operator==(const ScheduleRow&, const ScheduleRow&) = default;
};

// Cases (derived from the case events in the ledger; see cases/projection.h). One row per case
// with what listing and filtering need; the full case is the fold of its events.
struct CaseRow {
  uint64_t id = 0;
  std::string kind, state, severity, title;
  std::string owner;  // empty = NULL
  std::string requester;
  int64_t opened_ns = 0;
  int64_t updated_ns = 0;
  std::optional<int64_t> closed_ns;
  std::optional<int64_t> next_due_ns;  // the earliest pending timer
  uint32_t op_count = 0;
  uint64_t last_seq = 0;
  uint32_t escalation_level = 0;
  uint32_t open_tasks = 0;
  friend bool operator==(const CaseRow&, const CaseRow&) = default;
};

struct CaseTaskRow {
  uint64_t case_id = 0;
  uint32_t task_id = 0;
  std::string title;
  std::string owner;  // empty = NULL
  std::string status;
  std::optional<int64_t> due_ns;
  friend bool operator==(const CaseTaskRow&, const CaseTaskRow&) = default;
};

// Something linked to a case (type: identity | event | finding | chain | ticket), and the case
// event that linked it.
struct CaseLinkRow {
  uint64_t case_id = 0;
  std::string type, value;
  uint64_t seq = 0;
  friend bool operator==(const CaseLinkRow&, const CaseLinkRow&) = default;
};

struct CaseDecisionRow {
  uint64_t case_id = 0;
  uint32_t decision_id = 0;
  std::string outcome, status, actor;
  std::string control_owner;  // empty = NULL
  int64_t time_ns = 0;
  uint64_t seq = 0;
  friend bool operator==(const CaseDecisionRow&, const CaseDecisionRow&) = default;
};

// A filter over cases; empty fields do not filter. Results are ordered by id.
struct CaseQuery {
  std::string state, kind, owner, severity;
  bool open_only = false;             // state != closed
  std::optional<int64_t> due_before;  // next_due_ns <= due_before
  uint64_t after_id = 0;              // id > after_id (paging)
  size_t limit = 1000;
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
  virtual Status PutAction(const ActionRow& row) = 0;              // ignored when present
  // Deletes all derived state (before a rebuild).
  virtual Status ClearDerived() = 0;
  // Node hashes as of this transaction (level 0 = leaf hashes of events).
  virtual tlog::NodeReader& nodes() = 0;

  // Policies, findings and reconciliation state (all insert or replace).
  virtual Status PutPolicy(const PolicyRow& row) = 0;
  virtual Status PutFinding(const FindingRow& row) = 0;
  virtual Status PutDecision(const DecisionRow& row) = 0;
  virtual Status PutSchedule(const ScheduleRow& row) = 0;
  virtual Status DeleteSchedule(std::string_view unit) = 0;
  virtual Status ClearSchedule() = 0;
  // Deletes policies, findings, decisions and the schedule (before a rebuild).
  virtual Status ClearReconcile() = 0;

  // Cases (derived; see cases/projection.h).
  virtual Status PutCase(const CaseRow& row) = 0;  // insert or replace
  // Records that ledger event `seq` is op `op_seq` of case `case_id`.
  virtual Status PutCaseEvent(uint64_t case_id, uint32_t op_seq, uint64_t seq) = 0;
  // Replaces the case's task, link and decision rows with these.
  virtual Status ReplaceCaseDetails(uint64_t case_id, const std::vector<CaseTaskRow>& tasks,
                                    const std::vector<CaseLinkRow>& links,
                                    const std::vector<CaseDecisionRow>& decisions) = 0;
  // Records that case event `seq` was not folded into any case, and why.
  virtual Status PutCaseRejection(uint64_t seq, std::string_view reason) = 0;
  // Deletes every derived case table (before a rebuild); attachment bytes are kept.
  virtual Status ClearCases() = 0;
  // Keeps the bytes of an attached file under their SHA-256 (32 bytes); ignored when present.
  // Not derived state: the ledger holds only the hash, so these bytes are never cleared.
  virtual Status PutAttachmentBlob(std::string_view sha256, std::string_view bytes,
                                   int64_t stored_ns) = 0;

  // Makes every write durable (fsync'd, per StoreOptions::durable) or fails and rolls back.
  virtual Status Commit() = 0;

  // API access. kAlreadyExists when the id or the name is taken (names are never reused, not
  // even after revocation, so that audit rows name one token).
  virtual Status InsertApiToken(const ApiTokenRow& row) = 0;
  // Marks the token with this id, or else this name, revoked at `now_ns`; false when there is
  // no such unrevoked token.
  virtual Result<bool> RevokeApiToken(std::string_view id_or_name, int64_t now_ns) = 0;
  virtual Status InsertApiAudit(const ApiAuditRow& row) = 0;
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
// An open read transaction (Store::BeginRead): rolled back, which for reads only ends it, when
// destroyed.
class ReadScope {
 public:
  virtual ~ReadScope() = default;
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
  // Ordered by identity key, time and seq.
  virtual Status ScanActions(const std::function<Status(const ActionRow&)>& fn) = 0;
  // The actions of one identity key with from_ns <= time_ns < to_ns (nullopt: no bound), by
  // time, then seq, until `fn` returns non-OK (streamed: the row object is reused).
  virtual Status ScanActionsOfIdentity(std::string_view identity_key,
                                       std::optional<int64_t> from_ns, std::optional<int64_t> to_ns,
                                       const std::function<Status(const ActionRow&)>& fn) = 0;
  virtual Result<uint64_t> QuarantineCount() = 0;

  // Cases (derived; see cases/projection.h). Reads see the open write transaction's writes.
  virtual Result<std::optional<CaseRow>> GetCase(uint64_t id) = 0;
  virtual Result<std::vector<CaseRow>> ListCases(const CaseQuery& query) = 0;
  // The same rows, streamed: `fn` sees each in turn (the object is reused between calls) until
  // it returns non-OK. Listing without collecting is what keeps 100k cases fast.
  virtual Status ScanCases(const CaseQuery& query,
                           const std::function<Status(const CaseRow&)>& fn) = 0;
  // The largest case id (0 when there is none).
  virtual Result<uint64_t> MaxCaseId() = 0;
  // The ledger seqs of the case's events, in op order.
  virtual Result<std::vector<uint64_t>> ListCaseEventSeqs(uint64_t case_id) = 0;
  virtual Result<std::vector<CaseTaskRow>> ListCaseTasks(uint64_t case_id) = 0;
  virtual Result<std::vector<CaseLinkRow>> ListCaseLinks(uint64_t case_id) = 0;
  virtual Result<std::vector<CaseDecisionRow>> ListCaseDecisions(uint64_t case_id) = 0;
  // The ids of the cases linking (type, value), ascending.
  virtual Result<std::vector<uint64_t>> FindCasesByLink(std::string_view type,
                                                        std::string_view value) = 0;
  // Case events that were not folded into a case: (seq, reason), by seq.
  virtual Result<std::vector<std::pair<uint64_t, std::string>>> ListCaseRejections() = 0;
  // The bytes kept for an attachment's SHA-256 (32 bytes), if any.
  virtual Result<std::optional<std::string>> GetAttachmentBlob(std::string_view sha256) = 0;

  // Starts the (single) write transaction.
  virtual Result<std::unique_ptr<WriteTxn>> BeginWrite() = 0;

  // API access (see ApiTokenRow, ApiAuditRow).
  virtual Result<std::optional<ApiTokenRow>> GetApiToken(std::string_view id) = 0;
  // Every token, revoked ones included, by creation time.
  virtual Result<std::vector<ApiTokenRow>> ListApiTokens() = 0;
  // Audit rows with id > after_id, by id.
  virtual Result<std::vector<ApiAuditRow>> ListApiAudit(int64_t after_id, size_t limit) = 0;
  // The audit row of the commit that appended event `seq`, if it came through the API.
  virtual Result<std::optional<ApiAuditRow>> ApiAuditForSeq(uint64_t seq) = 0;

  // Starts a read transaction that lasts until the returned scope is destroyed: every read sees
  // one snapshot, and the backend takes its locks once instead of once per statement (for
  // passes that make many small reads). A no-op inside a write transaction.
  // REQUIRES: no write transaction begins while the scope is open.
  virtual Result<std::unique_ptr<ReadScope>> BeginRead() = 0;

  // Calls `fn` for each event whose identity column is `identity_key`, except actions (which
  // ScanActionsOfIdentity reads), ordered by kind, time and seq, until it returns non-OK
  // (streamed: any number of events in bounded memory). The rows
  // carry seq, leaf, kind, time_ns, source_system, source_event_id, correlation_key,
  // identity_key and actor_id; not the hashes, tree nodes or raw id.
  virtual Status ScanEventsOfIdentity(std::string_view identity_key,
                                      const std::function<Status(const EventRow&)>& fn) = 0;

  // Policies. Reads see the open write transaction's writes.
  virtual Result<std::optional<PolicyRow>> GetPolicy(uint64_t version) = 0;
  virtual Result<std::optional<PolicyRow>> LatestPolicy() = 0;
  virtual Result<std::vector<PolicyRow>> ListPolicies() = 0;  // by version

  // Findings.
  virtual Result<std::optional<FindingRow>> GetFinding(std::string_view id) = 0;
  // Every finding (of any rule) about one subject, by id.
  virtual Result<std::vector<FindingRow>> ListFindingsForSubject(std::string_view subject_type,
                                                                 std::string_view subject) = 0;
  virtual Result<std::vector<FindingRow>> QueryFindings(const FindingQuery& query) = 0;
  virtual Status ScanFindings(const std::function<Status(const FindingRow&)>& fn) = 0;

  // Exception and override decisions.
  virtual Result<std::vector<DecisionRow>> ListDecisions(const DecisionQuery& query) = 0;
  virtual Status ScanDecisions(const std::function<Status(const DecisionRow&)>& fn) = 0;

  // Schedule entries due at or before `until_ns`, earliest first, at most `limit`.
  virtual Result<std::vector<ScheduleRow>> ListDue(int64_t until_ns, size_t limit) = 0;
  virtual Status ScanSchedule(const std::function<Status(const ScheduleRow&)>& fn) = 0;  // by unit

  // After an erasure: makes sure deleted bytes are in no file of the store any more (the
  // backend overwrites deleted content; this also moves the write-ahead log into the database
  // and empties it, since its older frames still hold the bytes as they were). kUnavailable
  // when another connection's open read keeps the log from being emptied (the erasure itself is
  // committed; running this again later finishes it). REQUIRES: no write transaction is open.
  virtual Status PurgeFreedSpace() = 0;
};

// Opens (or with options.create, creates) the store at options.path, choosing the backend by
// the path: a file path is SQLite. Applies pending schema migrations on open (not read-only).
Result<std::unique_ptr<Store>> OpenStore(const StoreOptions& options);

}  // namespace nhitrace::store
