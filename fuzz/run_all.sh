#!/usr/bin/env bash
# Builds the fuzz targets of a preset, replays every input in fuzz/regressions/<target>/, then
# runs every libFuzzer target for SECONDS (default 60) each, starting from a scratch copy of its
# seed corpus (fuzz/corpus/ is never written). Exits non-zero if a replay fails or a target finds
# a crash.
#
#   fuzz/run_all.sh [SECONDS] [TARGET...]
#
# The preset is $NHITRACE_FUZZ_PRESET: `fuzz` (the default; -O2, for long runs) or `debug` (-O0,
# the same build as the sanitizer tests, which CI uses so that it compiles the sources once).
# Scratch corpora, logs and crash inputs go to $NHITRACE_FUZZ_OUT (default
# build/<preset>/fuzz-run), one folder per target; fuzz/README.md says how a crash becomes a
# regression file.
set -euo pipefail

seconds=${1:-60}
shift || true
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
preset=${NHITRACE_FUZZ_PRESET:-fuzz}
out=${NHITRACE_FUZZ_OUT:-$root/build/$preset/fuzz-run}
all_targets=(
  canonical_json_fuzz
  native_event_fuzz
  leaf_fuzz
  note_fuzz
  line_reader_fuzz
  rfc3339_fuzz
  record_reader_fuzz
  cloudtrail_fuzz
  vault_fuzz
  k8s_audit_fuzz
  gcp_audit_fuzz
  github_audit_fuzz
  okta_fuzz
  entra_fuzz
  api_request_fuzz
  policy_fuzz
  case_policy_fuzz
  case_event_fuzz
  pack_fuzz
  html_escape_fuzz
)
targets=("${@:-${all_targets[@]}}")

# Per-target libFuzzer flags: input size limit and dictionary.
flags() {
  case $1 in
    canonical_json_fuzz | native_event_fuzz | leaf_fuzz | case_policy_fuzz | case_event_fuzz)
      echo "-max_len=4096 -dict=$root/fuzz/json.dict" ;;
    gcp_audit_fuzz | github_audit_fuzz | okta_fuzz | entra_fuzz)
      echo "-max_len=8192 -dict=$root/fuzz/importers.dict" ;;
    note_fuzz) echo "-max_len=2048 -dict=$root/fuzz/note.dict" ;;
    line_reader_fuzz) echo "-max_len=4096 -len_control=0" ;;  # slow target: full length at once
    rfc3339_fuzz) echo "-max_len=128 -dict=$root/fuzz/rfc3339.dict" ;;
    record_reader_fuzz) echo "-max_len=4096 -dict=$root/fuzz/json.dict" ;;
    cloudtrail_fuzz) echo "-max_len=8192 -dict=$root/fuzz/cloudtrail.dict" ;;
    vault_fuzz | k8s_audit_fuzz) echo "-max_len=8192 -dict=$root/fuzz/audit.dict" ;;
    api_request_fuzz) echo "-max_len=4096 -dict=$root/fuzz/json.dict" ;;
    policy_fuzz) echo "-max_len=8192 -dict=$root/fuzz/yaml.dict" ;;
    pack_fuzz) echo "-max_len=32768 -dict=$root/fuzz/pack.dict" ;;
    html_escape_fuzz) echo "-max_len=1024" ;;
    *) echo "unknown target $1" >&2; return 1 ;;
  esac
}

cd "$root"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" --target "${targets[@]}"
bin=$root/build/$preset/fuzz

failed=()

echo "== replaying fuzz/regressions"
for t in "${targets[@]}"; do
  inputs=()
  if [[ -d fuzz/regressions/$t ]]; then
    while IFS= read -r -d '' f; do inputs+=("$f"); done < <(
      find "fuzz/regressions/$t" -maxdepth 1 -type f ! -name '*.md' -print0 | sort -z)
  fi
  ((${#inputs[@]})) || continue
  mkdir -p "$out/$t"
  : >"$out/$t/replay.log"
  bad=0
  for f in "${inputs[@]}"; do  # one run per input: libFuzzer stops at the first crash
    if ! "$bin/$t" "$f" >>"$out/$t/replay.log" 2>&1; then
      echo "$t: REPLAY FAILED: $f"
      bad=1
    fi
  done
  if ((bad)); then
    grep -E 'FUZZ_CHECK|ERROR: |runtime error' "$out/$t/replay.log" | sed 's/^/    /' || true
    echo "    (log: $out/$t/replay.log)"
    failed+=("$t (replay)")
  else
    echo "$t: ${#inputs[@]} regression input(s) pass"
  fi
done

echo "== fuzzing each target for ${seconds}s"
for t in "${targets[@]}"; do
  dir=$out/$t
  rm -rf "$dir/corpus" "$dir/artifacts" "$dir/fuzz.log"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  if [[ -d fuzz/corpus/$t ]]; then
    cp -R "fuzz/corpus/$t/." "$dir/corpus/"
  else
    echo "$t: no seed corpus in fuzz/corpus/$t (starting empty)"
  fi
  # shellcheck disable=SC2046
  if "$bin/$t" $(flags "$t") -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$dir/corpus" \
      >"$dir/fuzz.log" 2>&1; then
    status=ok
  else
    status=CRASH
    failed+=("$t")
  fi
  last=$(grep -E '^#[0-9]+' "$dir/fuzz.log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/fuzz.log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/fuzz.log")
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' <<<"$last" || true)
  printf '%-20s %-5s execs=%s exec/s=%s %s\n' "$t" "$status" "${execs:-?}" "${rate:-?}" "$cov"
  if [[ $status != ok ]]; then
    grep -m3 -E 'FUZZ_CHECK|ERROR: |runtime error' "$dir/fuzz.log" | sed 's/^/    /' || true
    ls "$dir/artifacts" | sed "s|^|    input: $dir/artifacts/|"
  fi
done

if ((${#failed[@]})); then
  echo "FAILED: ${failed[*]}"
  echo "See fuzz/README.md: reproduce with build/$preset/fuzz/<target> <input>, then add the input to fuzz/regressions/<target>/."
  exit 1
fi
echo "all fuzz targets passed"
