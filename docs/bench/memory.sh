#!/usr/bin/env bash
# The server's resident memory under load, on SQLite: seeds ITEMS received laptops with
# a drive each (filiere-load --serve), copies that database with `filiere backup`, then,
# for each page-cache budget, serves a fresh copy with the release `filiere serve`
# (FILIERE_SQLITE_CACHE_MB) and drives it with wrk, one thread and 64 connections:
# lookups (every code in turn) for SECONDS, then transitions for 10 s (each item
# triaged once, in turn; past the last item they are refused and counted apart). The resident
# memory (VmRSS) is read from /proc at the start, after each run and at its peak (VmHWM).
#
#   docs/bench/memory.sh [ITEMS] [SECONDS] [CACHE_MB…]     (100000 30 64 288)
#
# 288 MiB shared by the 8 read connections and the writer is 32 MiB each: what every
# connection had before the budget. Needs `cargo build --release --workspace` and wrk.
set -euo pipefail
cd "$(dirname "$0")/../.."
items="${1:-100000}"
seconds="${2:-30}"
shift $(($# < 2 ? $# : 2))
budgets=("$@")
[ ${#budgets[@]} -gt 0 ] || budgets=(64 288)
bin=target/release
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
mib() { awk -v k="$2" '$1 == k":" { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# Seeding, then a copy of the seeded database.
"$bin/filiere-load" --items "$items" --serve "$work/codes.txt" >"$work/seed.out" 2>"$work/seed.err" &
seeder=$!
pids+=("$seeder")
until grep -q '^BASE=' "$work/seed.out"; do
    kill -0 "$seeder" 2>/dev/null || { cat "$work/seed.err"; exit 1; }
    sleep 1
done
grep 'seeded' "$work/seed.err" >&2
line="$(grep '^BASE=' "$work/seed.out")"
for field in $line; do export "${field?}"; done
"$bin/filiere" --database-url "$DATABASE_URL" backup "$work/seeded.sqlite" >/dev/null
kill -INT "$seeder"
wait "$seeder" 2>/dev/null || true

echo
echo "| items | cache budget (MiB) | at start (MiB) | after lookups (MiB) | after transitions (MiB) | peak (MiB) | lookups/s | transitions/s |"
echo "|---|---|---|---|---|---|---|---|"
for budget in "${budgets[@]}"; do
    rm -f "$work"/run.sqlite*
    cp "$work/seeded.sqlite" "$work/run.sqlite"
    port="$(free_port)"
    BASE="http://127.0.0.1:$port"
    FILIERE_SQLITE_CACHE_MB="$budget" FILIERE_METRICS_BIND="127.0.0.1:$(free_port)" \
        "$bin/filiere" --database-url "sqlite://$work/run.sqlite" serve --bind "127.0.0.1:$port" \
        >"$work/server.log" 2>&1 &
    server=$!
    pids+=("$server")
    for _ in $(seq 1 300); do
        curl -sf "$BASE/health" >/dev/null 2>&1 && break
        sleep 0.2
    done
    start="$(mib "$server" VmRSS)"
    lookups="$(wrk -t1 -c64 -d"${seconds}s" -s docs/bench/lookup.lua "$BASE" | awk '/Requests\/sec/ { printf "%.0f", $2 }')"
    after_lookups="$(mib "$server" VmRSS)"
    wrk -t1 -c64 -d10s -s docs/bench/transition.lua "$BASE" >"$work/transitions.out"
    # Past the last item, transitions are refused: those are counted apart.
    transitions="$(awk '/Requests\/sec/ { r = $2 } /non-200/ { n = $3 } END { printf "%.0f (%d refused)", r, n }' "$work/transitions.out")"
    after_transitions="$(mib "$server" VmRSS)"
    peak="$(mib "$server" VmHWM)"
    echo "| $items | $budget | $start | $after_lookups | $after_transitions | $peak | $lookups | $transitions |"
    kill "$server"
    wait "$server" 2>/dev/null || true
done
