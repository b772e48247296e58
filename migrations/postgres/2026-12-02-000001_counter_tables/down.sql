DROP TABLE counter_folds;
DROP INDEX flow_months_by_site;
DROP INDEX flow_weeks_by_site;
DROP INDEX items_aging_reason;
DROP INDEX items_aging;
CREATE INDEX items_aging ON items (state, state_since, site_id, blocker) WHERE blocker <> '';
DROP INDEX ready_times_by_site;
