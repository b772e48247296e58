-- Reception to ready over twelve months, for every site: read in the order of its
-- grouping (site, days), the counts with it.
CREATE INDEX ready_times_by_site ON ready_times (site_id, days, month, n);

-- A region's or a site's weeks and months: the ranges of its sites, the counts with
-- them, instead of every site's rows since the first week or month.
CREATE INDEX flow_weeks_by_site ON flow_weeks (site_id, week, flow, n);
CREATE INDEX flow_months_by_site ON flow_months (site_id, month, flow, category, n, weighed_n,
    weighed_g, estimated_n, estimated_g);

-- The aging list filtered by what an item waits for: that reason's items in the order
-- of their time in their state, instead of every waiting item of the state. Both aging
-- indexes carry the item's id, so that the list is read from the index alone.
CREATE INDEX items_aging_reason ON items (state, blocker, state_since, site_id) INCLUDE (id)
    WHERE blocker <> '';
DROP INDEX items_aging;
CREATE INDEX items_aging ON items (state, state_since, site_id, blocker) INCLUDE (id)
    WHERE blocker <> '';

-- How many times the counters changed: a reading of them made at one generation holds
-- for every reading at that generation, so that a server process keeps it in memory.
CREATE TABLE counter_folds (
    id INTEGER PRIMARY KEY NOT NULL,
    generation BIGINT NOT NULL
);
INSERT INTO counter_folds (id, generation) VALUES (1, 0);
