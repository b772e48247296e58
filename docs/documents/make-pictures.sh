#!/usr/bin/env bash
# Pictures of the first page of each document Filière issues, from the demo: the
# Métropole de Lyon's receipt, its erasure certificate (once tom has erased the last
# drive with the nwipe log of fixtures/), its outcome report, the recycler's slip of
# Lyon's handed-over WEEE batch, and the training attestation of one of sophie's
# beneficiaries. Run from the repository after `cargo build --workspace`; needs curl,
# python3 and poppler-utils (pdftoppm).
set -euo pipefail
cd "$(dirname "$0")/../.."
. tests/support/demo-server.sh
out=docs/documents
login() {
    curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"username\": \"$1\", \"password\": \"filiere-demo\"}" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
json() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
claire=$(login claire)
tom=$(login tom)
sophie=$(login sophie)
collection=$(curl -sf "$base/api/v1/collections" -H "authorization: Bearer $claire" |
    json 'next(c["id"] for c in d if c["reference"] == "METRO-2026-11")')
# tom erases the last drive at the bench, with nwipe's log as the report.
last=$(curl -sf "$base/api/v1/collections/$collection/documents" -H "authorization: Bearer $claire" |
    json 'd["pending"][0]["item"]')
version=$(curl -sf "$base/api/v1/items/$last" -H "authorization: Bearer $tom" | json 'd["version"]')
python3 - "$base" "$tom" "$last" "$version" <<'PY'
import json, sys, urllib.request
base, token, item, version = sys.argv[1:]
report = open("fixtures/nwipe/nwipe-two-drives.log").read()
body = {"idempotency_key": "pictures-erase", "expected_version": int(version), "command": {
    "type": "erase_drive", "serial": "S3Z9NB0K123456", "level": "clear", "technique": "overwrite",
    "tool": "nwipe", "tool_version": "0.37", "method": "PRNG Stream", "passes": 1, "verified": True,
    "started_at": "2026-11-20T09:00:05Z", "ended_at": "2026-11-20T10:42:32Z", "result": "erased",
    "report": report}}
req = urllib.request.Request(f"{base}/api/v1/items/{item}/events", data=json.dumps(body).encode(),
    headers={"authorization": "Bearer " + token, "content-type": "application/json"})
urllib.request.urlopen(req)
PY
issue() { # token, path, kind, picture
    id=$(curl -sf "$base$2" -H "authorization: Bearer $1" -H 'content-type: application/json' \
        -d "{\"kind\": \"$3\"}" | json 'd["id"]')
    curl -sf "$base/api/v1/documents/$id/pdf" -H "authorization: Bearer $1" -o "$work/$4.pdf"
    pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$work/$4.pdf" "$out/$4"
    echo "$4: $id"
}
issue "$claire" "/api/v1/collections/$collection/documents" collection_receipt receipt
issue "$claire" "/api/v1/collections/$collection/documents" erasure_certificate erasure-certificate
issue "$claire" "/api/v1/collections/$collection/documents" outcome_report outcome-report
batch=$(curl -sf "$base/api/v1/weee-batches" -H "authorization: Bearer $tom" |
    json 'next(b["id"] for b in d if b["status"] == "handed_over")')
issue "$tom" "/api/v1/weee-batches/$batch/documents" weee_slip weee-slip
booking=$(python3 - "$work/demo.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("""SELECT b.id FROM training_bookings b JOIN organisations o ON o.id = b.organisation_id
    WHERE b.attendance = 'attended' AND o.name = 'CCAS de Villeurbanne' ORDER BY b.id LIMIT 1""").fetchone()[0])
PY
)
issue "$sophie" "/api/v1/bookings/$booking/documents" training_attestation training-attestation
