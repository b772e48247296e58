-- The aging dashboard's counts, kept like the other counters: an item's delta also
-- says what it waits for and since when, and the server folds the deltas into the
-- items waiting by state, day (UTC) and site, and by state, month and site. The
-- dashboard adds the whole months and days before its threshold's day and reads the
-- items of that one day itself, so that it stays exact to the second. The server
-- recounts every counter at its next start (`aggregates::rebuild`, version 2).

ALTER TABLE item_deltas ADD COLUMN blocker TEXT NOT NULL DEFAULT '';
ALTER TABLE item_deltas ADD COLUMN state_since TIMESTAMP;

DROP TRIGGER items_count_insert;
DROP TRIGGER items_count_update;
DROP TRIGGER items_count_delete;

CREATE TRIGGER items_count_insert AFTER INSERT ON items
BEGIN
    INSERT INTO item_deltas (site_id, collection_id, category, state, grade, spec_key,
        weight_g, weight_estimated, blocker, state_since, n)
    VALUES (NEW.site_id, NEW.collection_id, NEW.category, NEW.state,
        COALESCE(NEW.functional_grade, ''), COALESCE(NEW.spec_key, ''), NEW.weight_g,
        NEW.weight_estimated, COALESCE(NEW.blocker, ''), NEW.state_since, 1);
END;

CREATE TRIGGER items_count_update AFTER UPDATE ON items
WHEN OLD.site_id <> NEW.site_id OR OLD.state <> NEW.state
    OR OLD.category <> NEW.category
    OR OLD.functional_grade IS NOT NEW.functional_grade
    OR COALESCE(OLD.spec_key, '') <> COALESCE(NEW.spec_key, '')
    OR OLD.collection_id IS NOT NEW.collection_id
    OR OLD.weight_g IS NOT NEW.weight_g
    OR OLD.weight_estimated <> NEW.weight_estimated
    OR COALESCE(OLD.blocker, '') <> COALESCE(NEW.blocker, '')
    OR OLD.state_since IS NOT NEW.state_since
BEGIN
    INSERT INTO item_deltas (site_id, collection_id, category, state, grade, spec_key,
        weight_g, weight_estimated, blocker, state_since, n)
    VALUES (OLD.site_id, OLD.collection_id, OLD.category, OLD.state,
        COALESCE(OLD.functional_grade, ''), COALESCE(OLD.spec_key, ''), OLD.weight_g,
        OLD.weight_estimated, COALESCE(OLD.blocker, ''), OLD.state_since, -1),
        (NEW.site_id, NEW.collection_id, NEW.category, NEW.state,
        COALESCE(NEW.functional_grade, ''), COALESCE(NEW.spec_key, ''), NEW.weight_g,
        NEW.weight_estimated, COALESCE(NEW.blocker, ''), NEW.state_since, 1);
END;

CREATE TRIGGER items_count_delete AFTER DELETE ON items
BEGIN
    INSERT INTO item_deltas (site_id, collection_id, category, state, grade, spec_key,
        weight_g, weight_estimated, blocker, state_since, n)
    VALUES (OLD.site_id, OLD.collection_id, OLD.category, OLD.state,
        COALESCE(OLD.functional_grade, ''), COALESCE(OLD.spec_key, ''), OLD.weight_g,
        OLD.weight_estimated, COALESCE(OLD.blocker, ''), OLD.state_since, -1);
END;

-- Items waiting for something, by state, the day (UTC) they came into it, site and
-- what they wait for; and the same by month (its first day).
CREATE TABLE aging_days (
    state TEXT NOT NULL,
    day DATE NOT NULL,
    site_id BIGINT NOT NULL,
    blocker TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (state, day, site_id, blocker)
);

CREATE TABLE aging_months (
    state TEXT NOT NULL,
    month DATE NOT NULL,
    site_id BIGINT NOT NULL,
    blocker TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (state, month, site_id, blocker)
);

-- The flow counters keyed by their date first: a dashboard reads a year of them, for
-- every site or a few, and the database adds them up by week or month in key order.
-- (Emptied: the server recounts them at its next start.)
DROP TABLE flow_weeks;
DROP TABLE flow_months;
DROP TABLE ready_times;

CREATE TABLE flow_weeks (
    week DATE NOT NULL,
    flow TEXT NOT NULL,
    site_id BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (week, flow, site_id)
);

CREATE TABLE flow_months (
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

CREATE TABLE ready_times (
    month DATE NOT NULL,
    site_id BIGINT NOT NULL,
    days INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (month, site_id, days)
);
