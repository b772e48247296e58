#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser that takes bytes from outside
# (tests/fuzz/src/lib.rs), with libFuzzer through cargo-fuzz on the stable toolchain
# (sanitizers off: the code is safe Rust; libFuzzer's coverage instrumentation only).
#
#   tests/fuzz/run.sh [RUNS] [TARGET...]    (default: 10,000,000 runs of every target)
#   FUZZ_SECONDS=300 tests/fuzz/run.sh …    (also stop each target after that long)
#
# Each target starts from its committed corpus (tests/fuzz/corpus/TARGET) and adds to
# it what reaches new code; `cmin` then keeps the smallest set with the same coverage.
# A crash stops the run and leaves its input in tests/fuzz/artifacts/TARGET/: fix the
# cause, copy the input into the corpus (it becomes a test), run again. Prints one line
# per target: runs, runs per second, corpus size, peak memory.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-10000000}"
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scan hid nwipe blancco asset_list journal api_body form)
dir=tests/fuzz/libfuzzer

command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz@0.13.2
cargo fuzz build --fuzz-dir "$dir" --sanitizer none

summary=$(mktemp)
printf '| target | runs | runs/s | seconds | corpus | peak RSS MB | crashes |\n|---|---|---|---|---|---|---|\n' \
    >"$summary"
for t in "${targets[@]}"; do
    corpus=tests/fuzz/corpus/$t
    mkdir -p "$corpus" "tests/fuzz/artifacts/$t"
    log="target/fuzz-$t.log"
    echo "== $t ($runs runs)"
    status=0
    start=$(date +%s)
    limit=()
    [ -z "${FUZZ_SECONDS:-}" ] || limit=(-max_total_time="$FUZZ_SECONDS")
    cargo fuzz run --fuzz-dir "$dir" --sanitizer none "$t" "$corpus" -- \
        -runs="$runs" "${limit[@]}" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="tests/fuzz/artifacts/$t/" >"$log" 2>&1 || status=$?
    seconds=$(($(date +%s) - start))
    stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -n1; }
    # libFuzzer leaves the input of a crash, a timeout or an out-of-memory here.
    crashes=$(find "tests/fuzz/artifacts/$t" -type f | wc -l)
    # Keep the smallest corpus that covers as much.
    [ "$status" -ne 0 ] || cargo fuzz cmin --fuzz-dir "$dir" --sanitizer none "$t" "$corpus" \
        >>"$log" 2>&1
    files=$(find "$corpus" -type f | wc -l)
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$(stat number_of_executed_units)" \
        "$(stat average_exec_per_sec)" "$seconds" "$files" "$(stat peak_rss_mb)" "$crashes" \
        | tee -a "$summary"
    if [ "$status" -ne 0 ]; then
        echo "$t stopped (exit $status, $crashes crash inputs): see $log and tests/fuzz/artifacts/$t/" >&2
        exit 1
    fi
done
cat "$summary"
