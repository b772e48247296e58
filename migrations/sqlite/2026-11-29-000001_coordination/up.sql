-- The coordinators' and admins' work on pages: a collection is planned then closed
-- (what never arrived recorded), donors offer their computers through a public form
-- (an offer waits for the region's coordinator), a new user sets their own password
-- from a one-time link, and the secret that signs the public form is shared by every
-- server process.
ALTER TABLE collections ADD COLUMN status TEXT NOT NULL DEFAULT 'planned';
ALTER TABLE collections ADD COLUMN closed_at TIMESTAMP;
ALTER TABLE collections ADD COLUMN closed_by BIGINT REFERENCES users (id);
ALTER TABLE collections ADD COLUMN missing_count INTEGER;
ALTER TABLE collections ADD COLUMN missing_weight_g BIGINT;

CREATE TABLE donor_offers (
    id INTEGER PRIMARY KEY NOT NULL,
    region_id BIGINT NOT NULL REFERENCES regions (id),
    organisation_name TEXT NOT NULL,
    siret TEXT NOT NULL,
    public_body BOOLEAN NOT NULL,
    contact_name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT,
    address TEXT NOT NULL,
    availability TEXT NOT NULL,
    laptops INTEGER NOT NULL,
    desktops INTEGER NOT NULL,
    monitors INTEGER NOT NULL,
    others INTEGER NOT NULL,
    notes TEXT,
    -- A keyed hash of the sender's address: enough to count offers a day, not to
    -- know who sent them.
    client_hash TEXT NOT NULL,
    -- Each signed form is sent once.
    form_nonce TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'proposed',
    collection_id BIGINT REFERENCES collections (id),
    decided_by BIGINT REFERENCES users (id),
    decided_at TIMESTAMP,
    decline_reason TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX donor_offers_region ON donor_offers (region_id, status);
CREATE INDEX donor_offers_client ON donor_offers (client_hash, created_at);
CREATE INDEX donor_offers_siret ON donor_offers (siret, created_at);

ALTER TABLE users ADD COLUMN setup_token_hash TEXT;
ALTER TABLE users ADD COLUMN setup_expires_at TIMESTAMP;
CREATE UNIQUE INDEX users_setup_token ON users (setup_token_hash);

CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
