#!/usr/bin/env bash
# CRDT benchmark: replays an editing trace (default: automerge-paper) through ANVCS's CRDT with
# `git anvcs debug crdt-replay`, then through Loro and pycrdt (Yrs) from PyPI, and prints figures
# side by side. Usage: Benchmarks/crdt/run.sh [TRACE] (ANVCS_BENCH_SKIP_OTHERS=1 skips Python).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
trace="${1:-$repo/../shared/data/editing-traces/automerge-paper.json.gz}"
[ -f "$trace" ] || trace=/work/shared/data/editing-traces/automerge-paper.json.gz
[ -f "$trace" ] || { echo "run.sh: trace not found: $trace" >&2; exit 1; }

echo "== building release" >&2
bin="$("$repo/scripts/release-build.sh" git-anvcs)/git-anvcs"

echo "== ANVCS (Swift), $(basename "$trace"); goals: replay <= 20 ms, merge <= 3 ms, memory <= 1.5 MB, history <= 200 KB, op <= 100 µs"
"$bin" debug crdt-replay --trace "$trace"

if [ "${ANVCS_BENCH_SKIP_OTHERS:-0}" != 1 ]; then
  venv="${ANVCS_VENV:-$repo/.venv}"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q loro pycrdt >&2
  echo "== Loro and pycrdt through their Python bindings (same trace, one commit per patch)"
  "$venv/bin/python" "$repo/Benchmarks/crdt/others.py" "$trace"
fi
