#!/usr/bin/env bash
# The cost of reconciliation (BENCHMARKS.md, "Reconciliation"): ingest of one generated workload
# with the rules on (an incremental pass after each commit) and off (--no-reconcile), then a
# full pass over each store, all under examples/policy.yaml, timed with GNU time.
#
#   bench/reconcile_cost.sh [EVENTS=300000]
# Environment: NHITRACE (default build/release/nhitrace), GEN (default build/bench/nhitrace-gen,
# `cmake --build --preset bench --target nhitrace-gen`), SCRATCH (default a new temp dir, kept).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-300000}
B=${NHITRACE:-$root/build/release/nhitrace}
GEN=${GEN:-$root/build/bench/nhitrace-gen}
dir=${SCRATCH:-$(mktemp -d -t nhitrace-reconcile.XXXXXX)}
cd "$dir"
echo "scratch: $dir; $(git -C "$root" rev-parse --short HEAD); $(date -u +%FT%TZ)"
"$GEN" -n "$N" --seed 1 -o ev.jsonl 2>gen.json
for mode in rules norules; do
  rm -f "$mode".db*
  "$B" --store "$mode.db" init --origin "bench/$mode" >/dev/null
  "$B" --store "$mode.db" policy publish "$root/examples/policy.yaml" --by bench >/dev/null
  extra=()
  [[ $mode == norules ]] && extra=(--no-reconcile)
  echo "load before $mode ingest: $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "$mode ingest: %e s wall, %U s user, %S s sys, max RSS %M KB" \
    "$B" --store "$mode.db" ingest ev.jsonl --quiet --json "${extra[@]}" >"$mode.ingest.json" \
    2>"$mode.time" || true
  tail -1 "$mode.time"
done
for mode in norules rules; do
  echo "load before full pass ($mode store): $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "full pass ($mode store): %e s wall, %U s user, %S s sys, max RSS %M KB" \
    "$B" --store "$mode.db" reconcile --as-of 2026-06-01T00:00:00Z --json >"full-$mode.json" \
    2>"full-$mode.time" || true
  tail -1 "full-$mode.time"
  cat "full-$mode.json"
done
