#!/usr/bin/env bash
# A client generated from the OpenAPI document by openapi-python-client walks a device
# from a blank label to `ready` against the real server (a fresh demo database).
#
#   tests/client/run.sh
#
# Needs `cargo build --workspace` done and openapi-python-client on the PATH (or in
# $OPENAPI_PYTHON_CLIENT, or in the virtual environment .venv-api-tools that .ci/run
# makes), with its Python ($PYTHON, or that environment's).
set -euo pipefail
cd "$(dirname "$0")/../.."
generator="${OPENAPI_PYTHON_CLIENT:-}"
python="${PYTHON:-}"
if [ -z "$generator" ]; then
    if [ -x .venv-api-tools/bin/openapi-python-client ]; then generator=.venv-api-tools/bin/openapi-python-client
    else generator=openapi-python-client; fi
fi
if [ -z "$python" ]; then python="$(dirname "$(command -v "$generator")")/python"; fi
. tests/support/demo-server.sh

curl -sf "$base/api/openapi.json" -o "$work/openapi.json"
"$generator" generate --path "$work/openapi.json" --output-path "$work/filiere_client" \
    --meta none --config tests/client/generator.yaml
PYTHONPATH="$work" "$python" tests/client/walk.py "$base"
