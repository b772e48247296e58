# Sourced by the scripts that test the real server from outside: starts `filiere demo`
# on a fresh demo database in a temporary folder (never the one a person is using), on
# a free port, and stops it on exit. Sets $work (the temporary folder) and $base (the
# server's URL). Needs `cargo build --workspace` done.
#
# The demo's printers are played by stand-ins: a sink on the Zebras' ports (9100,
# 9101) that takes and drops ZPL, and tests/support/stand-in-lp for CUPS. Each script
# keeps a sink of its own on the shared ports (SO_REUSEPORT), so that scripts run side
# by side (the long schemathesis run) still have a printer when the first one ends.
work="$(mktemp -d)"
python3 - >"$work/printers.log" 2>&1 <<'PY' &
import socket, threading
def sink(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError as e:
        print(f"port {port}: {e}")
        return
    s.listen(16)
    while True:
        c, _ = s.accept()
        while c.recv(65536):
            pass
        c.close()
threads = [threading.Thread(target=sink, args=(p,), daemon=True) for p in (9100, 9101)]
for t in threads: t.start()
for t in threads: t.join()
PY
printers=$!
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
FILIERE_LP_COMMAND="$PWD/tests/support/stand-in-lp" target/debug/filiere demo --file "$work/demo.sqlite" --bind "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server $printers 2>/dev/null || true; wait $server $printers 2>/dev/null || true; rm -rf "$work"' EXIT
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
