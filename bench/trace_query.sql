-- The question `nhitrace trace --request $1 --json` answers, as one PostgreSQL statement over the
-- events table of bench/trace_pg_schema.sql. It follows the rules of src/correlate (grant_chain.cc
-- BuildChain, derived_state.cc LoadChain, trace.cc Attribute), computed from the events alone:
--
--   1. the request's chain: the events that carry the request id, plus the credential's
--      lifecycle events without a request id that fall between this grant's first issuance and
--      the next grant's;
--   2. its credential (first successful provision's identity, else the latest approval's, else
--      the first request's) and that credential's alias group: the transitive closure of the
--      `aliases` and `delegation.credential` assertions;
--   3. every grant of the group's keys, with its usable window [start, end) (issuance, approved
--      window not_before / not_after / TTL, first successful revocation or expiry) and approved
--      scope (the latest approval's, else the first request's);
--   4. every action of the group's keys, attributed to one grant as trace.h Attribute does (own
--      credential first; then the grant whose window contains it, else the latest that started
--      before it, else the earliest) and judged covered / out_of_scope (IAM-style '*' patterns,
--      as LIKE) / before_grant / after_revocation / after_expiry;
--   5. for this grant: the counts by verdict, first / last, delegated actions, the first 20
--      exceptions with what they touched outside the scope, the first use inside the window,
--      the status, and the alias group's keys with counts, last action and latest facts.
--
-- Each lookup by key is a LATERAL subquery with OFFSET 0, a planner fence that keeps it a
-- parameterised index scan: without it PostgreSQL flattens it into a join and, misled by the
-- recursive CTE's row estimate, hashes a sequential scan of the whole table.
--
-- The result is one JSON document. Text order is byte order (the cluster is initialised with
-- --locale=C), as in nhitrace's (time, source system, source event id) ordering.
-- Not computed here (nhitrace does): the chain's issues (no_request, self_approved, ...), which
-- event established each alias, and per-key first/last seen that count alias mentions.
WITH RECURSIVE
c0 AS MATERIALIZED (
  SELECT * FROM events WHERE correlation_key = $1
),
cred AS (
  SELECT coalesce(
    (SELECT identity_key FROM c0
      WHERE kind = 'provision' AND coalesce(outcome_result, 'success') = 'success'
      ORDER BY time_ns, source_system, source_event_id LIMIT 1),
    (SELECT identity_key FROM c0 WHERE kind = 'approval' AND identity_key IS NOT NULL
      ORDER BY time_ns DESC, source_system DESC, source_event_id DESC LIMIT 1),
    (SELECT identity_key FROM c0 WHERE kind = 'request' AND identity_key IS NOT NULL
      ORDER BY time_ns, source_system, source_event_id LIMIT 1)) AS key
),
-- The credential's identity: every key linked to it by alias or delegation assertions.
grp(k) AS (
  SELECT key FROM cred WHERE key IS NOT NULL
  UNION
  SELECT l.k FROM grp CROSS JOIN LATERAL (
    SELECT unnest(e.aliases) FROM events e
     WHERE e.identity_key = grp.k AND e.aliases IS NOT NULL
    UNION ALL
    SELECT e.identity_key FROM events e
     WHERE e.aliases @> ARRAY[grp.k] AND e.aliases IS NOT NULL AND e.identity_key IS NOT NULL
    UNION ALL
    SELECT e.deleg_credential FROM events e
     WHERE e.identity_key = grp.k
       AND e.deleg_credential IS NOT NULL AND e.deleg_credential <> e.identity_key
    UNION ALL
    SELECT e.identity_key FROM events e
     WHERE e.deleg_credential = grp.k
       AND e.deleg_credential IS NOT NULL AND e.deleg_credential <> e.identity_key
  ) AS l(k)
),
-- Every grant an action of the group could be attributed to, and this request's.
g AS (
  SELECT $1::text AS ck
  UNION
  SELECT e.correlation_key FROM grp CROSS JOIN LATERAL (
    SELECT correlation_key FROM events
     WHERE identity_key = grp.k AND kind = 'provision' AND correlation_key IS NOT NULL
       AND coalesce(outcome_result, 'success') = 'success' OFFSET 0) e
),
ce AS MATERIALIZED (
  SELECT * FROM c0
  UNION ALL
  SELECT e.* FROM g CROSS JOIN LATERAL (
    SELECT * FROM events WHERE correlation_key = g.ck OFFSET 0) e
   WHERE g.ck <> $1
),
gp AS (
  SELECT g.ck, p.seq AS p_seq, p.time_ns AS p_time, p.has_scope AS p_has_scope,
         p.resources AS p_res, p.permissions AS p_perm,
         coalesce(p.identity_key,
           (SELECT identity_key FROM ce WHERE ce.correlation_key = g.ck AND kind = 'approval'
               AND identity_key IS NOT NULL
             ORDER BY time_ns DESC, source_system DESC, source_event_id DESC LIMIT 1),
           (SELECT identity_key FROM ce WHERE ce.correlation_key = g.ck AND kind = 'request'
               AND identity_key IS NOT NULL
             ORDER BY time_ns, source_system, source_event_id LIMIT 1)) AS cred
    FROM g LEFT JOIN LATERAL (
      SELECT * FROM ce WHERE ce.correlation_key = g.ck AND kind = 'provision'
         AND coalesce(outcome_result, 'success') = 'success'
       ORDER BY time_ns, source_system, source_event_id LIMIT 1) p ON true
),
-- Lifecycle events of a provisioned grant's credential that carry no request id belong to the
-- grant current when they happened: from its first issuance to the next grant's.
st AS (
  SELECT DISTINCT ON (e.identity_key, e.correlation_key)
         e.identity_key AS cred, e.correlation_key AS ck, e.time_ns, e.source_system,
         e.source_event_id
    FROM (SELECT DISTINCT cred FROM gp WHERE p_seq IS NOT NULL AND cred IS NOT NULL) c
    CROSS JOIN LATERAL (
      SELECT * FROM events
       WHERE identity_key = c.cred AND kind = 'provision' AND correlation_key IS NOT NULL
         AND coalesce(outcome_result, 'success') = 'success' OFFSET 0) e
   ORDER BY e.identity_key, e.correlation_key, e.time_ns, e.source_system, e.source_event_id
),
lo AS (
  SELECT o.ck AS gck, e.*
    FROM gp JOIN st o ON o.ck = gp.ck AND o.cred = gp.cred
    CROSS JOIN LATERAL (
      SELECT * FROM events
       WHERE identity_key = o.cred AND correlation_key IS NULL
         AND kind IN ('rotation', 'revocation', 'expiry', 'reconciliation') OFFSET 0) e
   WHERE (e.time_ns, e.source_system, e.source_event_id)
         >= (o.time_ns, o.source_system, o.source_event_id)
     AND NOT EXISTS (
       SELECT 1 FROM st n
        WHERE n.cred = o.cred AND n.ck <> o.ck
          AND (n.time_ns, n.source_system, n.source_event_id)
              > (o.time_ns, o.source_system, o.source_event_id)
          AND (e.time_ns, e.source_system, e.source_event_id)
              >= (n.time_ns, n.source_system, n.source_event_id))
),
ev AS MATERIALIZED (
  SELECT ce.correlation_key AS gck, ce.* FROM ce
  UNION ALL
  SELECT * FROM lo
),
gw0 AS (
  SELECT gp.*,
         r.seq AS r_seq, r.actor_id AS requester, r.has_scope AS r_has_scope,
         r.resources AS r_res, r.permissions AS r_perm, r.has_window AS r_has_window,
         r.not_before_ns AS r_nb, r.not_after_ns AS r_na, r.ttl_s AS r_ttl,
         a.seq AS a_seq, a.has_scope AS a_has_scope, a.resources AS a_res,
         a.permissions AS a_perm, a.has_window AS a_has_window, a.not_before_ns AS a_nb,
         a.not_after_ns AS a_na, a.ttl_s AS a_ttl, a.policy_id, a.policy_version, a.policy_hash,
         x.seq AS x_seq, x.kind AS x_kind, x.time_ns AS x_time
    FROM gp
    LEFT JOIN LATERAL (
      SELECT * FROM ev WHERE ev.gck = gp.ck AND ev.kind = 'request'
       ORDER BY time_ns, source_system, source_event_id LIMIT 1) r ON true
    LEFT JOIN LATERAL (
      SELECT * FROM ev WHERE ev.gck = gp.ck AND ev.kind = 'approval'
       ORDER BY time_ns DESC, source_system DESC, source_event_id DESC LIMIT 1) a ON true
    LEFT JOIN LATERAL (
      SELECT * FROM ev WHERE ev.gck = gp.ck AND ev.kind IN ('revocation', 'expiry')
         AND coalesce(outcome_result, 'success') = 'success'
       ORDER BY time_ns, source_system, source_event_id LIMIT 1) x ON true
),
gw1 AS (
  SELECT gw0.*,
         -- Only an approval approves: its scope, else the requested one.
         a_seq IS NOT NULL AND (a_has_scope OR coalesce(r_has_scope, false)) AS ok_scope,
         CASE WHEN a_seq IS NULL THEN NULL WHEN a_has_scope THEN a_res ELSE r_res END AS ok_res,
         CASE WHEN a_seq IS NULL THEN NULL WHEN a_has_scope THEN a_perm ELSE r_perm END AS ok_perm,
         -- The approved window: the latest approval's, else the first request's.
         CASE WHEN a_has_window THEN a_nb WHEN r_has_window THEN r_nb END AS w_nb,
         CASE WHEN a_has_window THEN a_na WHEN r_has_window THEN r_na END AS w_na,
         CASE WHEN a_has_window THEN a_ttl WHEN r_has_window THEN r_ttl END AS w_ttl
    FROM gw0
),
gw2 AS (
  SELECT gw1.*,
         CASE WHEN p_seq IS NOT NULL THEN greatest(p_time, w_nb) END AS start_ns,
         CASE WHEN p_seq IS NOT NULL AND w_na IS NOT NULL THEN
           CASE WHEN w_na = 9223372036854775807 THEN w_na ELSE w_na + 1 END END AS win_end,
         CASE WHEN p_seq IS NOT NULL AND w_ttl IS NOT NULL THEN
           CASE WHEN w_ttl >= (9223372036854775807 - p_time) / 1000000000
                THEN 9223372036854775807 ELSE p_time + w_ttl * 1000000000 END END AS ttl_end
    FROM gw1
),
gw3 AS (
  SELECT gw2.*,
         CASE WHEN ttl_end < coalesce(win_end, 9223372036854775807) THEN ttl_end
              ELSE win_end END AS end0,
         CASE WHEN ttl_end < coalesce(win_end, 9223372036854775807) THEN 'ttl'
              WHEN win_end IS NOT NULL THEN 'window' ELSE '' END AS reason0
    FROM gw2
),
gw AS MATERIALIZED (
  SELECT gw3.*,
         CASE WHEN x_time <= coalesce(end0, 9223372036854775807) THEN x_time
              ELSE end0 END AS end_ns,  -- NULL: open
         CASE WHEN x_time <= coalesce(end0, 9223372036854775807) THEN
                CASE x_kind WHEN 'revocation' THEN 'revoked' ELSE 'expired' END
              ELSE reason0 END AS end_reason,
         CASE WHEN x_time <= coalesce(end0, 9223372036854775807) THEN x_seq END AS end_seq,
         -- '*' patterns as LIKE patterns; NULL when the scope does not constrain that list.
         CASE WHEN ok_scope AND cardinality(ok_res) > 0 THEN ARRAY(
           SELECT replace(replace(replace(replace(p, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%')
             FROM unnest(ok_res) p) END AS res_like,
         CASE WHEN ok_scope AND cardinality(ok_perm) > 0 THEN ARRAY(
           SELECT replace(replace(replace(replace(p, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%')
             FROM unnest(ok_perm) p) END AS perm_like
    FROM gw3
),
act AS MATERIALIZED (
  SELECT e.seq, e.time_ns, e.source_system, e.source_event_id, e.identity_key,
         e.deleg_credential, e.has_delegation, e.has_scope, e.resources, e.permissions
    FROM grp CROSS JOIN LATERAL (
      SELECT seq, time_ns, source_system, source_event_id, identity_key, deleg_credential,
             has_delegation, has_scope, resources, permissions
        FROM events WHERE identity_key = grp.k AND kind = 'action' OFFSET 0) e
),
att AS (
  SELECT a.*, b.ck, b.res_like, b.perm_like,
         CASE WHEN b.ck IS NULL THEN 'no_grant'
              WHEN b.cont THEN
                CASE WHEN b.ok_scope AND a.has_scope AND (
                       (b.res_like IS NOT NULL AND EXISTS (
                          SELECT 1 FROM unnest(a.resources) r WHERE NOT r LIKE ANY (b.res_like)))
                    OR (b.perm_like IS NOT NULL AND EXISTS (
                          SELECT 1 FROM unnest(a.permissions) p WHERE NOT p LIKE ANY (b.perm_like))))
                     THEN 'out_of_scope' ELSE 'covered' END
              WHEN b.bef THEN
                CASE WHEN b.end_reason = 'revoked' THEN 'after_revocation' ELSE 'after_expiry' END
              ELSE 'before_grant' END AS verdict
    FROM act a LEFT JOIN LATERAL (
      SELECT gw.ck, gw.end_reason, gw.ok_scope, gw.res_like, gw.perm_like,
             a.time_ns >= gw.start_ns
               AND a.time_ns < coalesce(gw.end_ns, 9223372036854775807) AS cont,
             a.time_ns >= gw.start_ns AS bef
        FROM gw WHERE gw.start_ns IS NOT NULL
       ORDER BY coalesce(gw.cred = a.identity_key OR gw.cred = a.deleg_credential, false) DESC,
                a.time_ns >= gw.start_ns
                  AND a.time_ns < coalesce(gw.end_ns, 9223372036854775807) DESC,
                a.time_ns >= gw.start_ns DESC,
                CASE WHEN a.time_ns >= gw.start_ns THEN -gw.start_ns ELSE gw.start_ns END,
                gw.ck
       LIMIT 1) b ON true
),
mine AS MATERIALIZED (
  SELECT * FROM att WHERE ck = $1
),
summ AS (
  SELECT count(*) AS n, min(time_ns) AS first_ns, max(time_ns) AS last_ns,
         count(*) FILTER (WHERE verdict = 'covered') AS covered,
         count(*) FILTER (WHERE verdict = 'out_of_scope') AS out_of_scope,
         count(*) FILTER (WHERE verdict = 'before_grant') AS before_grant,
         count(*) FILTER (WHERE verdict = 'after_revocation') AS after_revocation,
         count(*) FILTER (WHERE verdict = 'after_expiry') AS after_expiry,
         count(*) FILTER (WHERE has_delegation) AS delegated
    FROM mine
),
exc AS (
  SELECT m.seq, m.verdict, m.time_ns, m.source_system, m.source_event_id,
         CASE WHEN m.verdict = 'out_of_scope' THEN ARRAY(
           SELECT r FROM unnest(m.resources) r
            WHERE m.res_like IS NOT NULL AND NOT r LIKE ANY (m.res_like)
           UNION ALL
           SELECT p FROM unnest(m.permissions) p
            WHERE m.perm_like IS NOT NULL AND NOT p LIKE ANY (m.perm_like)) END AS uncovered
    FROM mine m WHERE m.verdict <> 'covered'
   ORDER BY m.time_ns, m.source_system, m.source_event_id LIMIT 20
),
me AS (
  SELECT * FROM gw WHERE ck = $1
),
-- Active: the first use inside the window, by the credential or by a key of its identity that
-- has no grant of its own.
fu AS (
  SELECT a.seq, a.time_ns FROM act a, me
   WHERE me.start_ns IS NOT NULL AND a.time_ns >= me.start_ns
     AND a.time_ns < coalesce(me.end_ns, 9223372036854775807)
     AND (a.identity_key = me.cred OR NOT EXISTS (
           SELECT 1 FROM gw g2 WHERE g2.cred = a.identity_key AND g2.start_ns IS NOT NULL))
   ORDER BY a.time_ns, a.source_system, a.source_event_id LIMIT 1
),
evr AS (
  SELECT ev.*,
         CASE
           WHEN kind = 'request' THEN 'requested'
           WHEN kind = 'approval' THEN 'approved'
           WHEN kind = 'denial' THEN 'denied'
           WHEN kind = 'provision' THEN
             CASE WHEN coalesce(outcome_result, 'success') = 'success' THEN 'provisioned'
                  ELSE 'provision_failed' END
           WHEN kind = 'rotation' THEN 'rotated'
           WHEN kind IN ('revocation', 'expiry') THEN
             CASE WHEN coalesce(outcome_result, 'success') <> 'success' THEN 'other'
                  WHEN kind = 'revocation' THEN 'revoked' ELSE 'expired' END
           WHEN kind = 'reconciliation' THEN
             CASE WHEN coalesce(outcome_result, 'success') = 'success'
                       AND time_ns >= (SELECT x_time FROM me) THEN 'reconciled'
                  ELSE 'other' END
           ELSE 'other' END AS stage
    FROM ev WHERE gck = $1
),
stages AS (
  SELECT json_object_agg(stage, seqs) AS j,
         bool_or(stage = 'reconciled') AS confirmed,
         bool_or(stage = 'provision_failed') AS failed
    FROM (SELECT stage, json_agg(seq ORDER BY time_ns, source_system, source_event_id) AS seqs
            FROM evr GROUP BY stage) s
),
decision AS (
  SELECT kind FROM evr WHERE kind IN ('approval', 'denial')
   ORDER BY time_ns DESC, source_system DESC, source_event_id DESC LIMIT 1
),
-- The identity: counts, last action and the latest value of each fact over the group's keys.
keyact AS (
  SELECT identity_key AS k, count(*) AS n, min(time_ns) AS lo, max(time_ns) AS hi
    FROM act GROUP BY identity_key
),
keyev AS (
  SELECT e.identity_key AS k, e.time_ns, e.source_system, e.source_event_id, e.subject_kind,
         e.subject_name, e.subject_owner, e.subject_sponsor, e.subject_system
    FROM grp CROSS JOIN LATERAL (
      SELECT * FROM events
       WHERE identity_key = grp.k
         AND kind IN ('approval', 'denial', 'expiry', 'identity', 'provision', 'reconciliation',
                      'request', 'revocation', 'rotation', 'signal', 'support') OFFSET 0) e
),
keyinfo AS (
  SELECT grp.k, coalesce(ka.n, 0) AS actions, ka.hi AS last_action,
         coalesce(ka.n, 0) + (SELECT count(*) FROM keyev WHERE keyev.k = grp.k) AS events,
         least(ka.lo, (SELECT min(time_ns) FROM keyev WHERE keyev.k = grp.k)) AS first_seen,
         greatest(ka.hi, (SELECT max(time_ns) FROM keyev WHERE keyev.k = grp.k)) AS last_seen
    FROM grp LEFT JOIN keyact ka ON ka.k = grp.k
),
facts AS (
  SELECT (array_agg(subject_kind ORDER BY time_ns DESC, source_system DESC, source_event_id DESC)
            FILTER (WHERE subject_kind IS NOT NULL))[1] AS kind,
         (array_agg(subject_name ORDER BY time_ns DESC, source_system DESC, source_event_id DESC)
            FILTER (WHERE subject_name IS NOT NULL))[1] AS name,
         (array_agg(subject_owner ORDER BY time_ns DESC, source_system DESC, source_event_id DESC)
            FILTER (WHERE subject_owner IS NOT NULL))[1] AS owner,
         (array_agg(subject_sponsor ORDER BY time_ns DESC, source_system DESC, source_event_id DESC)
            FILTER (WHERE subject_sponsor IS NOT NULL))[1] AS sponsor,
         (array_agg(subject_system ORDER BY time_ns DESC, source_system DESC, source_event_id DESC)
            FILTER (WHERE subject_system IS NOT NULL))[1] AS system
    FROM keyev
)
SELECT json_build_object(
  'request', $1::text,
  'chain', json_build_object(
    'correlation_key', me.ck,
    'identity', me.cred,
    'status', CASE
      WHEN me.x_seq IS NOT NULL THEN
        CASE WHEN coalesce(st.confirmed, false) THEN 'reconciled'
             WHEN me.x_kind = 'revocation' THEN 'revoked' ELSE 'expired' END
      WHEN me.p_seq IS NOT NULL THEN
        CASE WHEN (SELECT count(*) FROM fu) > 0 THEN 'active' ELSE 'provisioned' END
      WHEN coalesce(st.failed, false) THEN 'provision_failed'
      WHEN (SELECT kind FROM decision) = 'denial' THEN 'denied'
      WHEN (SELECT kind FROM decision) = 'approval' THEN 'approved'
      WHEN me.r_seq IS NOT NULL THEN 'requested'
      ELSE 'observed' END,
    'requester', me.requester,
    'approvers', (SELECT json_agg(actor_id ORDER BY time_ns, source_system, source_event_id)
                    FROM evr WHERE kind = 'approval' AND actor_id IS NOT NULL),
    'policy', CASE WHEN me.policy_id IS NOT NULL THEN json_build_object(
                'id', me.policy_id, 'version', me.policy_version, 'hash', me.policy_hash) END,
    'approved_scope', CASE WHEN me.ok_scope THEN json_build_object(
                        'resources', me.ok_res, 'permissions', me.ok_perm) END,
    'start_ns', me.start_ns,
    'end_ns', me.end_ns,
    'start', to_char(to_timestamp(me.start_ns / 1e9) AT TIME ZONE 'UTC',
                     'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'end', to_char(to_timestamp(me.end_ns / 1e9) AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'end_reason', me.end_reason,
    'end_seq', me.end_seq,
    'first_use', (SELECT json_build_object('seq', seq, 'time_ns', time_ns) FROM fu),
    'stages', st.j),
  'events', (SELECT json_agg(json_build_object(
      'seq', seq, 'kind', kind, 'time', time,
      'time_utc', to_char(to_timestamp(time_ns / 1e9) AT TIME ZONE 'UTC',
                          'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
      'source', json_build_object('system', source_system, 'event_id', source_event_id),
      'identity', identity_key,
      'actor', CASE WHEN actor_id IS NOT NULL THEN
                 json_build_object('id', actor_id, 'type', actor_type) END,
      'delegation', CASE WHEN has_delegation THEN json_build_object(
                      'agent_instance', deleg_agent, 'credential', deleg_credential,
                      'sponsor', deleg_sponsor, 'tool_call', deleg_tool) END,
      'outcome', CASE WHEN outcome_result IS NOT NULL THEN
                   json_build_object('result', outcome_result, 'code', outcome_code) END,
      'rationale', rationale)
      ORDER BY time_ns, source_system, source_event_id) FROM evr),
  'actions', (SELECT json_build_object(
      'count', s.n, 'covered', s.covered, 'out_of_scope', s.out_of_scope,
      'before_grant', s.before_grant, 'after_revocation', s.after_revocation,
      'after_expiry', s.after_expiry, 'delegated', s.delegated,
      'first_ns', s.first_ns, 'last_ns', s.last_ns,
      'first', to_char(to_timestamp(s.first_ns / 1e9) AT TIME ZONE 'UTC',
                       'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
      'last', to_char(to_timestamp(s.last_ns / 1e9) AT TIME ZONE 'UTC',
                      'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
      'exceptions', (SELECT json_agg(json_build_object(
          'seq', x.seq, 'verdict', x.verdict, 'uncovered', x.uncovered,
          'time', e.time, 'source', json_build_object('system', e.source_system,
                                                      'event_id', e.source_event_id),
          'identity', e.identity_key,
          'actor', CASE WHEN e.actor_id IS NOT NULL THEN
                     json_build_object('id', e.actor_id, 'type', e.actor_type) END,
          'delegation', CASE WHEN e.has_delegation THEN json_build_object(
                          'agent_instance', e.deleg_agent, 'credential', e.deleg_credential,
                          'sponsor', e.deleg_sponsor, 'tool_call', e.deleg_tool) END,
          'outcome', CASE WHEN e.outcome_result IS NOT NULL THEN
                       json_build_object('result', e.outcome_result, 'code', e.outcome_code) END)
          ORDER BY x.time_ns, x.source_system, x.source_event_id)
          FROM exc x JOIN events e ON e.seq = x.seq),
      'exceptions_omitted', s.n - s.covered - (SELECT count(*) FROM exc))
      FROM summ s),
  'identity', (SELECT json_build_object(
      'keys', (SELECT json_agg(json_build_object(
                 'key', k, 'actions', actions, 'events', events, 'last_action', last_action,
                 'first_seen_ns', first_seen, 'last_seen_ns', last_seen) ORDER BY k)
                 FROM keyinfo),
      'kind', f.kind, 'name', f.name, 'owner', f.owner, 'sponsor', f.sponsor,
      'system', f.system)
      FROM facts f WHERE EXISTS (SELECT 1 FROM grp))
)
FROM (SELECT 1) one
LEFT JOIN me ON true
LEFT JOIN stages st ON true;
