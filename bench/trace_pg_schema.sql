-- PostgreSQL side of bench/trace_vs_postgres.sh: the events an nhitrace store holds, as columns
-- (written by `nhitrace_trace_bench --export-pg FILE` from the store, COPY text format), with the
-- indexes the trace question needs. Run by the script in two steps: the table and the COPY in one
-- transaction (so that with wal_level=minimal the load writes no WAL), then the indexes.
--
-- Only what a trace reads or prints is kept: no leaf bytes, tree nodes, raw records, attributes.
-- Times are UTC nanoseconds (bigint) as nhitrace indexes them; `time` is the string as written.
-- A window bound or scope list that the event does not have is NULL.

-- step: table
CREATE TABLE events (
  seq              bigint PRIMARY KEY,
  kind             text NOT NULL,
  time_ns          bigint NOT NULL,
  time             text NOT NULL,
  source_system    text NOT NULL,
  source_event_id  text NOT NULL,
  correlation_key  text,
  identity_key     text,
  aliases          text[],
  actor_id         text,
  actor_type       text,
  deleg_agent      text,
  deleg_tool       text,
  deleg_sponsor    text,
  deleg_credential text,
  has_delegation   boolean NOT NULL,
  resources        text[],
  permissions      text[],
  has_scope        boolean NOT NULL,
  not_before_ns    bigint,
  not_after_ns     bigint,
  ttl_s            bigint,
  has_window       boolean NOT NULL,
  policy_id        text,
  policy_version   text,
  policy_hash      text,
  outcome_result   text,
  outcome_code     text,
  rationale        text,
  subject_kind     text,
  subject_name     text,
  subject_owner    text,
  subject_sponsor  text,
  subject_system   text
);

-- step: indexes
-- The same three lookups nhitrace's store indexes (src/store/sqlite/schema.cc): by request id, and
-- by (identity, kind, time) for an identity's actions and lifecycle events.
CREATE INDEX events_by_correlation ON events (correlation_key) WHERE correlation_key IS NOT NULL;
CREATE INDEX events_by_identity ON events (identity_key, kind, time_ns) WHERE identity_key IS NOT NULL;
-- Alias assertions, both directions, so the alias group can be found from the events alone
-- (nhitrace keeps it in derived tables instead): the events that name aliases, by their identity
-- and by alias; and the delegations whose credential is another key.
CREATE INDEX events_alias_of ON events (identity_key) WHERE aliases IS NOT NULL;
CREATE INDEX events_aliases ON events USING gin (aliases) WHERE aliases IS NOT NULL;
CREATE INDEX events_delegated_by ON events (identity_key)
  WHERE deleg_credential IS NOT NULL AND deleg_credential <> identity_key;
CREATE INDEX events_delegated_to ON events (deleg_credential)
  WHERE deleg_credential IS NOT NULL AND deleg_credential <> identity_key;

-- step: covering (optional: PG_COVERING=1 in bench/trace_vs_postgres.sh)
-- Everything the trace reads of an action, in an index ordered by identity: PostgreSQL can then
-- count an identity's actions with an index-only scan instead of one heap page per action.
-- nhitrace has no equivalent (its actions are read from the event rows, in arrival order).
CREATE INDEX events_actions_covering ON events (identity_key, time_ns)
  INCLUDE (seq, source_system, source_event_id, deleg_credential, has_delegation, has_scope,
           resources, permissions)
  WHERE kind = 'action';
