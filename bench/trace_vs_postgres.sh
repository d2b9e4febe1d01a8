#!/usr/bin/env bash
# Trace latency, nhitrace against PostgreSQL, on the same events and the same questions, in one
# run:
#   1. nhitrace-gen writes SIZE events (JSON Lines) and --chains (every request id with the number
#      of actions of its identity)
#   2. nhitrace init + nhitrace ingest (timed with /usr/bin/time -v)
#   3. nhitrace_trace_bench --export-pg writes the store's events as a COPY file; a throwaway
#      PostgreSQL 15 cluster in the scratch directory (unix socket only, fsync off while loading)
#      loads it and builds the indexes of bench/trace_pg_schema.sql; then it is restarted with
#      fsync on and jit off for the queries
#   4. nhitrace_trace_bench times `trace --request ID` in process (BuildTrace + TraceToJson, the
#      store opened as the CLI opens it) and the prepared statement bench/trace_query.sql over
#      libpq, cold and warm, per size bucket (1-10, 11-100, 101-1,000 actions, the busiest
#      identities), compares every PostgreSQL answer with nhitrace's, and times both as whole
#      processes (`nhitrace trace --request ID --json`, `psql -f`)
# Prints markdown tables (BENCHMARKS.md, "Trace latency: nhitrace against PostgreSQL").
#
# Usage: bench/trace_vs_postgres.sh [SIZE=1000000]
# Environment:
#   BUDGET=3600        seconds for the whole script, build included; the ingest is stopped (and
#                      the run fails) if it would leave less than a quarter of the budget, and the
#                      measurements are cut short at the end of the budget (marked as such)
#   QUERIES=2000       requests per size bucket (distinct while the bucket has enough chains)
#   BUSIEST=5          busiest identities to trace (each reads all of the identity's actions)
#   PROCESS_RUNS=200   whole-process runs per bucket and command
#   SEED=1             workload seed (the query choice uses it too)
#   SKIP_BUILD=1       use the binaries already in build/bench
#   SCRATCH=DIR        where the scratch directory goes (default $TMPDIR, else /tmp); it needs
#                      about 3.5 KB per event (JSON Lines 0.6, store 2.0, COPY file 0.45,
#                      PostgreSQL 0.5) and is deleted at the end unless KEEP=1
#   REUSE=DIR          skip steps 1-2: DIR holds store.db (+ key) and chains.tsv from an earlier
#                      run with the same SIZE and SEED (e.g. a KEEP=1 scratch directory)
#   KEEP=1             keep the scratch directory (printed)
#   PG_COVERING=1      also build the covering index of actions (trace_pg_schema.sql, step
#                      "covering"), so that PostgreSQL counts actions with index-only scans
#   PG_BIN=/usr/lib/postgresql/15/bin
# Needs: cmake, ninja, GNU time, PostgreSQL 15 server and client, libpq (scripts/setup.sh --bench).
# As root, the cluster runs as the `postgres` user (initdb refuses root).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

SIZE=${1:-1000000}
SEED=${SEED:-1}
BUDGET=${BUDGET:-3600}
QUERIES=${QUERIES:-2000}
BUSIEST=${BUSIEST:-5}
PROCESS_RUNS=${PROCESS_RUNS:-200}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
start=$SECONDS
bin=$root/build/bench

for tool in /usr/bin/time "$PG_BIN/initdb" "$PG_BIN/pg_ctl" "$PG_BIN/psql"; do
  [ -x "$tool" ] || { echo "trace_vs_postgres: needs $tool (scripts/setup.sh --bench)" >&2; exit 1; }
done

if [ -z "${SKIP_BUILD:-}" ]; then
  echo "== building the bench preset (Release): nhitrace, nhitrace-gen, nhitrace_trace_bench" >&2
  cmake --preset bench >/dev/null
  cmake --build --preset bench -j2 --target nhitrace_cli_main nhitrace_gen nhitrace_trace_bench >&2
fi
built=$SECONDS

base=${SCRATCH:-${TMPDIR:-/tmp}}
mkdir -p "$base"
need_kb=$((SIZE * 35 / 10))
[ -n "${REUSE:-}" ] && need_kb=$((SIZE * 12 / 10))
free_kb=$(df -Pk "$base" | awk 'NR == 2 { print $4 }')
if [ "$free_kb" -lt "$need_kb" ]; then
  echo "trace_vs_postgres: $base has $((free_kb / 1048576)) GiB free, needs about" \
    "$((need_kb / 1048576)) GiB for $SIZE events (set SCRATCH)" >&2
  exit 1
fi
scratch=$(mktemp -d "$base/nhitrace-trace.XXXXXX")
chmod 755 "$scratch"
pg_data=$scratch/pg/data
pg_sock=$scratch/pg
pg_run=()
if [ "$(id -u)" -eq 0 ]; then pg_run=(runuser -u postgres --); fi
pg_up=""
cleanup() {
  if [ -n "$pg_up" ]; then "${pg_run[@]}" "$PG_BIN/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null 2>&1 || true; fi
  if [ -n "${KEEP:-}" ]; then
    echo "scratch kept: $scratch" >&2
  else
    rm -rf "$scratch"
  fi
}
trap cleanup EXIT
cd "$scratch"

# GNU time -v output -> "wall user sys maxrss_kb"
times_of() {
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
    /User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident set size/ { r = $2 }
    END { printf "%s %s %s %s\n", w, u, s, r }' "$1"
}
mb() { du -cb "$@" 2>/dev/null | awk 'END { printf "%.0f", $1 / 1e6 }' || true; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
ram=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
date_start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git -C "$root" status --porcelain -- src bench 2>/dev/null | grep -c . || true)

if [ -n "${REUSE:-}" ]; then
  store=$REUSE/store.db
  chains=$REUSE/chains.tsv
  [ -f "$store" ] && [ -f "$chains" ] || { echo "trace_vs_postgres: REUSE needs store.db and chains.tsv" >&2; exit 1; }
  ingest_line="(reused from $REUSE)"
else
  store=$scratch/store.db
  chains=$scratch/chains.tsv
  echo "== generating $SIZE events" >&2
  /usr/bin/time -f '%e' -o gen.time "$bin/nhitrace-gen" --events "$SIZE" --seed "$SEED" \
    --out events.jsonl --chains chains.tsv 2> gen.json
  in_bytes=$(stat -c %s events.jsonl)
  echo "   $(cat gen.time) s, $((in_bytes / 1000000)) MB" >&2
  "$bin/nhitrace" --store "$store" init --origin bench.nhitrace.example/trace >/dev/null
  left=$((BUDGET - (SECONDS - start) - BUDGET / 4))
  [ "$left" -lt 60 ] && left=60
  echo "== nhitrace ingest $SIZE events (at most $left s)" >&2
  rc=0
  /usr/bin/time -v -o ingest.time timeout "$left" "$bin/nhitrace" --store "$store" ingest \
    events.jsonl --json > ingest.json 2> ingest.err || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "trace_vs_postgres: ingest exited $rc (124: stopped after $left s by the budget;" \
      "use a smaller SIZE or a larger BUDGET)" >&2
    cat ingest.err >&2
    exit 1
  fi
  accepted=$(sed 's/.*"accepted":\([0-9]*\).*/\1/' ingest.json)
  [ "$accepted" = "$SIZE" ] || { echo "nhitrace accepted $accepted of $SIZE" >&2; exit 1; }
  read -r w u s r < <(times_of ingest.time)
  ingest_line=$(awk -v n="$SIZE" -v w="$w" -v u="$u" -v s="$s" -v r="$r" -v b="$in_bytes" \
    'BEGIN { printf "%d events (%.0f MB) in %.0f s wall, %.0f s user, %.0f s sys: %.0f events/s, max RSS %.0f MB", n, b / 1e6, w, u, s, n / w, r / 1024 }')
  echo "   $ingest_line" >&2
  rm -f events.jsonl
fi
store_mb=$(mb "$store" "$store-wal")

echo "== export for PostgreSQL" >&2
t0=$SECONDS
"$bin/nhitrace_trace_bench" --store "$store" --export-pg events.copy > export.count
chmod 644 events.copy
export_s=$((SECONDS - t0))
copy_mb=$(mb events.copy)

echo "== PostgreSQL: initdb, load, index" >&2
mkdir -p "$pg_sock"
[ "$(id -u)" -eq 0 ] && chown postgres "$pg_sock"
"${pg_run[@]}" "$PG_BIN/initdb" -D "$pg_data" --locale=C -E UTF8 -A trust -U postgres > initdb.log
pg_start() {  # pg_start EXTRA_SETTINGS...
  local opts="-c listen_addresses='' -c unix_socket_directories='$pg_sock' -c port=5432"
  for o in "$@"; do opts+=" -c $o"; done
  "${pg_run[@]}" "$PG_BIN/pg_ctl" -D "$pg_data" -l "$pg_sock/log" -w -o "$opts" start >/dev/null
  pg_up=1
}
pg_stop() { "${pg_run[@]}" "$PG_BIN/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null; pg_up=""; }
conn="host=$pg_sock port=5432 user=postgres dbname=postgres"
psql_() { "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$conn" "$@"; }
# Loading: no fsync, no full-page writes, minimal WAL (the COPY into the table created in the
# same transaction writes no WAL at all), more memory for the index builds.
pg_start fsync=off synchronous_commit=off full_page_writes=off wal_level=minimal \
  max_wal_senders=0 maintenance_work_mem=1GB max_wal_size=8GB checkpoint_timeout=1h
awk '/^-- step: table/ { f = 1 } /^-- step: indexes/ { f = 0 } f' "$root/bench/trace_pg_schema.sql" > table.sql
awk '/^-- step: indexes/ { f = 1 } /^-- step: covering/ { f = 0 } f' "$root/bench/trace_pg_schema.sql" > indexes.sql
if [ -n "${PG_COVERING:-}" ]; then
  awk '/^-- step: covering/ { f = 1 } f' "$root/bench/trace_pg_schema.sql" >> indexes.sql
fi
t0=$SECONDS
psql_ -c "BEGIN" -f table.sql -c "COPY events FROM '$scratch/events.copy'" -c "COMMIT"
copy_s=$((SECONDS - t0))
t0=$SECONDS
psql_ -f indexes.sql
index_s=$((SECONDS - t0))
t0=$SECONDS
psql_ -c "VACUUM (ANALYZE) events"
vacuum_s=$((SECONDS - t0))
rm -f events.copy
pg_rows=$(psql_ -At -c "SELECT count(*) FROM events")
[ "$pg_rows" = "$(cat export.count)" ] || { echo "PostgreSQL holds $pg_rows rows, exported $(cat export.count)" >&2; exit 1; }
pg_sizes=$(psql_ -At -c "SELECT pg_relation_size('events') / 1000000, pg_indexes_size('events') / 1000000")
pg_table_mb=${pg_sizes%|*}
pg_index_mb=${pg_sizes#*|}
pg_stop
# Querying: durable settings again; 1 GB of shared buffers (nhitrace's query commands map 1 GiB
# of the store and keep a 32 MiB page cache); no JIT (PostgreSQL's default jit=on compiles this
# statement for seconds, its cost estimate being far above jit_above_cost).
pg_start shared_buffers=1GB effective_cache_size=8GB random_page_cost=1.1 jit=off
pg_settings=$(psql_ -At -c "SELECT string_agg(name || '=' || setting, ', ' ORDER BY name) FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'jit', 'random_page_cost', 'effective_cache_size', 'fsync', 'max_parallel_workers_per_gather', 'plan_cache_mode')")
pg_version=$(psql_ -At -c "SHOW server_version")

echo "== measuring" >&2
left=$((BUDGET - (SECONDS - start) - 30))
[ "$left" -lt 60 ] && left=60
rc=0
"$bin/nhitrace_trace_bench" --store "$store" --chains "$chains" --queries "$QUERIES" \
  --busiest "$BUSIEST" --seed "$SEED" --pg "$conn" --sql "$root/bench/trace_query.sql" \
  --cli "$bin/nhitrace" --psql "$PG_BIN/psql" --process-runs "$PROCESS_RUNS" --budget "$left" \
  --scratch "$scratch/q" > results.md || rc=$?
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "date: $date_start; commit $commit$([ "$dirty" -gt 0 ] && echo " (+ $dirty changed files under src/ or bench/)")"
echo "machine: $cpu, $(nproc) cores, $ram RAM; load average $load_start at start, $load_end at end;" \
  "$((SECONDS - start)) s in all (build $((built - start)) s)"
echo "workload: $SIZE events, seed $SEED; nhitrace ingest: $ingest_line; store $store_mb MB"
echo "PostgreSQL $pg_version: COPY file $copy_mb MB (export $export_s s); COPY $copy_s s, indexes" \
  "$index_s s$([ -n "${PG_COVERING:-}" ] && echo " (with the covering index)"), VACUUM ANALYZE" \
  "$vacuum_s s; table $pg_table_mb MB, indexes $pg_index_mb MB; $pg_settings"
echo
cat results.md
exit "$rc"
