-- A region's or a site's items waiting by state: the ranges of its sites in the state's
-- days and months, the counts with them, read from the index alone (instead of every
-- site's rows of those days).
CREATE INDEX aging_days_by_site ON aging_days (state, site_id, day, blocker, n);
CREATE INDEX aging_months_by_site ON aging_months (state, site_id, month, blocker, n);
