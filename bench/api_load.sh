#!/usr/bin/env bash
# Load benchmark of `nhitrace serve` with wrk (not a test). Starts the release binary on
# 127.0.0.1 with a scratch store, then runs, each for the given seconds:
#   1. ingest: POST /v1/ingest, batches of BATCH (1000) new events, INGEST_CONNS (4) connections;
#      then (1b, not timed as load) CASES (50) cases are opened over the API, each linked to one
#      of the identities and decided (revoke) by an approver, so that there are cases to read;
#   2. reads: an analyst's reads at READ_CONNS (64) connections, in turn: a trace
#      (GET /v1/trace?identity=...), a case (GET /v1/cases/{id}), its explanation
#      (GET /v1/cases/{id}/explain) and the case list (GET /v1/cases?limit=50); CASES=0 reads
#      traces only. Then (2b) point reads GET /v1/events/{seq} likewise (the HTTP and
#      authentication cost without a trace's work);
#   3. mixed: ingest and the reads of 2 at once for MIXED_SECONDS (60).
# Prints wrk's summaries (with latency percentiles), events accepted per second, non-200
# counts, the server's RSS after each phase (and every RSS_EVERY seconds), and the load average.
# SERVE_ARGS adds options to `nhitrace serve` (e.g. "--max-readers 96").
#
#   bench/api_load.sh [INGEST_SECONDS=20] [READ_SECONDS=20] [MIXED_SECONDS=60]
#
# Needs build/release/nhitrace (cmake --build --preset release --target nhitrace_cli_main) and
# wrk. Scratch files go to a temporary directory that is removed at the end.
set -euo pipefail

ingest_s=${1:-20}
read_s=${2:-20}
mixed_s=${3:-60}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${NHITRACE_BINARY:-$root/build/release/nhitrace}
export BATCH=${BATCH:-1000}
ingest_conns=${INGEST_CONNS:-4}
read_conns=${READ_CONNS:-64}
cases=${CASES:-50}
threads=${SERVE_THREADS:-96}

work=$(mktemp -d "${TMPDIR:-/tmp}/nhitrace-api-load.XXXXXX")
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

store=$work/bench.db
"$bin" --store "$store" init >/dev/null
ingest_token=$("$bin" --store "$store" token create --name bench-ingest --role ingest 2>/dev/null)
read_token=$("$bin" --store "$store" token create --name bench-reader --role investigator 2>/dev/null)
approver_token=$("$bin" --store "$store" token create --name bench-approver --role approver 2>/dev/null)

"$bin" --store "$store" serve --listen 127.0.0.1:0 --quiet --rate-limit 0 --threads "$threads" \
  ${SERVE_ARGS:-} 2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 100); do
  port=$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$work/serve.log" | grep -oE '[0-9]+$' || true)
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n ${port:-} ]] || { echo "serve did not start:"; cat "$work/serve.log"; exit 1; }
url=http://127.0.0.1:$port
# VmRSS with its parts: anonymous (heap, SQLite page caches), file-backed (the store's pages
# mapped by the read connections, counted once per mapping that touched them) and shared memory
# (the WAL index); and the server's thread count.
rss() {
  awk '/^VmRSS/ {r=$2} /^RssAnon/ {a=$2} /^RssFile/ {f=$2} /^RssShmem/ {s=$2} /^Threads/ {t=$2}
       END {printf "%d kB (anon %d, file %d, shmem %d kB; %d threads)\n", r, a, f, s, t}' \
    "/proc/$server_pid/status"
}
# Every RSS_EVERY (5) seconds, the same figures into rss.tsv, printed at the end: the trajectory.
rss_every=${RSS_EVERY:-5}
sampler_pid=
start_s=$(date +%s)
(
  while kill -0 "$server_pid" 2>/dev/null; do
    awk -v t=$(($(date +%s) - start_s)) '/^VmRSS/ {r=$2} /^RssAnon/ {a=$2} /^RssFile/ {f=$2}
      /^RssShmem/ {s=$2} END {printf "%d\t%d\t%d\t%d\t%d\n", t, r, a, f, s}' \
      "/proc/$server_pid/status" 2>/dev/null || break
    sleep "$rss_every"
  done
) >"$work/rss.tsv" &
sampler_pid=$!

echo "== machine: $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== server pid $server_pid on $url, RSS $(rss)"

echo "== 1. ingest: $ingest_s s, $ingest_conns connections, $BATCH events per request"
NHITRACE_TOKEN=$ingest_token RUN=a wrk -t2 -c"$ingest_conns" -d"${ingest_s}s" --timeout 60s --latency \
  -s "$root/bench/api_ingest.lua" "$url"
echo "   RSS $(rss); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== 1b. cases: opening $cases cases, each linked to an identity and decided (revoke)"
case_first=0 case_last=0
api_post() {  # token path body -> response body; fails on a status other than 2xx
  curl -sS --fail-with-body -X POST -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' --data "$3" "$url$2"
}
for ((i = 0; i < cases; i++)); do
  opened=$(api_post "$read_token" /v1/cases "{\"kind\":\"alert\",\"severity\":\"high\",
    \"title\":\"Bench case $i\",\"requester\":\"dev@example.com\",
    \"identities\":[\"k8s:sa:bench/app-$((i * 7 % 2000))\"],\"reason\":\"load benchmark\"}") ||
    { echo "opening a case failed: $opened"; exit 1; }
  id=$(grep -oE '"case":[0-9]+' <<<"$opened" | sed -n 1p | grep -oE '[0-9]+')
  decided=$(api_post "$approver_token" "/v1/cases/$id/decisions" \
    '{"outcome":"revoke","rationale":"unused key; revoke it"}') ||
    { echo "deciding case $id failed: $decided"; exit 1; }
  ((case_first == 0)) && case_first=$id
  case_last=$id
done
echo "   cases $case_first-$case_last; RSS $(rss)"
export CASE_FIRST=$case_first CASE_LAST=$case_last

echo "== 2. reads: $read_s s, $read_conns connections: traces$( ((cases > 0)) && echo ", cases, explanations, case list")"
NHITRACE_TOKEN=$read_token wrk -t2 -c"$read_conns" -d"${read_s}s" --timeout 10s --latency \
  -s "$root/bench/api_read.lua" "$url"
echo "   RSS $(rss); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== 2b. point reads: $read_s s, $read_conns connections, GET /v1/events/{seq}"
NHITRACE_TOKEN=$read_token wrk -t2 -c"$read_conns" -d"${read_s}s" --timeout 10s --latency \
  -s "$root/bench/api_event.lua" "$url"
echo "   RSS $(rss); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== 3. mixed: $mixed_s s, ingest ($ingest_conns connections) and the reads of 2 ($read_conns) at once"
NHITRACE_TOKEN=$ingest_token RUN=b wrk -t1 -c"$ingest_conns" -d"${mixed_s}s" --timeout 60s --latency \
  -s "$root/bench/api_ingest.lua" "$url" >"$work/mixed-ingest.txt" &
ingest_wrk=$!
NHITRACE_TOKEN=$read_token wrk -t1 -c"$read_conns" -d"${mixed_s}s" --timeout 10s --latency \
  -s "$root/bench/api_read.lua" "$url" >"$work/mixed-read.txt"
wait "$ingest_wrk"
echo "-- mixed, ingest side:"; cat "$work/mixed-ingest.txt"
echo "-- mixed, read side:"; cat "$work/mixed-read.txt"
echo "   RSS $(rss); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== RSS every ${rss_every} s (seconds since start, VmRSS, anon, file, shmem; kB):"
cat "$work/rss.tsv"
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=
wait "$sampler_pid" 2>/dev/null || true
echo "== after SIGTERM: $("$bin" --store "$store" verify | tail -1)"
