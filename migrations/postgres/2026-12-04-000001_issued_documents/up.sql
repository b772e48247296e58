-- Documents handed to people who never log in (receipts, certificates, reports,
-- slips, attestations): each kept as issued, under an identifier printed on it, with
-- the SHA-256 of its file so that the public verification page can tell a copy from a
-- changed one.
CREATE TABLE issued_documents (
    id BIGSERIAL PRIMARY KEY,
    public_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    -- What it is about, such as `collection:12`.
    subject TEXT NOT NULL,
    -- What the verification page shows: no personal data.
    title TEXT NOT NULL,
    issuer_id BIGINT REFERENCES organisations (id),
    issuer_name TEXT NOT NULL,
    -- Who may download it again: the staff of its site (or of its region when it has
    -- no site), and the social workers of its organisation (a training attestation).
    site_id BIGINT REFERENCES sites (id),
    region_id BIGINT NOT NULL REFERENCES regions (id),
    organisation_id BIGINT REFERENCES organisations (id),
    issued_by BIGINT NOT NULL REFERENCES users (id),
    signed BOOLEAN NOT NULL DEFAULT FALSE,
    issued_at TIMESTAMP NOT NULL,
    sha256 TEXT NOT NULL,
    pdf BYTEA NOT NULL
);
CREATE INDEX issued_documents_subject ON issued_documents (subject, issued_at);

-- The data-security right: who may sign erasure certificates.
ALTER TABLE users ADD COLUMN data_security BOOLEAN NOT NULL DEFAULT FALSE;
