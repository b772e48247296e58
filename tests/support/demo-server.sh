# Sourced by the scripts that test the real server from outside: starts `filiere demo`
# on a fresh demo database in a temporary folder (never the one a person is using), on
# a free port, and stops it on exit. Sets $work (the temporary folder) and $base (the
# server's URL). Needs `cargo build --workspace` done.
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
target/debug/filiere demo --file "$work/demo.sqlite" --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 150); do
    curl -sf "$base/health" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -sf "$base/health" >/dev/null || { cat "$work/server.log"; echo "the server did not start" >&2; exit 1; }

# A bearer token for a demo login.
token() {
    curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"filiere-demo\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}
