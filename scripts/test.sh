#!/usr/bin/env bash
# Builds nhitrace and runs every test. Installs what it needs first (scripts/setup.sh).
#   scripts/test.sh            release build (-Werror), all tests
#   scripts/test.sh --asan     debug build (clang) with AddressSanitizer + UndefinedBehaviorSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."

preset=release
if [ "${1:-}" = "--asan" ]; then preset=debug; fi

bash scripts/setup.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
# ASan needs to see the whole leak report; UBSan findings abort (see cmake/Sanitizers.cmake).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# One more job than cores: many tests wait on child processes or sockets part of the time.
ctest --preset "$preset" -j "$(( $(nproc) + 1 ))"
