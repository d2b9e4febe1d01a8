#!/usr/bin/env bash
# Installs every Debian package nhitrace needs to build, test, benchmark and fuzz.
# Idempotent: when everything is present it changes nothing and never touches the network;
# otherwise it runs `apt-get update` once and installs only what is missing.
# Works as root on a fresh Debian 12 machine; as another user it uses sudo.
#
#   scripts/setup.sh           what CI needs: build, test, fuzz, the micro-benchmarks
#   scripts/setup.sh --bench   also the whole-process benchmarks' tools (bench/*.sh): PostgreSQL
#                              and libpq for bench/trace_vs_postgres.sh, GNU time, linux-perf
set -euo pipefail

bench=""
for arg in "$@"; do
  case "$arg" in
    --bench) bench=1 ;;
    *) echo "usage: scripts/setup.sh [--bench]" >&2; exit 2 ;;
  esac
done

packages=(
  # toolchain
  cmake ninja-build g++ clang pkg-config clang-format clang-tidy libclang-rt-14-dev
  # libraries
  libsqlite3-dev libssl-dev libsimdjson-dev libcli11-dev zlib1g-dev libyaml-cpp-dev
  libcpp-httplib-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev sqlite3 python3 python3-jsonschema wrk
  # independent verification of checkpoints and proofs (Go sumdb note + tlog)
  golang-go golang-golang-x-mod-dev
  # the HTML report rendered in a real browser (tests/report/html_chromium_test.cc)
  chromium
)
if [ -n "$bench" ]; then
  # bench/trace_vs_postgres.sh (server, psql, libpq for nhitrace_trace_bench), GNU time for
  # bench/*.sh, perf for bench/profile_ingest.sh. Not installed by default: CI does not run them.
  packages+=(postgresql libpq-dev time)
  # linux-perf where the distribution has it under that name.
  if apt-cache show linux-perf >/dev/null 2>&1; then packages+=(linux-perf); fi
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
