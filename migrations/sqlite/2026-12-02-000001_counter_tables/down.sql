DROP TABLE counter_folds;
DROP INDEX flow_months_by_site;
DROP INDEX flow_weeks_by_site;
DROP INDEX items_aging_reason;
DROP INDEX ready_times_by_site;

CREATE TABLE stock_counts_old (
    site_id BIGINT NOT NULL,
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    grade TEXT NOT NULL,
    spec_key TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (site_id, category, state, grade, spec_key)
);
INSERT INTO stock_counts_old (site_id, category, state, grade, spec_key, n) SELECT site_id, category, state, grade, spec_key, n FROM stock_counts;
DROP TABLE stock_counts;
ALTER TABLE stock_counts_old RENAME TO stock_counts;

CREATE TABLE collection_counts_old (
    collection_id BIGINT NOT NULL,
    category TEXT NOT NULL,
    state TEXT NOT NULL,
    n BIGINT NOT NULL,
    weighed_n BIGINT NOT NULL,
    weighed_g BIGINT NOT NULL,
    estimated_n BIGINT NOT NULL,
    estimated_g BIGINT NOT NULL,
    PRIMARY KEY (collection_id, category, state)
);
INSERT INTO collection_counts_old (collection_id, category, state, n, weighed_n, weighed_g, estimated_n, estimated_g) SELECT collection_id, category, state, n, weighed_n, weighed_g, estimated_n, estimated_g FROM collection_counts;
DROP TABLE collection_counts;
ALTER TABLE collection_counts_old RENAME TO collection_counts;

CREATE TABLE flow_weeks_old (
    week DATE NOT NULL,
    flow TEXT NOT NULL,
    site_id BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (week, flow, site_id)
);
INSERT INTO flow_weeks_old (week, flow, site_id, n) SELECT week, flow, site_id, n FROM flow_weeks;
DROP TABLE flow_weeks;
ALTER TABLE flow_weeks_old RENAME TO flow_weeks;

CREATE TABLE flow_months_old (
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
);
INSERT INTO flow_months_old (month, flow, category, site_id, n, weighed_n, weighed_g, estimated_n, estimated_g) SELECT month, flow, category, site_id, n, weighed_n, weighed_g, estimated_n, estimated_g FROM flow_months;
DROP TABLE flow_months;
ALTER TABLE flow_months_old RENAME TO flow_months;

CREATE TABLE ready_times_old (
    month DATE NOT NULL,
    site_id BIGINT NOT NULL,
    days INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (month, site_id, days)
);
INSERT INTO ready_times_old (month, site_id, days, n) SELECT month, site_id, days, n FROM ready_times;
DROP TABLE ready_times;
ALTER TABLE ready_times_old RENAME TO ready_times;

CREATE TABLE aging_days_old (
    state TEXT NOT NULL,
    day DATE NOT NULL,
    site_id BIGINT NOT NULL,
    blocker TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (state, day, site_id, blocker)
);
INSERT INTO aging_days_old (state, day, site_id, blocker, n) SELECT state, day, site_id, blocker, n FROM aging_days;
DROP TABLE aging_days;
ALTER TABLE aging_days_old RENAME TO aging_days;

CREATE TABLE aging_months_old (
    state TEXT NOT NULL,
    month DATE NOT NULL,
    site_id BIGINT NOT NULL,
    blocker TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (state, month, site_id, blocker)
);
INSERT INTO aging_months_old (state, month, site_id, blocker, n) SELECT state, month, site_id, blocker, n FROM aging_months;
DROP TABLE aging_months;
ALTER TABLE aging_months_old RENAME TO aging_months;

