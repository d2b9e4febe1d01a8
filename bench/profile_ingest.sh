#!/usr/bin/env bash
# Where does `nhitrace ingest` spend its time? Samples one ingest run with `perf record` (flat
# profile: the Release build has no frame pointers, so call graphs would be noise) and prints
# the time per library and the top symbols.
#
# Usage: bench/profile_ingest.sh [N=300000]
# Environment: SEED=1, SKIP_BUILD=1 (use build/bench as is), KEEP=1 (keep the scratch dir with
# perf.data), TMPDIR. Needs `perf` (Debian package linux-perf) and permission to use it
# (root, or kernel.perf_event_paranoid <= 2 for user-space samples only).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
N=${1:-300000}
SEED=${SEED:-1}
bin=$root/build/bench
command -v perf >/dev/null || { echo "profile_ingest: needs perf (linux-perf)" >&2; exit 1; }

if [ -z "${SKIP_BUILD:-}" ]; then
  cmake --preset bench >/dev/null
  cmake --build --preset bench --target nhitrace_cli_main nhitrace_gen >&2
fi
scratch=$(mktemp -d "${TMPDIR:-/tmp}/nhitrace-profile.XXXXXX")
cleanup() { if [ -n "${KEEP:-}" ]; then echo "scratch kept: $scratch" >&2; else rm -rf "$scratch"; fi; }
trap cleanup EXIT
cd "$scratch"

"$bin/nhitrace-gen" --events "$N" --seed "$SEED" --out events.jsonl 2>/dev/null
"$bin/nhitrace" --store s.db init --origin bench.nhitrace.example/profile >/dev/null
sync
/usr/bin/time -f 'wall %e s, user %U s, sys %S s, max RSS %M KB, %O blocks written' \
  perf record -q -F 1999 -o perf.data -- "$bin/nhitrace" --store s.db ingest events.jsonl \
  --json --progress none
echo
echo "== time per thread (share of samples; the preparer thread is named nhi-prepare)"
perf report -i perf.data --no-children --sort comm --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' |
  head -6
echo
echo "== time per library (share of samples)"
perf report -i perf.data --no-children --sort dso --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' |
  head -12
echo
echo "== top symbols"
perf report -i perf.data --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^#' |
  grep -v '^$' | head -40
