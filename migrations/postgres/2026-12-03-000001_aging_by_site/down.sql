DROP INDEX aging_months_by_site;
DROP INDEX aging_days_by_site;
