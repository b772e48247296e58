-- Label printers, site templates, and when each code was last printed.

ALTER TABLE label_codes ADD COLUMN last_printed_at TIMESTAMP;

-- A printer of a site, or of one bench of the site. kind: 'zpl' (raw TCP, address
-- host:port) or 'cups' (address = the CUPS queue name).
CREATE TABLE printers (
    id INTEGER PRIMARY KEY NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    bench_id BIGINT REFERENCES benches (id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    dpi INTEGER,
    media TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX printers_site ON printers (site_id, bench_id);

-- A site's own label template (the built-in ones live in the code). definition is
-- the template's JSON.
CREATE TABLE label_templates (
    id INTEGER PRIMARY KEY NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (site_id, name)
);
