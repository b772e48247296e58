CREATE TABLE regions (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE sites (
    id INTEGER PRIMARY KEY NOT NULL,
    region_id BIGINT NOT NULL REFERENCES regions (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    address TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX sites_region ON sites (region_id);

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    siret TEXT UNIQUE,
    public_body BOOLEAN NOT NULL,
    region_id BIGINT REFERENCES regions (id),
    address TEXT,
    weee_status TEXT,
    contact TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX organisations_kind ON organisations (kind);

CREATE TABLE users (
    id INTEGER PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT,
    badge_hash TEXT UNIQUE,
    site_id BIGINT REFERENCES sites (id),
    region_id BIGINT REFERENCES regions (id),
    organisation_id BIGINT REFERENCES organisations (id),
    language TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE benches (
    id INTEGER PRIMARY KEY NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    bench_id BIGINT REFERENCES benches (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE collections (
    id INTEGER PRIMARY KEY NOT NULL,
    donor_id BIGINT NOT NULL REFERENCES organisations (id),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    pickup_date DATE NOT NULL,
    pickup_address TEXT,
    declared_count INTEGER NOT NULL,
    declared_weight_g BIGINT,
    legal_status TEXT NOT NULL,
    waste_code TEXT,
    reference TEXT,
    notes TEXT,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX collections_site ON collections (site_id, id);
CREATE INDEX collections_donor ON collections (donor_id);

CREATE TABLE label_batches (
    id INTEGER PRIMARY KEY NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    bench_id BIGINT REFERENCES benches (id),
    count INTEGER NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX label_batches_site ON label_batches (site_id, id);

CREATE TABLE weee_batches (
    id INTEGER PRIMARY KEY NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    recycler_id BIGINT NOT NULL REFERENCES organisations (id),
    status TEXT NOT NULL,
    weight_g BIGINT,
    waste_form_ref TEXT,
    notes TEXT,
    opened_by BIGINT NOT NULL REFERENCES users (id),
    opened_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    handed_over_at TIMESTAMP
);
CREATE INDEX weee_batches_site ON weee_batches (site_id, status);

CREATE TABLE items (
    id INTEGER PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    version BIGINT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    parent_id BIGINT REFERENCES items (id),
    origin_id BIGINT REFERENCES items (id),
    collection_id BIGINT REFERENCES collections (id),
    brand TEXT,
    model TEXT,
    serial TEXT,
    serial_norm TEXT,
    asset_tag TEXT,
    asset_tag_norm TEXT,
    specs TEXT NOT NULL,
    weight_g BIGINT,
    weight_estimated BOOLEAN NOT NULL,
    functional_grade TEXT,
    cosmetic_grade TEXT,
    weee_batch_id BIGINT REFERENCES weee_batches (id),
    lifecycle TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX items_site_state ON items (site_id, state, id);
CREATE INDEX items_state ON items (state, id);
CREATE INDEX items_category ON items (category, id);
CREATE INDEX items_grade ON items (functional_grade, id);
CREATE INDEX items_collection ON items (collection_id, state);
CREATE INDEX items_parent ON items (parent_id);
CREATE INDEX items_origin ON items (origin_id);
CREATE INDEX items_serial ON items (serial_norm);
CREATE INDEX items_asset_tag ON items (asset_tag_norm);
CREATE INDEX items_weee_batch ON items (weee_batch_id);

CREATE TABLE label_codes (
    code TEXT PRIMARY KEY,
    batch_id BIGINT NOT NULL REFERENCES label_batches (id),
    item_id BIGINT REFERENCES items (id),
    claimed_at TIMESTAMP,
    print_count INTEGER NOT NULL
);
CREATE INDEX label_codes_batch ON label_codes (batch_id, item_id);
-- Partial: a claim (`item_id IS NULL`) must look the code up by its key, never scan
-- the unclaimed codes through this index.
CREATE INDEX label_codes_item ON label_codes (item_id) WHERE item_id IS NOT NULL;

CREATE TABLE item_events (
    id INTEGER PRIMARY KEY NOT NULL,
    item_id BIGINT NOT NULL REFERENCES items (id),
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    actor_id BIGINT REFERENCES users (id),
    bench_id BIGINT REFERENCES benches (id),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    key_owner TEXT,
    idempotency_key TEXT,
    request_hash TEXT,
    response TEXT
);
CREATE INDEX item_events_item ON item_events (item_id, id);
CREATE UNIQUE INDEX item_events_idempotency ON item_events (key_owner, idempotency_key);
CREATE INDEX item_events_type ON item_events (event_type, recorded_at);

CREATE TABLE drives (
    id INTEGER PRIMARY KEY NOT NULL,
    item_id BIGINT NOT NULL REFERENCES items (id),
    serial TEXT NOT NULL,
    serial_norm TEXT NOT NULL,
    make TEXT,
    model TEXT,
    size_gb INTEGER,
    bus TEXT,
    media TEXT,
    event_id BIGINT NOT NULL REFERENCES item_events (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX drives_serial ON drives (serial_norm);
CREATE INDEX drives_item ON drives (item_id);

CREATE TABLE erasure_records (
    id INTEGER PRIMARY KEY NOT NULL,
    event_id BIGINT NOT NULL REFERENCES item_events (id),
    item_id BIGINT NOT NULL REFERENCES items (id),
    drive_serial TEXT NOT NULL,
    level TEXT NOT NULL,
    technique TEXT NOT NULL,
    tool TEXT NOT NULL,
    tool_version TEXT,
    method TEXT,
    passes INTEGER,
    verified BOOLEAN NOT NULL,
    started_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP NOT NULL,
    result TEXT NOT NULL,
    report TEXT,
    operator_id BIGINT REFERENCES users (id),
    bench_id BIGINT REFERENCES benches (id),
    voided_by BIGINT REFERENCES item_events (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX erasure_records_item ON erasure_records (item_id);
CREATE INDEX erasure_records_serial ON erasure_records (drive_serial);

CREATE TABLE qa_reports (
    id INTEGER PRIMARY KEY NOT NULL,
    event_id BIGINT NOT NULL REFERENCES item_events (id),
    item_id BIGINT NOT NULL REFERENCES items (id),
    passed BOOLEAN NOT NULL,
    functional_grade TEXT,
    cosmetic_grade TEXT,
    os_installed TEXT,
    checks TEXT NOT NULL,
    notes TEXT,
    tester_id BIGINT REFERENCES users (id),
    bench_id BIGINT REFERENCES benches (id),
    voided_by BIGINT REFERENCES item_events (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX qa_reports_item ON qa_reports (item_id);
