#!/usr/bin/env bash
# The main job on the embedded default (SQLite): build nhitrace, create a fresh store, ingest the
# bundled example of a real-looking access chain, show it, prove one event and verify the ledger.
# Usage: scripts/demo.sh [store directory, default out/demo]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release --target nhitrace_cli_main

dir=${1:-out/demo}
rm -rf "$dir"
mkdir -p "$dir"
nhitrace() { build/release/nhitrace --store "$dir/nhitrace.db" "$@"; }

echo
echo "== nhitrace init"
nhitrace init --origin demo.nhitrace.example/ledger
echo
echo "== nhitrace ingest examples/access-chain.jsonl"
nhitrace ingest examples/access-chain.jsonl
echo
echo "== nhitrace trace --request SEC-4711: who asked, who approved, what was issued, what it did"
nhitrace trace --request SEC-4711
echo
echo "== nhitrace identities"
nhitrace identities
echo
echo "== inclusion proof of event 5 (the AI agent's action)"
nhitrace prove inclusion 5
echo
echo "== nhitrace verify"
nhitrace verify
echo
echo "== the signed checkpoint (C2SP tlog-checkpoint)"
nhitrace checkpoint
