-- The aging dashboard's counts, kept like the other counters: an item's delta also
-- says what it waits for and since when, and the server folds the deltas into the
-- items waiting by state, day (UTC) and site, and by state, month and site. The
-- dashboard adds the whole months and days before its threshold's day and reads the
-- items of that one day itself, so that it stays exact to the second. The server
-- recounts every counter at its next start (`aggregates::rebuild`, version 2).

ALTER TABLE item_deltas ADD COLUMN blocker TEXT NOT NULL DEFAULT '';
ALTER TABLE item_deltas ADD COLUMN state_since TIMESTAMP;

CREATE OR REPLACE FUNCTION items_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.site_id = NEW.site_id AND OLD.state = NEW.state
        AND OLD.category = NEW.category
        AND OLD.functional_grade IS NOT DISTINCT FROM NEW.functional_grade
        AND COALESCE(OLD.spec_key, '') = COALESCE(NEW.spec_key, '')
        AND OLD.collection_id IS NOT DISTINCT FROM NEW.collection_id
        AND OLD.weight_g IS NOT DISTINCT FROM NEW.weight_g
        AND OLD.weight_estimated = NEW.weight_estimated
        AND COALESCE(OLD.blocker, '') = COALESCE(NEW.blocker, '')
        AND OLD.state_since IS NOT DISTINCT FROM NEW.state_since THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO item_deltas (site_id, collection_id, category, state, grade, spec_key,
            weight_g, weight_estimated, blocker, state_since, n)
        VALUES (OLD.site_id, OLD.collection_id, OLD.category, OLD.state,
            COALESCE(OLD.functional_grade, ''), COALESCE(OLD.spec_key, ''), OLD.weight_g,
            OLD.weight_estimated, COALESCE(OLD.blocker, ''), OLD.state_since, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO item_deltas (site_id, collection_id, category, state, grade, spec_key,
            weight_g, weight_estimated, blocker, state_since, n)
        VALUES (NEW.site_id, NEW.collection_id, NEW.category, NEW.state,
            COALESCE(NEW.functional_grade, ''), COALESCE(NEW.spec_key, ''), NEW.weight_g,
            NEW.weight_estimated, COALESCE(NEW.blocker, ''), NEW.state_since, 1);
    END IF;
    RETURN NULL;
END $$;

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
