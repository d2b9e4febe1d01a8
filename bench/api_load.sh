#!/usr/bin/env bash
# Load benchmark of `nhitrace serve` with wrk (not a test). Starts the release binary on
# 127.0.0.1 with a scratch store, then runs, each for the given seconds:
#   1. ingest: POST /v1/ingest, batches of BATCH (1000) new events, INGEST_CONNS (4) connections;
#   2. reads: GET /v1/trace?identity=... at READ_CONNS (64) connections, then (2b) point reads
#      GET /v1/events/{seq} likewise (the HTTP and authentication cost without a trace's work);
#   3. mixed: both at once for MIXED_SECONDS (60).
# Prints wrk's summaries (with latency percentiles), events accepted per second, non-200
# counts, the server's RSS before and after, and the load average.
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

"$bin" --store "$store" serve --listen 127.0.0.1:0 --quiet --rate-limit 0 --threads "$threads" \
  2>"$work/serve.log" &
server_pid=$!
for _ in $(seq 100); do
  port=$(grep -oE 'listening on http://127\.0\.0\.1:[0-9]+' "$work/serve.log" | grep -oE '[0-9]+$' || true)
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n ${port:-} ]] || { echo "serve did not start:"; cat "$work/serve.log"; exit 1; }
url=http://127.0.0.1:$port
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$server_pid/status"; }

echo "== machine: $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== server pid $server_pid on $url, RSS $(rss)"

echo "== 1. ingest: $ingest_s s, $ingest_conns connections, $BATCH events per request"
NHITRACE_TOKEN=$ingest_token RUN=a wrk -t2 -c"$ingest_conns" -d"${ingest_s}s" --timeout 60s --latency \
  -s "$root/bench/api_ingest.lua" "$url"
echo "   RSS $(rss); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== 2. reads: $read_s s, $read_conns connections, GET /v1/trace?identity=..."
NHITRACE_TOKEN=$read_token wrk -t2 -c"$read_conns" -d"${read_s}s" --timeout 10s --latency \
  -s "$root/bench/api_read.lua" "$url"
echo "   RSS $(rss); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== 2b. point reads: $read_s s, $read_conns connections, GET /v1/events/{seq}"
NHITRACE_TOKEN=$read_token wrk -t2 -c"$read_conns" -d"${read_s}s" --timeout 10s --latency \
  -s "$root/bench/api_event.lua" "$url"
echo "   RSS $(rss); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== 3. mixed: $mixed_s s, ingest ($ingest_conns connections) and reads ($read_conns) at once"
NHITRACE_TOKEN=$ingest_token RUN=b wrk -t1 -c"$ingest_conns" -d"${mixed_s}s" --timeout 60s --latency \
  -s "$root/bench/api_ingest.lua" "$url" >"$work/mixed-ingest.txt" &
ingest_wrk=$!
NHITRACE_TOKEN=$read_token wrk -t1 -c"$read_conns" -d"${mixed_s}s" --timeout 10s --latency \
  -s "$root/bench/api_read.lua" "$url" >"$work/mixed-read.txt"
wait "$ingest_wrk"
echo "-- mixed, ingest side:"; cat "$work/mixed-ingest.txt"
echo "-- mixed, read side:"; cat "$work/mixed-read.txt"
echo "   RSS $(rss); load average: $(cut -d' ' -f1-3 /proc/loadavg)"

kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=
echo "== after SIGTERM: $("$bin" --store "$store" verify | tail -1)"
