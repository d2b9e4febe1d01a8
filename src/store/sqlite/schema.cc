#include "store/sqlite/schema.h"

namespace nhitrace::store::sqlite {
namespace {

constexpr Migration kMigrations[] = {
    {1, "ledger: events, raw records, tree nodes, checkpoints, quarantine, meta", R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;

-- The original records, as received. The leaf commits to salted_sha256 = SHA-256(salt||bytes),
-- so salt and bytes can be erased (right to erasure) while every proof still verifies. The id
-- is the seq of the event that owns the record.
CREATE TABLE raw_records (
  id            INTEGER PRIMARY KEY,
  salt          BLOB,
  bytes         BLOB,
  salted_sha256 BLOB NOT NULL,
  size          INTEGER NOT NULL,
  erased_ns     INTEGER
);

-- One row per ledger leaf; seq is the leaf index. Everything but leaf, leaf_hash and tree_nodes
-- is derived from leaf for lookups, and `nhitrace verify` re-derives and compares it.
-- tree_nodes holds the hashes of the perfect subtrees this leaf completes (level 1 first): leaf
-- k completes node (L, ((k+1) >> L) - 1) for L = 1 .. trailing ones of k. Level 0 is leaf_hash.
CREATE TABLE events (
  seq             INTEGER PRIMARY KEY,
  leaf            BLOB NOT NULL,
  leaf_hash       BLOB NOT NULL,
  content_hash    BLOB,
  kind            TEXT NOT NULL,
  time_ns         INTEGER NOT NULL,
  ingested_ns     INTEGER NOT NULL,
  source_system   TEXT NOT NULL,
  source_event_id TEXT NOT NULL,
  correlation_key TEXT,
  identity_key    TEXT,
  actor_id        TEXT,
  tree_nodes      BLOB NOT NULL,
  raw_id          INTEGER,
  -- A record's identity. Time comes second so that, as records mostly arrive in time order,
  -- new keys land near the end of the index instead of on a random page of it: with random
  -- event ids (UUIDs) the old (system, id) order rewrote a page per insert at every commit,
  -- a cost that grew with the store (BENCHMARKS.md).
  UNIQUE (source_system, time_ns, source_event_id)
);
CREATE INDEX events_by_correlation ON events(correlation_key) WHERE correlation_key IS NOT NULL;
CREATE INDEX events_by_identity ON events(identity_key, kind, time_ns) WHERE identity_key IS NOT NULL;
CREATE INDEX events_by_time ON events(time_ns);

-- Every published signed checkpoint.
CREATE TABLE checkpoints (
  size       INTEGER PRIMARY KEY,
  root       BLOB NOT NULL,
  note       TEXT NOT NULL,
  created_ns INTEGER NOT NULL
);

-- Rejected input, kept with its bytes.
CREATE TABLE quarantine (
  id          INTEGER PRIMARY KEY,
  received_ns INTEGER NOT NULL,
  source      TEXT NOT NULL,
  line        INTEGER NOT NULL,
  format      TEXT NOT NULL,
  field       TEXT,
  reason      TEXT NOT NULL,
  raw         BLOB NOT NULL,
  raw_size    INTEGER NOT NULL,
  raw_sha256  BLOB NOT NULL,
  truncated   INTEGER NOT NULL
);
)sql"},
    {2, "derived state: identity keys and aliases, grant chains", R"sql(
-- Everything below is derived from the ledger and can be rebuilt from it (`nhitrace rebuild`).

-- Every identity key seen, with the identity (alias group) it belongs to. `canonical` is the
-- group member seen first (by authoritative time, then key).
CREATE TABLE identity_keys (
  key              TEXT PRIMARY KEY,
  canonical        TEXT NOT NULL,
  first_seen_ns    INTEGER NOT NULL,
  last_seen_ns     INTEGER NOT NULL,
  last_action_ns   INTEGER,
  event_count      INTEGER NOT NULL,
  action_count     INTEGER NOT NULL,
  subject_kind     TEXT,
  subject_name     TEXT,
  owner            TEXT,
  sponsor          TEXT,
  system           TEXT,
  -- For each fact above, the event that stated it: {"owner":[time_ns,"system\nevent id",seq],...}
  facts_provenance TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX identity_keys_by_canonical ON identity_keys(canonical);

-- Every alias assertion: event `seq` said `key_a` and `key_b` name the same identity.
CREATE TABLE identity_links (
  key_a TEXT NOT NULL,
  key_b TEXT NOT NULL,
  seq   INTEGER NOT NULL,
  PRIMARY KEY (key_a, key_b, seq)
) WITHOUT ROWID;
CREATE INDEX identity_links_by_b ON identity_links(key_b);

-- One grant chain per correlation key (request id).
CREATE TABLE grants (
  correlation_key TEXT PRIMARY KEY,
  identity_key    TEXT,
  status          TEXT NOT NULL,
  start_ns        INTEGER NOT NULL,
  end_ns          INTEGER NOT NULL,
  first_use_seq   INTEGER,
  issue_count     INTEGER NOT NULL,
  doc             TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX grants_by_identity ON grants(identity_key) WHERE identity_key IS NOT NULL;
)sql"},
    {3, "api access: bearer tokens (hashes only) and the audit of writes made through the API",
     R"sql(
-- Bearer tokens of `nhitrace serve`. The token itself is shown once at creation and never
-- stored; token_sha256 is the SHA-256 of the whole token. Names are unique forever (revoked
-- tokens keep theirs), so an audit row's token name denotes one token.
CREATE TABLE api_tokens (
  id           TEXT PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,
  role         TEXT NOT NULL,
  token_sha256 BLOB NOT NULL,
  created_ns   INTEGER NOT NULL,
  revoked_ns   INTEGER
) WITHOUT ROWID;

-- Who caused each write made through the API, written in the same transaction as the write:
-- the events a commit appended are seqs [first_seq, first_seq + event_count).
CREATE TABLE api_audit (
  id          INTEGER PRIMARY KEY,
  time_ns     INTEGER NOT NULL,
  request_id  TEXT NOT NULL,
  token_id    TEXT NOT NULL,
  token_name  TEXT NOT NULL,
  role        TEXT NOT NULL,
  action      TEXT NOT NULL,
  first_seq   INTEGER,
  event_count INTEGER NOT NULL,
  detail      TEXT NOT NULL
);
CREATE INDEX api_audit_by_seq ON api_audit(first_seq) WHERE first_seq IS NOT NULL;
)sql"},
    {4, "policies, findings, exception/override decisions and the reconciliation schedule", R"sql(
-- Folded from ledger events and rebuildable (`nhitrace rebuild`): policy versions from events of
-- kind policy, findings from events of kind finding (the latest revision of each), decisions
-- from approval and case events that carry attributes.decision. The schedule is what the last
-- reconciliation pass left to look at again; a full pass recomputes it.

-- One row per published policy version; the document is the raw record of event `seq`.
CREATE TABLE policies (
  version        INTEGER PRIMARY KEY,
  seq            INTEGER NOT NULL,
  policy_id      TEXT NOT NULL,
  hash           TEXT NOT NULL,
  canonical_hash TEXT NOT NULL,
  published_ns   INTEGER NOT NULL,
  published_by   TEXT NOT NULL,
  note           TEXT NOT NULL
);

-- The latest revision of every finding; `doc` is its finding event's attributes.
CREATE TABLE findings (
  id              TEXT PRIMARY KEY,
  rule_id         TEXT NOT NULL,
  rule_version    INTEGER NOT NULL,
  subject_type    TEXT NOT NULL,
  subject         TEXT NOT NULL,
  status          TEXT NOT NULL,
  severity        TEXT NOT NULL,
  policy_version  INTEGER NOT NULL,
  policy_hash     TEXT NOT NULL,
  identity_key    TEXT,
  correlation_key TEXT,
  first_seen_ns   INTEGER NOT NULL,
  last_seen_ns    INTEGER NOT NULL,
  evidence_count  INTEGER NOT NULL,
  horizon         INTEGER NOT NULL,
  as_of_ns        INTEGER NOT NULL,
  revision        INTEGER NOT NULL,
  seq             INTEGER NOT NULL,
  opened_ns       INTEGER NOT NULL,
  updated_ns      INTEGER NOT NULL,
  doc             TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX findings_by_subject ON findings(subject_type, subject);
CREATE INDEX findings_by_rule ON findings(rule_id, status);

-- Exceptions and overrides, by the event that recorded them.
CREATE TABLE reconcile_decisions (
  seq             INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL,
  time_ns         INTEGER NOT NULL,
  actor           TEXT,
  identity_key    TEXT,
  correlation_key TEXT,
  expires_ns      INTEGER
);
CREATE INDEX reconcile_decisions_by_actor ON reconcile_decisions(actor) WHERE actor IS NOT NULL;
CREATE INDEX reconcile_decisions_by_identity ON reconcile_decisions(identity_key)
  WHERE identity_key IS NOT NULL;
CREATE INDEX reconcile_decisions_by_correlation ON reconcile_decisions(correlation_key)
  WHERE correlation_key IS NOT NULL;

-- Evaluation units to look at again at due_ns without new evidence (deadlines of time rules).
CREATE TABLE reconcile_schedule (
  unit   TEXT PRIMARY KEY,
  due_ns INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX reconcile_schedule_by_due ON reconcile_schedule(due_ns);
)sql"},
    {5, "cases: the current view of every case, its events, tasks, links and decisions", R"sql(
-- Derived from the case events (kind `case`, source nhitrace-cases) in the ledger and rebuilt
-- from them by `nhitrace case rebuild` (docs/cases.md). A case itself is the fold of its events;
-- these tables hold what listing, filtering and joining need.
CREATE TABLE cases (
  id               INTEGER PRIMARY KEY,
  kind             TEXT NOT NULL,
  state            TEXT NOT NULL,
  severity         TEXT NOT NULL,
  title            TEXT NOT NULL,
  owner            TEXT,
  requester        TEXT NOT NULL,
  opened_ns        INTEGER NOT NULL,
  updated_ns       INTEGER NOT NULL,
  closed_ns        INTEGER,
  next_due_ns      INTEGER,
  op_count         INTEGER NOT NULL,
  last_seq         INTEGER NOT NULL,
  escalation_level INTEGER NOT NULL,
  open_tasks       INTEGER NOT NULL
);
CREATE INDEX cases_by_state ON cases(state, id);
CREATE INDEX cases_by_owner ON cases(owner, id) WHERE owner IS NOT NULL;
CREATE INDEX cases_by_due ON cases(next_due_ns) WHERE next_due_ns IS NOT NULL;

-- Ledger event `seq` is op `op_seq` of case `case_id`.
CREATE TABLE case_events (
  case_id INTEGER NOT NULL,
  op_seq  INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  PRIMARY KEY (case_id, op_seq)
) WITHOUT ROWID;

CREATE TABLE case_tasks (
  case_id INTEGER NOT NULL,
  task_id INTEGER NOT NULL,
  title   TEXT NOT NULL,
  owner   TEXT,
  status  TEXT NOT NULL,
  due_ns  INTEGER,
  PRIMARY KEY (case_id, task_id)
) WITHOUT ROWID;
CREATE INDEX case_tasks_by_owner ON case_tasks(owner, status) WHERE owner IS NOT NULL;

-- What each case links: identities, events, findings, grant chains, tickets.
CREATE TABLE case_links (
  type    TEXT NOT NULL,
  value   TEXT NOT NULL,
  case_id INTEGER NOT NULL,
  seq     INTEGER NOT NULL,
  PRIMARY KEY (type, value, case_id)
) WITHOUT ROWID;
CREATE INDEX case_links_by_case ON case_links(case_id);

CREATE TABLE case_decisions (
  case_id       INTEGER NOT NULL,
  decision_id   INTEGER NOT NULL,
  outcome       TEXT NOT NULL,
  status        TEXT NOT NULL,
  actor         TEXT NOT NULL,
  control_owner TEXT,
  time_ns       INTEGER NOT NULL,
  seq           INTEGER NOT NULL,
  PRIMARY KEY (case_id, decision_id)
) WITHOUT ROWID;
CREATE INDEX case_decisions_by_actor ON case_decisions(actor, outcome);

-- Case events that could not be folded into a case (malformed, out of sequence), and why.
CREATE TABLE case_rejected (
  seq    INTEGER PRIMARY KEY,
  reason TEXT NOT NULL
);

-- NOT derived: the bytes of attached files, by SHA-256. The ledger holds only the hash, so a
-- rebuild never clears this table.
CREATE TABLE case_attachment_blobs (
  id        INTEGER PRIMARY KEY,
  sha256    BLOB NOT NULL UNIQUE,
  bytes     BLOB NOT NULL,
  size      INTEGER NOT NULL,
  stored_ns INTEGER NOT NULL
);
)sql"},
    {6, "derived state: what attributing each action to a grant reads, by identity", R"sql(
-- One row per action event with an identity (store::ActionRow): what correlate::Attribute reads
-- of it, clustered by identity and time so that reconciliation, traces and reports scan an
-- identity's actions in order without decoding leaves. Derived (DerivedState, `nhitrace
-- rebuild`). flags: 1 = outcome.result is "failure", 2 = the event has a delegation. scope is
-- the event's scope object as it appears in the leaf (canonical JSON), NULL when it has none.
CREATE TABLE actions (
  identity_key TEXT NOT NULL,
  time_ns      INTEGER NOT NULL,
  seq          INTEGER NOT NULL,
  flags        INTEGER NOT NULL,
  credential   TEXT,
  scope        TEXT,
  PRIMARY KEY (identity_key, time_ns, seq)
) WITHOUT ROWID;

-- Stores made before this migration: the same rows, read from the leaves.
INSERT INTO actions(identity_key, time_ns, seq, flags, credential, scope)
SELECT identity_key, time_ns, seq,
       (CASE WHEN json_extract(l, '$.event.outcome.result') = 'failure' THEN 1 ELSE 0 END) |
       (CASE WHEN json_type(l, '$.event.delegation') IS NULL THEN 0 ELSE 2 END),
       NULLIF(json_extract(l, '$.event.delegation.credential'), ''),
       json_extract(l, '$.event.scope')
FROM (SELECT identity_key, time_ns, seq, CAST(leaf AS TEXT) AS l FROM events
      WHERE kind = 'action' AND identity_key IS NOT NULL);
)sql"},
    {7, "events_by_identity without the actions, which the actions table holds", R"sql(
-- The actions table orders an identity's actions by time (migration 6); the index keeps the
-- other kinds, a small share of the events, and so costs an ingest far fewer inserts.
DROP INDEX events_by_identity;
CREATE INDEX events_by_identity ON events(identity_key, kind, time_ns)
  WHERE identity_key IS NOT NULL AND kind <> 'action';
)sql"},
};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

}  // namespace nhitrace::store::sqlite
