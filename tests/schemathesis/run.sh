#!/usr/bin/env bash
# Schemathesis against the real server: a fresh demo database of its own (the demo
# data set in a temporary file), authenticated in turn as a technician, a
# coordinator and a social worker, with all its checks. Exits non-zero on any failure.
#
#   tests/schemathesis/run.sh [MAX_EXAMPLES] [USER…]
#
# MAX_EXAMPLES defaults to 15 (CI's short run); the users to tom, claire and sophie, one
# after the other. The long run starts one script per user at once (each with a server
# and a database of its own), which keeps both cores busy: see docs/api-testing.md.
#
# Needs `cargo build --workspace` done and schemathesis on the PATH (or in
# $SCHEMATHESIS, or in the virtual environment .venv-api-tools that .ci/run makes).
set -euo pipefail
cd "$(dirname "$0")/../.."
examples="${1:-15}"
shift || true
users=("$@")
[ ${#users[@]} -gt 0 ] || users=(tom claire sophie)
st="${SCHEMATHESIS:-}"
if [ -z "$st" ]; then
    if [ -x .venv-api-tools/bin/schemathesis ]; then st=.venv-api-tools/bin/schemathesis
    else st=schemathesis; fi
fi
. tests/support/demo-server.sh

# Every token first: the runs log in with made-up names, and after 20 failures from
# this address the login waits a minute.
declare -A tokens
for user in "${users[@]}"; do tokens[$user]="$(token "$user")"; done

# Several seeds (SEEDS="1 2 3", default the one fixed seed) make a long run of shorter
# ones: with many examples per operation, generating new ones slows down far more than
# the count grows. After the first seed, only the random phases run again (the
# examples and coverage phases would repeat the same requests).
read -r -a seeds <<<"${SEEDS:-20261126}"
status=0
for user in "${users[@]}"; do
    phases=examples,coverage,fuzzing,stateful
    for seed in "${seeds[@]}"; do
        printf '\n== schemathesis as %s (%s examples per operation, seed %s)\n' "$user" "$examples" "$seed"
        if ! "$st" --config-file tests/schemathesis/schemathesis.toml run "$base/api/openapi.json" \
            --header "Authorization: Bearer ${tokens[$user]}" \
            --checks all \
            --phases "$phases" \
            --max-examples "$examples" \
            --seed "$seed" \
            --workers 1 \
            --request-timeout 10 \
            --suppress-health-check all \
            --exclude-path /api/v1/auth/logout \
            --no-color; then
            status=1
        fi
        phases=fuzzing,stateful
    done
done
exit $status
