#!/usr/bin/env bash
# The whole test suite, from a fresh clone: system packages, test-only dependencies
# (scripts/test-deps.d/*.sh, Python servers in .venv), a debug build, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps.sh
export ANVCS_VENV="$root/.venv"
[ -x "$ANVCS_VENV/bin/python" ] || python3 -m venv "$ANVCS_VENV"
for setup in scripts/test-deps.d/*.sh; do
  [ -e "$setup" ] || continue
  echo "test: $setup" >&2
  "$setup"
done
swift build --build-tests
swift test --skip-build "$@"
