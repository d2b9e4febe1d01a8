#!/usr/bin/env bash
# Evidence packs at scale (BENCHMARKS.md, "Evidence packs"): a store of one generated workload
# (ingested with the rules of examples/policy.yaml on, so that it also holds findings and cases),
# then `export` of a window pack holding every event and `verify-pack` of it, timed with GNU
# time (wall, user, sys, max RSS), and the pack's size. Then the same for the case with the most
# operations (a case pack, format version 2).
#
#   bench/pack_bench.sh [EVENTS=100000]
# Environment: NHITRACE (default build/release/nhitrace), GEN (default build/bench/nhitrace-gen,
# `cmake --build --preset bench --target nhitrace_gen`), SCRATCH (default a new temp dir, kept:
# about 7 KB per event for the store and the pack).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-100000}
B=${NHITRACE:-$root/build/release/nhitrace}
GEN=${GEN:-$root/build/bench/nhitrace-gen}
dir=${SCRATCH:-$(mktemp -d -t nhitrace-pack.XXXXXX)}
cd "$dir"
echo "scratch: $dir; $(git -C "$root" rev-parse --short HEAD); $(date -u +%FT%TZ)"
"$GEN" -n "$N" --seed 1 -o ev.jsonl 2>gen.json
rm -f s.db* window.pack case.pack
"$B" --store s.db init --origin bench/pack >/dev/null
"$B" --store s.db policy publish "$root/examples/policy.yaml" --by bench >/dev/null
"$B" --store s.db ingest ev.jsonl --quiet --json >ingest.json
key=$("$B" --store s.db key | head -1)
echo "store: $(du -k s.db | cut -f1) KB; $(cat ingest.json)"

# Every event: a window from the epoch to 2200 (the summary is a listing of all of them).
t() {  # t NAME CMD...: times CMD, prints its GNU time line and keeps its output in NAME.out
  local name=$1
  shift
  echo "load before $name: $(cut -d' ' -f1-3 /proc/loadavg)"
  /usr/bin/time -f "$name: %e s wall, %U s user, %S s sys, max RSS %M KB" "$@" >"$name.out" \
    2>"$name.time" || { cat "$name.out" "$name.time"; return 1; }
  tail -1 "$name.time"
}
t export-window "$B" --store s.db export --from 1970-01-01T00:00:00Z --to 2200-01-01T00:00:00Z \
  --out window.pack --json
cat export-window.out
echo "window.pack: $(stat -c %s window.pack) bytes"
t verify-window "$B" verify-pack window.pack --key "$key" --json
head -c 400 verify-window.out
echo

# The case with the most operations.
id=$("$B" --store s.db case list --limit 100000 --json |
  python3 -c 'import json,sys; c=max(json.load(sys.stdin), key=lambda c: (c["ops"], -c["id"])); print(c["id"])')
t export-case "$B" --store s.db export --case "$id" --out case.pack --json
cat export-case.out
echo "case.pack (case $id): $(stat -c %s case.pack) bytes"
t verify-case "$B" verify-pack case.pack --key "$key" --json
head -c 400 verify-case.out
echo
