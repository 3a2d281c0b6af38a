CREATE SCHEMA reporting;
COMMENT ON SCHEMA reporting IS 'read-only reporting objects';
GRANT USAGE ON SCHEMA reporting TO strata_reporter;
