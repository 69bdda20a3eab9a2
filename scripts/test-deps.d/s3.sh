#!/bin/sh
# Test prerequisite for AnvcsStorageTests: moto's S3-compatible server in a virtualenv.
# Idempotent: creates the venv at $ANVCS_VENV (or <repo>/.venv) and installs moto[server] once.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=${ANVCS_VENV:-$repo/.venv}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import moto.server, flask' 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5'
fi
"$venv/bin/python" -c 'import moto; print("moto", moto.__version__, "ready in", "'"$venv"'")'
