DROP TABLE aging_months;
DROP TABLE aging_days;

CREATE OR REPLACE FUNCTION items_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.site_id = NEW.site_id AND OLD.state = NEW.state
        AND OLD.category = NEW.category
        AND OLD.functional_grade IS NOT DISTINCT FROM NEW.functional_grade
        AND COALESCE(OLD.spec_key, '') = COALESCE(NEW.spec_key, '')
        AND OLD.collection_id IS NOT DISTINCT FROM NEW.collection_id
        AND OLD.weight_g IS NOT DISTINCT FROM NEW.weight_g
        AND OLD.weight_estimated = NEW.weight_estimated THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO item_deltas (site_id, collection_id, category, state, grade, spec_key,
            weight_g, weight_estimated, n)
        VALUES (OLD.site_id, OLD.collection_id, OLD.category, OLD.state,
            COALESCE(OLD.functional_grade, ''), COALESCE(OLD.spec_key, ''), OLD.weight_g,
            OLD.weight_estimated, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO item_deltas (site_id, collection_id, category, state, grade, spec_key,
            weight_g, weight_estimated, n)
        VALUES (NEW.site_id, NEW.collection_id, NEW.category, NEW.state,
            COALESCE(NEW.functional_grade, ''), COALESCE(NEW.spec_key, ''), NEW.weight_g,
            NEW.weight_estimated, 1);
    END IF;
    RETURN NULL;
END $$;

ALTER TABLE item_deltas DROP COLUMN state_since;
ALTER TABLE item_deltas DROP COLUMN blocker;
DROP TABLE flow_weeks;
DROP TABLE flow_months;
DROP TABLE ready_times;
CREATE TABLE flow_weeks (
    site_id BIGINT NOT NULL,
    week DATE NOT NULL,
    flow TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (site_id, week, flow)
);
CREATE TABLE flow_months (
    site_id BIGINT NOT NULL,
    month DATE NOT NULL,
    flow TEXT NOT NULL,
    category TEXT NOT NULL,
    n BIGINT NOT NULL,
    weighed_n BIGINT NOT NULL,
    weighed_g BIGINT NOT NULL,
    estimated_n BIGINT NOT NULL,
    estimated_g BIGINT NOT NULL,
    PRIMARY KEY (site_id, month, flow, category)
);
CREATE TABLE ready_times (
    site_id BIGINT NOT NULL,
    month DATE NOT NULL,
    days INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (site_id, month, days)
);
-- Counted again at the next start.
DELETE FROM settings WHERE name = 'aggregates';
