#!/usr/bin/env bash
# Whole-process ingest benchmark, nhitrace against the sqlite3 shell, in one run:
#   (a) nhitrace init + nhitrace ingest FILE --json      (durable: fsync per 16,384-line batch,
#                                                         a signed checkpoint per batch)
#   (b) sqlite3 .import of the same events' indexed columns into an equally indexed table
#   (c) the same with the whole line as an extra column
#   (d) nhitrace max RSS at several input sizes (bounded memory: target < 256 MB)
# each timed with /usr/bin/time -v (wall, user, sys, max RSS). Prints a markdown table.
#
# Usage: bench/ingest_vs_sqlite.sh [N=1000000]
# Environment:
#   RSS_SIZES="1000000 3000000"  input sizes for (d); a size equal to N reuses run (a)
#   BUDGET=570                    seconds the whole script may take, build included: a (d) run
#                                 that would overrun is stopped, and what it did so far (events
#                                 committed, RSS) is reported as such
#   SEED=1                        workload seed
#   SKIP_BUILD=1                  use the binaries already in build/bench
#   KEEP=1                        keep the scratch directory (printed) instead of deleting it
#   TMPDIR                        where the scratch directory goes (default /tmp); it needs
#                                 about 4 KB per event of the largest size
# Needs: cmake, ninja, sqlite3, GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

N=${1:-1000000}
SEED=${SEED:-1}
RSS_SIZES=${RSS_SIZES:-"1000000 3000000"}
BUDGET=${BUDGET:-570}
start=$SECONDS
bin=$root/build/bench

for tool in sqlite3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "ingest_vs_sqlite: needs $tool" >&2; exit 1; }
done

if [ -z "${SKIP_BUILD:-}" ]; then
  echo "== building the bench preset (Release): nhitrace, nhitrace-gen" >&2
  cmake --preset bench >/dev/null
  cmake --build --preset bench --target nhitrace_cli_main nhitrace_gen >&2
fi

built=$SECONDS
scratch=$(mktemp -d "${TMPDIR:-/tmp}/nhitrace-bench.XXXXXX")
cleanup() {
  if [ -n "${KEEP:-}" ]; then
    echo "scratch kept: $scratch" >&2
  else
    rm -rf "$scratch"
  fi
}
trap cleanup EXIT
cd "$scratch"

# GNU time -v output -> "wall user sys maxrss_kb written_512_byte_blocks"
times_of() {
  awk -F': ' '
    /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
    /User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident set size/ { r = $2 }
    /File system outputs/ { o = $2 }
    END { printf "%s %s %s %s %s\n", w, u, s, r, o }' "$1"
}
# du of the store files in MB (the database and its WAL)
size_mb() { du -cb "$@" 2>/dev/null | awk 'END { printf "%.0f", $1 / 1e6 }'; }

rows=()
# add_row LABEL EVENTS INPUT_BYTES TIMEFILE STORE_MB
add_row() {
  read -r wall user sys rss out < <(times_of "$4")
  rows+=("$(awk -v l="$1" -v n="$2" -v b="$3" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" \
    -v o="$out" -v st="$5" 'BEGIN {
      printf "| %s | %d | %.0f | %.2f | %.2f | %.2f | %.1f | %.0f | %.1f | %s | %.1f |",
        l, n, b / 1e6, w, u, s, r / 1024, n / w, b / 1e6 / w, st, o * 512 / 1e9 }')")
}

echo "== machine" >&2
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
ram=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
dd if=/dev/zero of=dd.test bs=1M count=512 conv=fdatasync 2> dd.txt
disk=$(tail -1 dd.txt | awk -F', ' '{ print $NF }')
dd if=/dev/zero of=dd.sync bs=4k count=500 oflag=dsync 2> dd_sync.txt
sync_lat=$(tail -1 dd_sync.txt | awk -F', ' '{ split($2, t, " "); printf "%.2f ms", t[1] * 1000 / 500 }')
rm -f dd.test dd.sync

gen() {  # gen N OUT [extra args...]
  local n=$1 out=$2
  shift 2
  /usr/bin/time -f '%e' -o "gen_$n.time" "$bin/nhitrace-gen" --events "$n" --seed "$SEED" \
    --out "$out" "$@" 2> "gen_$n.json"
}

echo "== generating $N events" >&2
gen "$N" events.jsonl --csv cols.csv --csv-with-line lines.csv
in_bytes=$(stat -c %s events.jsonl)
echo "   $(cat "gen_$N.time") s: $(cut -c1-160 "gen_$N.json")..." >&2

# (a) nhitrace
nhitrace_run() {  # nhitrace_run LABEL INPUT N [TIMEOUT_SECONDS]
  local label=$1 input=$2 n=$3 limit=${4:-0} db="store_$3.db"
  rm -f "$db" "$db".*
  "$bin/nhitrace" --store "$db" init --origin bench.nhitrace.example/ingest >/dev/null
  sync
  echo "== ($label) nhitrace ingest $n events" >&2
  local rc=0 timeout_cmd=()
  [ "$limit" -gt 0 ] && timeout_cmd=(timeout "$limit")
  /usr/bin/time -v -o "time_$label.txt" "${timeout_cmd[@]}" "$bin/nhitrace" --store "$db" ingest \
    "$input" --json --progress lines > "ingest_$label.json" 2> "progress_$label.txt" || rc=$?
  if [ "$rc" -eq 124 ]; then
    # Stopped to stay within the time budget: report what was committed.
    local done_n
    done_n=$(tail -1 "progress_$label.txt" | sed 's/.*tree_size=\([0-9]*\).*/\1/')
    echo "   stopped after ${limit} s (time budget) at $done_n of $n events" >&2
    stopped="$done_n"
    add_row "nhitrace ingest ($label, stopped at $done_n)" "$done_n" \
      "$(awk -v n="$n" -v d="$done_n" -v b="$(stat -c %s "$input")" 'BEGIN { printf "%.0f", b * d / n }')" \
      "time_$label.txt" "$(size_mb "$db" "$db-wal")"
    rm -f "$db" "$db".*
    return
  fi
  stopped=""
  if [ "$rc" -ne 0 ]; then
    echo "nhitrace ingest exited $rc" >&2
    cat "ingest_$label.json" >&2
    exit 1
  fi
  local accepted
  accepted=$(sed 's/.*"accepted":\([0-9]*\).*/\1/' "ingest_$label.json")
  if [ "$accepted" != "$n" ]; then
    echo "nhitrace accepted $accepted of $n events" >&2
    exit 1
  fi
  echo "   $(cat "ingest_$label.json")" >&2
  add_row "nhitrace ingest ($label)" "$n" "$(stat -c %s "$input")" "time_$label.txt" \
    "$(size_mb "$db" "$db-wal")"
  rm -f "$db" "$db".*
}
nhitrace_run a events.jsonl "$N"

# (b) and (c): sqlite3 .import into a table with nhitrace's indexes and PRAGMAs.
sqlite_run() {  # sqlite_run LABEL CSV EXTRA_COLUMN_SQL ROW_TITLE
  local label=$1 csv=$2 extra=$3 db="sqlite_$1.db"
  rm -f "$db" "$db"-*
  cat > "import_$label.sql" <<SQL
PRAGMA page_size = 65536;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA cache_size = -32768;
PRAGMA temp_store = MEMORY;
CREATE TABLE events (
  seq             INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL,
  time_ns         INTEGER NOT NULL,
  source_system   TEXT NOT NULL,
  source_event_id TEXT NOT NULL,
  correlation_key TEXT,
  identity_key    TEXT,
  actor_id        TEXT$extra,
  UNIQUE (source_system, source_event_id)
);
CREATE INDEX events_by_correlation ON events(correlation_key) WHERE correlation_key <> '';
CREATE INDEX events_by_identity ON events(identity_key, time_ns) WHERE identity_key <> '';
CREATE INDEX events_by_time ON events(time_ns);
.import --csv $csv events
SELECT count(*) FROM events;
SQL
  sync
  echo "== ($label) sqlite3 .import $csv" >&2
  /usr/bin/time -v -o "time_$label.txt" sqlite3 "$db" < "import_$label.sql" > "count_$label.txt"
  local count
  count=$(tail -1 "count_$label.txt")
  if [ "$count" != "$N" ]; then
    echo "sqlite3 imported $count of $N rows" >&2
    exit 1
  fi
  add_row "$4" "$N" "$(stat -c %s "$csv")" "time_$label.txt" "$(size_mb "$db" "$db-wal")"
  rm -f "$db" "$db"-*
}
sqlite_run b cols.csv "" "sqlite3 .import, indexed columns (b)"
sqlite_run c lines.csv ",
  line            TEXT NOT NULL" "sqlite3 .import, columns + whole line (c)"
rm -f cols.csv lines.csv

# (d) RSS at other sizes.
rss_rows=()
rss_row() {  # rss_row EVENTS TIMEFILE
  read -r wall _ _ rss _ < <(times_of "$2")
  rss_rows+=("$(awk -v n="$1" -v r="$rss" -v w="$wall" \
    'BEGIN { printf "| %s | %.1f | %.0f |", n, r / 1024, n / w }')")
}
for n in $RSS_SIZES; do
  if [ "$n" = "$N" ]; then
    rss_row "$n" time_a.txt
    continue
  fi
  rm -f events.jsonl
  echo "== generating $n events" >&2
  gen "$n" "events_$n.jsonl"
  left=$((BUDGET - (SECONDS - start)))
  [ "$left" -lt 60 ] && left=60
  nhitrace_run "d-$n" "events_$n.jsonl" "$n" "$left"
  if [ -n "$stopped" ]; then
    rss_row "$stopped (of $n, stopped at the time budget)" "time_d-$n.txt"
  else
    rss_row "$n" "time_d-$n.txt"
  fi
  rm -f "events_$n.jsonl"
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$((SECONDS - start))
build_secs=$((built - start))

echo
echo "machine: $cpu, $(nproc) cores, $ram RAM; disk: $disk sequential write (dd conv=fdatasync," \
  "512 MiB), $sync_lat per 4 KiB O_DSYNC write"
echo "load average: $load_start at start, $load_end at end; ${elapsed} s in all (build ${build_secs} s); seed $SEED;" \
  "average line $(awk -v b="$in_bytes" -v n="$N" 'BEGIN { printf "%.0f", b / n }') bytes"
echo
echo "| run | events | input MB | wall s | user s | sys s | max RSS MB | events/s | input MB/s | store MB | written GB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "nhitrace max RSS by input size:"
echo
echo "| events | max RSS MB | events/s |"
echo "|---:|---:|---:|"
printf '%s\n' "${rss_rows[@]}"
