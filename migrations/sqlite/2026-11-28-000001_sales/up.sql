-- The sale at the counter and what follows it: which organisation sells at each site
-- and under which VAT rule, the legal resale caps (data, with their legal reference),
-- the regions' solidarity prices, invoices and credit notes with their gapless
-- numbers, their lines and payments, and after-sales cases.
ALTER TABLE sites ADD COLUMN organisation_id BIGINT REFERENCES organisations (id);
ALTER TABLE organisations ADD COLUMN vat_scheme TEXT NOT NULL DEFAULT 'franchise';

-- Décret of 7 November 2022: the highest price (VAT included) at which an association
-- may resell a computer a public body gave it.
CREATE TABLE price_caps (
    category TEXT PRIMARY KEY NOT NULL,
    max_cents BIGINT NOT NULL,
    legal_reference TEXT NOT NULL,
    position INTEGER NOT NULL
);
INSERT INTO price_caps (category, max_cents, legal_reference, position) VALUES
    ('laptop', 18000, 'Décret du 7 novembre 2022 (art. L. 3212-2, 3° du CG3P) : ordinateur portable', 1),
    ('desktop_set', 15000, 'Décret du 7 novembre 2022 (art. L. 3212-2, 3° du CG3P) : PC fixe avec un écran, un clavier et une souris', 2),
    ('tablet', 10000, 'Décret du 7 novembre 2022 (art. L. 3212-2, 3° du CG3P) : tablette', 3),
    ('smartphone', 10000, 'Décret du 7 novembre 2022 (art. L. 3212-2, 3° du CG3P) : smartphone', 4),
    ('screen', 3000, 'Décret du 7 novembre 2022 (art. L. 3212-2, 3° du CG3P) : écran', 5),
    ('printer', 3000, 'Décret du 7 novembre 2022 (art. L. 3212-2, 3° du CG3P) : imprimante individuelle', 6),
    ('multifunction_printer', 17000, 'Décret du 7 novembre 2022 (art. L. 3212-2, 3° du CG3P) : appareil multifonctions (impression, scan, copie)', 7);

-- A region's solidarity price per category and cosmetic grade ('' = every grade).
CREATE TABLE price_rules (
    id INTEGER PRIMARY KEY NOT NULL,
    region_id BIGINT NOT NULL REFERENCES regions (id),
    category TEXT NOT NULL,
    grade TEXT NOT NULL,
    price_cents BIGINT NOT NULL,
    public_body_price_cents BIGINT,
    updated_by BIGINT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX price_rules_key ON price_rules (region_id, category, grade);

-- The last number given per seller, year and kind: taken by one conditional update
-- inside the sale's transaction, so numbers follow each other without gaps.
CREATE TABLE document_counters (
    organisation_id BIGINT NOT NULL REFERENCES organisations (id),
    year INTEGER NOT NULL,
    kind TEXT NOT NULL,
    last_number BIGINT NOT NULL,
    PRIMARY KEY (organisation_id, year, kind)
);

CREATE TABLE sales (
    id INTEGER PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    number TEXT NOT NULL,
    year INTEGER NOT NULL,
    seq BIGINT NOT NULL,
    seller_id BIGINT NOT NULL REFERENCES organisations (id),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    region_id BIGINT NOT NULL REFERENCES regions (id),
    reservation_id BIGINT REFERENCES reservations (id),
    beneficiary_id BIGINT REFERENCES beneficiaries (id),
    -- The beneficiary's referring organisation (its social workers see the sale).
    organisation_id BIGINT REFERENCES organisations (id),
    partner_id BIGINT REFERENCES organisations (id),
    buyer TEXT NOT NULL,
    reason TEXT,
    credits_id BIGINT REFERENCES sales (id),
    total_cents BIGINT NOT NULL,
    vat_scheme TEXT NOT NULL,
    sold_by BIGINT NOT NULL REFERENCES users (id),
    sold_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sales_number ON sales (seller_id, kind, year, seq);
CREATE INDEX sales_region ON sales (region_id, sold_at);
CREATE INDEX sales_site ON sales (site_id, sold_at);
CREATE INDEX sales_organisation ON sales (organisation_id, sold_at) WHERE organisation_id IS NOT NULL;
CREATE INDEX sales_beneficiary ON sales (beneficiary_id) WHERE beneficiary_id IS NOT NULL;

CREATE TABLE sale_lines (
    id INTEGER PRIMARY KEY NOT NULL,
    sale_id BIGINT NOT NULL REFERENCES sales (id),
    position INTEGER NOT NULL,
    item_id BIGINT NOT NULL REFERENCES items (id),
    code TEXT NOT NULL,
    category TEXT NOT NULL,
    brand TEXT,
    model TEXT,
    price_cents BIGINT NOT NULL,
    public_body BOOLEAN NOT NULL,
    guarantee_until DATE,
    status TEXT NOT NULL
);
CREATE INDEX sale_lines_sale ON sale_lines (sale_id, position);
CREATE INDEX sale_lines_item ON sale_lines (item_id);

CREATE TABLE payments (
    id INTEGER PRIMARY KEY NOT NULL,
    sale_id BIGINT NOT NULL REFERENCES sales (id),
    method TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    reference TEXT
);
CREATE INDEX payments_sale ON payments (sale_id);

CREATE TABLE after_sales (
    id INTEGER PRIMARY KEY NOT NULL,
    sale_id BIGINT NOT NULL REFERENCES sales (id),
    line_id BIGINT NOT NULL REFERENCES sale_lines (id),
    item_id BIGINT NOT NULL REFERENCES items (id),
    reason TEXT NOT NULL,
    opened_by BIGINT NOT NULL REFERENCES users (id),
    opened_at TIMESTAMP NOT NULL,
    outcome TEXT,
    outcome_reason TEXT,
    settled_by BIGINT REFERENCES users (id),
    settled_at TIMESTAMP,
    closed_at TIMESTAMP,
    credit_note_id BIGINT REFERENCES sales (id),
    replacement_sale_id BIGINT REFERENCES sales (id)
);
-- One open case per device sold.
CREATE UNIQUE INDEX after_sales_open ON after_sales (line_id) WHERE closed_at IS NULL;
CREATE INDEX after_sales_sale ON after_sales (sale_id);

-- The anonymisation sweep reads the beneficiaries not yet anonymised.
CREATE INDEX beneficiaries_kept ON beneficiaries (id) WHERE erased_at IS NULL;
