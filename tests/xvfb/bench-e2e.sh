#!/usr/bin/env bash
# End-to-end run of the real bench app window under Xvfb: xdotool types the scans (a
# keyboard-wedge scanner is a keyboard) and the keys, against the demo server. A demo
# device goes from reception to ready with the server stopped in the middle; the
# script checks the server's record at the end and leaves screenshots of each station.
#
#   tests/xvfb/bench-e2e.sh [OUT_DIR]      (default OUT_DIR: docs/screenshots)
#
# Needs: Xvfb, xdotool, imagemagick (import), curl, python3, and the debug binaries
# (cargo build --workspace).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/docs/screenshots}
BIN=$ROOT/target/debug
WORK=$(mktemp -d)
PORT=18123
BASE=http://127.0.0.1:$PORT
DISPLAY_NO=:${XVFB_DISPLAY:-97}
mkdir -p "$OUT"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
    echo "bench-e2e: FAILED: $*" >&2
    import -display "$DISPLAY_NO" -window root "$OUT/failure.png" 2>/dev/null || true
    exit 1
}

Xvfb "$DISPLAY_NO" -screen 0 1280x800x24 >"$WORK/xvfb.log" 2>&1 &
PIDS+=($!)
export DISPLAY=$DISPLAY_NO

start_server() {
    "$BIN/filiere" serve --bind "127.0.0.1:$PORT" \
        --database-url "sqlite://$WORK/demo.sqlite" >>"$WORK/server.log" 2>&1 &
    SERVER=$!
    PIDS+=("$SERVER")
    for _ in $(seq 100); do
        curl -sf "$BASE/health" >/dev/null && return 0
        sleep 0.1
    done
    fail "server did not start"
}
# The demo's bench printer (a Zebra at 127.0.0.1:9100): a stand-in that keeps the jobs.
python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9100))
s.listen()
with open(sys.argv[1], "ab") as out:
    while True:
        c, _ = s.accept()
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            out.write(chunk)
        out.flush()
        c.close()
' "$WORK/printed.zpl" >"$WORK/printer.log" 2>&1 &
PIDS+=($!)
(cd "$WORK" && "$BIN/filiere" demo --file "$WORK/demo.sqlite" --no-serve >"$WORK/demo.log" 2>&1) ||
    fail "demo data"
start_server

api() { # api METHOD PATH [BODY]
    curl -sf -X "$1" "$BASE$2" -H "authorization: Bearer $TOKEN" \
        -H 'content-type: application/json' ${3:+-d "$3"}
}
py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }
TOKEN=$(curl -sf -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"username":"tom","password":"filiere-demo"}' | py 'print(d["token"])')
CODE=$(api POST /api/v1/label-batches '{"site":1,"count":1}' | py 'print(d["codes"][0])')
first() { api GET "/api/v1/items?state=$1&site=1&limit=1" | py 'print(d["items"][0]["code"])'; }
HARVESTING=$(first harvesting)
REFURBISHING=$(first refurbishing)
PART=$(first tested_good)
TO_RECYCLE=$(first to_recycle)

"$BIN/filiere-bench" --dir "$WORK/bench" >"$WORK/bench.log" 2>&1 &
PIDS+=($!)
WIN=""
for _ in $(seq 100); do
    WIN=$(xdotool search --onlyvisible --name "poste" 2>/dev/null | tail -1 || true)
    [ -n "$WIN" ] && break
    sleep 0.1
done
[ -n "$WIN" ] || fail "no bench window"
sleep 1
xdotool windowfocus --sync "$WIN"

shot() { sleep "${2:-1.5}"; import -window root "$OUT/$1.png"; }
scan() { xdotool type --delay 3 "$1"; xdotool key Return; sleep 1.2; }
keys() { for k in "$@"; do xdotool key "$k"; sleep 0.3; done; }
state() { api GET "/api/v1/resolve?q=$1" | py 'print(d["item"]["state"])'; }
waiting_is_zero() {
    for _ in $(seq 150); do
        [ "$(python3 - "$WORK/bench/journal.jsonl" <<'EOF'
import json, sys
actions, done = set(), set()
for line in open(sys.argv[1]):
    r = json.loads(line)
    (actions if r["t"] == "action" else done).add(r["seq"])
print(len(actions - done))
EOF
)" = 0 ] && return 0
        sleep 0.2
    done
    fail "the journal did not drain"
}

# First run: the settings form.
xdotool mousemove 470 87 click 1; sleep 0.4; xdotool type --delay 20 "$BASE"
xdotool mousemove 470 142 click 1; sleep 0.4; xdotool type --delay 20 "flb_demo_lyon_1"
shot setup 0.5
xdotool key Return; sleep 1.5
shot sign-in 0.5

# Badge, then reception of a machine with a fresh label.
scan FB7MT00014
sleep 4 # the sign-in checks the bench token's argon2 hash (slow in a debug build)
scan "HTTPS://FILIERE.TEST/I/$CODE"
xdotool key F1; sleep 0.3 # laptop; the brand field has the focus
xdotool type --delay 20 "Dell"; xdotool key Tab
xdotool type --delay 20 "Latitude 5490"; xdotool key Tab
xdotool type --delay 20 "5CG7301XYZ"; xdotool key Tab
xdotool type --delay 20 "INV-2291"; xdotool key Tab
xdotool type --delay 20 "2,1"; xdotool key Tab
xdotool type --delay 20 "S3Z9NB0K123456"
shot reception-intake 0.5
xdotool mousemove 640 160 click 1; sleep 0.3
xdotool key Return
waiting_is_zero
[ "$(state "$CODE")" = received ] || fail "not received"
shot reception 0.3

# Triage: 1 = refurbish.
keys alt+2
scan "$CODE"
shot triage 0.3
keys 1
waiting_is_zero
[ "$(state "$CODE")" = refurbishing ] || fail "not refurbishing"

# The network goes down: erasure and QA go on, journaled.
kill "$SERVER"
wait "$SERVER" 2>/dev/null || true
keys alt+3
scan "$CODE"
shot erasure 0.3
keys e
keys alt+6
scan "$CODE"
keys F1 F6
shot qa 0.3
keys Return
shot offline 2

# Back online: everything arrives.
start_server
waiting_is_zero
[ "$(state "$CODE")" = ready ] || fail "not ready after the network came back"
HIST=$(api GET "/api/v1/resolve?q=$CODE" | py 'print(d["item"]["id"])')
EVENTS=$(api GET "/api/v1/items/$HIST/history" | py 'print(" ".join(e["payload"]["type"] for e in d["events"]))')
[ "$EVENTS" = "registered drives_declared triaged drive_erased qa_tested marked_ready" ] ||
    fail "history: $EVENTS"

# The other stations, as a technician sees them.
keys alt+4
scan "$HARVESTING"
shot teardown 0.5
keys alt+5
scan "$REFURBISHING"
scan "$PART"
shot repair 0.5
keys alt+7
scan "$TO_RECYCLE"
shot recycling 0.5
# A device sold at the counter: the buyer's reference and the guarantee's end.
keys alt+6
scan "$(first sold)"
shot sold 0.5
keys F12
keys alt+6
scan "$CODE"
shot qa-english 0.5
grep -q "$CODE" "$WORK/printed.zpl" 2>/dev/null || fail "no sale label printed for $CODE"
echo "bench-e2e: ok ($CODE: $EVENTS; sale label printed)"
