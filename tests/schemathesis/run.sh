#!/usr/bin/env bash
# Schemathesis against the real server: a fresh demo database of its own (the demo
# data set in a temporary file), authenticated in turn as a technician, a
# coordinator and a social worker, with all its checks. Exits non-zero on any failure.
#
#   tests/schemathesis/run.sh [MAX_EXAMPLES]    (default 15; CI's short run)
#
# Needs `cargo build --workspace` done and schemathesis on the PATH (or in
# $SCHEMATHESIS, or in the virtual environment .venv-schemathesis that .ci/run makes).
set -euo pipefail
cd "$(dirname "$0")/../.."
examples="${1:-15}"
st="${SCHEMATHESIS:-}"
if [ -z "$st" ]; then
    if [ -x .venv-schemathesis/bin/schemathesis ]; then st=.venv-schemathesis/bin/schemathesis
    else st=schemathesis; fi
fi
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
target/debug/filiere demo --file "$work/demo.sqlite" --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
    curl -sf "$base/health" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -sf "$base/health" >/dev/null || { cat "$work/server.log"; echo "the server did not start" >&2; exit 1; }

token() {
    curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"filiere-demo\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

status=0
for user in tom claire sophie; do
    printf '\n== schemathesis as %s (%s examples per operation)\n' "$user" "$examples"
    if ! "$st" --config-file tests/schemathesis/schemathesis.toml run "$base/api/openapi.json" \
        --header "Authorization: Bearer $(token "$user")" \
        --checks all \
        --max-examples "$examples" \
        --seed 20261126 \
        --workers 2 \
        --request-timeout 10 \
        --suppress-health-check all \
        --exclude-path /api/v1/auth/logout \
        --no-color; then
        status=1
    fi
done
exit $status
