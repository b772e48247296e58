-- A donor's asset list being imported into a collection, line after line, so that a
-- page can show how far it got: the lines still to register (each with the code
-- allocated to it) are kept as JSON until done.
CREATE TABLE asset_imports (
    id BIGSERIAL PRIMARY KEY,
    collection_id BIGINT NOT NULL REFERENCES collections (id),
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    file_sha256 TEXT NOT NULL,
    total INTEGER NOT NULL,
    done INTEGER NOT NULL,
    already INTEGER NOT NULL,
    status TEXT NOT NULL,
    label_batch_id BIGINT REFERENCES label_batches (id),
    lines TEXT NOT NULL,
    error TEXT
);
CREATE INDEX asset_imports_collection ON asset_imports (collection_id, id);
