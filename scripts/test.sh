#!/usr/bin/env bash
# The whole test suite, from a fresh clone: system packages, test-only dependencies
# (scripts/test-deps.d/*.sh, Python servers in .venv), a debug build, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# git-lfs only for the tests: import-lfs converts a real git-lfs repository.
scripts/install-deps.sh git-lfs
export ANVCS_VENV="$root/.venv"
[ -x "$ANVCS_VENV/bin/python" ] || python3 -m venv "$ANVCS_VENV"
for setup in scripts/test-deps.d/*.sh; do
  [ -e "$setup" ] || continue
  echo "test: $setup" >&2
  "$setup"
done
swift build --build-tests
# Bounded twice: each command a test runs is killed with its process group after 300 s
# (ANVCS_TEST_COMMAND_TIMEOUT; the test fails naming it), and the whole run is stopped after
# 45 minutes, so a hang ends in a failure that says so
# instead of running into CI's own limit without a word.
status=0
timeout --kill-after=60 2700 swift test --skip-build "$@" || status=$?
[ "$status" -ne 124 ] || echo "test: the suite ran past 45 minutes and was stopped" >&2
exit "$status"
