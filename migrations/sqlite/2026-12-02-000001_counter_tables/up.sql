-- The dashboards' counters are read as ranges of their keys: on SQLite they become
-- tables clustered on their key (WITHOUT ROWID), so that a range is read from the key's
-- own pages instead of a look-up in the table for each row of the key's index.
CREATE TABLE stock_counts_new (
    site_id BIGINT NOT NULL,
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    grade TEXT NOT NULL,
    spec_key TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (site_id, category, state, grade, spec_key)
) WITHOUT ROWID;
INSERT INTO stock_counts_new (site_id, category, state, grade, spec_key, n) SELECT site_id, category, state, grade, spec_key, n FROM stock_counts;
DROP TABLE stock_counts;
ALTER TABLE stock_counts_new RENAME TO stock_counts;

CREATE TABLE collection_counts_new (
    collection_id BIGINT NOT NULL,
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    n BIGINT NOT NULL,
    weighed_n BIGINT NOT NULL,
    weighed_g BIGINT NOT NULL,
    estimated_n BIGINT NOT NULL,
    estimated_g BIGINT NOT NULL,
    PRIMARY KEY (collection_id, category, state)
) WITHOUT ROWID;
INSERT INTO collection_counts_new (collection_id, category, state, n, weighed_n, weighed_g, estimated_n, estimated_g) SELECT collection_id, category, state, n, weighed_n, weighed_g, estimated_n, estimated_g FROM collection_counts;
DROP TABLE collection_counts;
ALTER TABLE collection_counts_new RENAME TO collection_counts;

CREATE TABLE flow_weeks_new (
    week DATE NOT NULL,
    flow TEXT NOT NULL,
    site_id BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (week, flow, site_id)
) WITHOUT ROWID;
INSERT INTO flow_weeks_new (week, flow, site_id, n) SELECT week, flow, site_id, n FROM flow_weeks;
DROP TABLE flow_weeks;
ALTER TABLE flow_weeks_new RENAME TO flow_weeks;

CREATE TABLE flow_months_new (
    month DATE NOT NULL,
    flow TEXT NOT NULL,
    category TEXT NOT NULL,
    site_id BIGINT NOT NULL,
    n BIGINT NOT NULL,
    weighed_n BIGINT NOT NULL,
    weighed_g BIGINT NOT NULL,
    estimated_n BIGINT NOT NULL,
    estimated_g BIGINT NOT NULL,
    PRIMARY KEY (month, flow, category, site_id)
) WITHOUT ROWID;
INSERT INTO flow_months_new (month, flow, category, site_id, n, weighed_n, weighed_g, estimated_n, estimated_g) SELECT month, flow, category, site_id, n, weighed_n, weighed_g, estimated_n, estimated_g FROM flow_months;
DROP TABLE flow_months;
ALTER TABLE flow_months_new RENAME TO flow_months;

CREATE TABLE ready_times_new (
    month DATE NOT NULL,
    site_id BIGINT NOT NULL,
    days INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (month, site_id, days)
) WITHOUT ROWID;
INSERT INTO ready_times_new (month, site_id, days, n) SELECT month, site_id, days, n FROM ready_times;
DROP TABLE ready_times;
ALTER TABLE ready_times_new RENAME TO ready_times;

CREATE TABLE aging_days_new (
    state TEXT NOT NULL,
    day DATE NOT NULL,
    site_id BIGINT NOT NULL,
    blocker TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (state, day, site_id, blocker)
) WITHOUT ROWID;
INSERT INTO aging_days_new (state, day, site_id, blocker, n) SELECT state, day, site_id, blocker, n FROM aging_days;
DROP TABLE aging_days;
ALTER TABLE aging_days_new RENAME TO aging_days;

CREATE TABLE aging_months_new (
    state TEXT NOT NULL,
    month DATE NOT NULL,
    site_id BIGINT NOT NULL,
    blocker TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (state, month, site_id, blocker)
) WITHOUT ROWID;
INSERT INTO aging_months_new (state, month, site_id, blocker, n) SELECT state, month, site_id, blocker, n FROM aging_months;
DROP TABLE aging_months;
ALTER TABLE aging_months_new RENAME TO aging_months;

-- Reception to ready over twelve months, for every site: read in the order of its
-- grouping (site, days), the counts with it.
CREATE INDEX ready_times_by_site ON ready_times (site_id, days, month, n);

-- A region's or a site's weeks and months: the ranges of its sites, the counts with
-- them, instead of every site's rows since the first week or month.
CREATE INDEX flow_weeks_by_site ON flow_weeks (site_id, week, flow, n);
CREATE INDEX flow_months_by_site ON flow_months (site_id, month, flow, category, n, weighed_n,
    weighed_g, estimated_n, estimated_g);

-- The aging list filtered by what an item waits for: that reason's items in the order
-- of their time in their state, instead of every waiting item of the state.
CREATE INDEX items_aging_reason ON items (state, blocker, state_since, site_id) WHERE blocker <> '';

-- How many times the counters changed: a reading of them made at one generation holds
-- for every reading at that generation, so that a server process keeps it in memory.
CREATE TABLE counter_folds (
    id INTEGER PRIMARY KEY NOT NULL,
    generation BIGINT NOT NULL
);
INSERT INTO counter_folds (id, generation) VALUES (1, 0);
