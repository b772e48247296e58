-- The social side: sites' opening hours, regions' hold length, beneficiaries and their
-- eligibility proofs, the catalogue of ready devices, reservations, training sessions,
-- recorded needs, and failed logins (shared by every server process).
ALTER TABLE sites ADD COLUMN opening_hours TEXT;
ALTER TABLE regions ADD COLUMN hold_days INTEGER NOT NULL DEFAULT 7;

-- Data, not code: what proves eligibility, and for how long.
CREATE TABLE proof_types (
    key TEXT PRIMARY KEY NOT NULL,
    label_fr TEXT NOT NULL,
    label_en TEXT NOT NULL,
    valid_days INTEGER NOT NULL,
    position INTEGER NOT NULL
);
INSERT INTO proof_types (key, label_fr, label_en, valid_days, position) VALUES
    ('caf', 'Attestation de la CAF (quotient familial)', 'CAF family allowance certificate', 90, 1),
    ('rsa', 'Notification de droits au RSA', 'RSA (minimum income) entitlement notice', 90, 2),
    ('france_travail', 'Attestation France Travail', 'France Travail (job seeker) certificate', 90, 3),
    ('css', 'Attestation de complémentaire santé solidaire', 'Complémentaire santé solidaire certificate', 365, 4),
    ('tax_notice', 'Avis d''imposition ou de non-imposition', 'Income tax notice', 365, 5),
    ('referral', 'Attestation du travailleur social', 'Social worker''s referral', 180, 6);

-- Data, not code: topics in the spirit of the digital mediation network's themes.
CREATE TABLE training_topics (
    key TEXT PRIMARY KEY NOT NULL,
    label_fr TEXT NOT NULL,
    label_en TEXT NOT NULL,
    position INTEGER NOT NULL
);
INSERT INTO training_topics (key, label_fr, label_en, position) VALUES
    ('getting_started', 'Prendre en main son ordinateur', 'Getting started with the computer', 1),
    ('email', 'Créer et utiliser sa messagerie', 'Setting up and using e-mail', 2),
    ('online_procedures', 'Faire ses démarches administratives en ligne', 'Online administrative procedures', 3),
    ('online_safety', 'Se protéger en ligne', 'Staying safe online', 4),
    ('job_search', 'Chercher un emploi en ligne', 'Looking for a job online', 5),
    ('office_software', 'Traitement de texte et tableur', 'Word processing and spreadsheets', 6),
    ('video_calls', 'Appels vidéo avec ses proches', 'Video calls with family and friends', 7);

CREATE TABLE beneficiaries (
    id INTEGER PRIMARY KEY NOT NULL,
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    social_worker_id BIGINT NOT NULL REFERENCES users (id),
    reference TEXT NOT NULL,
    household_size INTEGER,
    proof_type TEXT REFERENCES proof_types (key),
    proof_date DATE,
    consent_at TIMESTAMP,
    consent_text TEXT,
    contact TEXT,
    notes TEXT,
    created_at TIMESTAMP NOT NULL,
    erased_at TIMESTAMP
);
CREATE UNIQUE INDEX beneficiaries_reference ON beneficiaries (organisation_id, reference);

-- The ready devices, with the specs a social worker filters on, kept in step with the
-- items by every step that makes a device ready or takes it out of `ready`.
CREATE TABLE catalogue (
    item_id BIGINT PRIMARY KEY NOT NULL REFERENCES items (id),
    region_id BIGINT NOT NULL REFERENCES regions (id),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    category TEXT NOT NULL,
    -- 0 when not known: a filter "at least N" leaves it out, a sort puts it last.
    screen_tenths INTEGER NOT NULL,
    ram_gb INTEGER NOT NULL,
    storage_type TEXT,
    storage_gb INTEGER NOT NULL,
    functional_grade TEXT,
    cosmetic_grade TEXT,
    ready_at TIMESTAMP NOT NULL
);
-- Covering: a filtered page and its count read these indexes alone, never the table.
CREATE INDEX catalogue_region ON catalogue (region_id, category, ready_at, item_id,
    screen_tenths, ram_gb, storage_type, storage_gb, functional_grade, cosmetic_grade, site_id);
-- The other sorts (most memory, largest screen or storage first) read in index order too.
CREATE INDEX catalogue_region_ram ON catalogue (region_id, ram_gb, item_id, category,
    screen_tenths, storage_type, storage_gb, functional_grade, cosmetic_grade, site_id);
CREATE INDEX catalogue_region_screen ON catalogue (region_id, screen_tenths, item_id, category,
    ram_gb, storage_type, storage_gb, functional_grade, cosmetic_grade, site_id);
CREATE INDEX catalogue_region_storage ON catalogue (region_id, storage_gb, item_id, category,
    screen_tenths, ram_gb, storage_type, functional_grade, cosmetic_grade, site_id);
CREATE INDEX catalogue_region_ready ON catalogue (region_id, ready_at, item_id, category,
    screen_tenths, ram_gb, storage_type, storage_gb, functional_grade, cosmetic_grade, site_id);

CREATE TABLE training_sessions (
    id INTEGER PRIMARY KEY NOT NULL,
    region_id BIGINT NOT NULL REFERENCES regions (id),
    venue_id BIGINT NOT NULL REFERENCES organisations (id),
    trainer TEXT NOT NULL,
    starts_at TIMESTAMP NOT NULL,
    duration_minutes INTEGER NOT NULL,
    capacity INTEGER NOT NULL,
    topics TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX training_sessions_region ON training_sessions (region_id, starts_at);

CREATE TABLE reservations (
    id INTEGER PRIMARY KEY NOT NULL,
    item_id BIGINT NOT NULL REFERENCES items (id),
    beneficiary_id BIGINT NOT NULL REFERENCES beneficiaries (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    social_worker_id BIGINT NOT NULL REFERENCES users (id),
    region_id BIGINT NOT NULL REFERENCES regions (id),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    hold_until TIMESTAMP NOT NULL,
    pickup_at TIMESTAMP NOT NULL,
    override_reason TEXT,
    training_refused TEXT,
    created_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    end_reason TEXT
);
-- Two active reservations of one device can never both be written.
CREATE UNIQUE INDEX reservations_active_item ON reservations (item_id) WHERE status = 'active';
CREATE INDEX reservations_beneficiary ON reservations (beneficiary_id, created_at);
CREATE INDEX reservations_organisation ON reservations (organisation_id, status);
CREATE INDEX reservations_region ON reservations (region_id, status);
CREATE INDEX reservations_hold ON reservations (hold_until) WHERE status = 'active';

CREATE TABLE training_bookings (
    id INTEGER PRIMARY KEY NOT NULL,
    session_id BIGINT NOT NULL REFERENCES training_sessions (id),
    beneficiary_id BIGINT NOT NULL REFERENCES beneficiaries (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    reservation_id BIGINT REFERENCES reservations (id),
    status TEXT NOT NULL,
    attendance TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX training_bookings_once ON training_bookings (session_id, beneficiary_id) WHERE status <> 'cancelled';
CREATE INDEX training_bookings_beneficiary ON training_bookings (beneficiary_id);
CREATE INDEX training_bookings_reservation ON training_bookings (reservation_id) WHERE reservation_id IS NOT NULL;

CREATE TABLE needs (
    id INTEGER PRIMARY KEY NOT NULL,
    beneficiary_id BIGINT NOT NULL REFERENCES beneficiaries (id),
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    region_id BIGINT NOT NULL REFERENCES regions (id),
    category TEXT NOT NULL,
    min_screen_tenths INTEGER,
    min_ram_gb INTEGER,
    storage_type TEXT,
    min_storage_gb INTEGER,
    created_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP
);
CREATE INDEX needs_organisation ON needs (organisation_id) WHERE closed_at IS NULL;
CREATE INDEX needs_region ON needs (region_id, category) WHERE closed_at IS NULL;

-- Failed logins, per account name and per client address; kept in the database so
-- that every server process counts the same.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY NOT NULL,
    scope TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_scope ON login_failures (scope, failed_at);

-- The devices already ready when this migration runs.
INSERT INTO catalogue (item_id, region_id, site_id, category, screen_tenths, ram_gb,
    storage_type, storage_gb, functional_grade, cosmetic_grade, ready_at)
SELECT i.id, s.region_id, i.site_id, i.category,
    COALESCE(CAST(ROUND(json_extract(i.specs, '$.screen_inches') * 10) AS INTEGER), 0),
    COALESCE(json_extract(i.specs, '$.ram_gb'), 0),
    LOWER(TRIM(json_extract(i.specs, '$.storage_type'))),
    COALESCE(json_extract(i.specs, '$.storage_gb'), 0),
    i.functional_grade, i.cosmetic_grade, i.updated_at
FROM items i JOIN sites s ON s.id = i.site_id
WHERE i.state = 'ready' AND i.kind = 'device';
