#!/bin/sh
# Test prerequisite for AnvcsRemoteTests: moto's S3-compatible server (with boto3 for its IAM
# bootstrap) in the project's venv. Idempotent.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
venv=${ANVCS_VENV:-$repo/.venv}
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import moto.server, flask, boto3' 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5' boto3
fi
"$venv/bin/python" -c 'import moto; print("moto", moto.__version__, "ready in", "'"$venv"'")'
