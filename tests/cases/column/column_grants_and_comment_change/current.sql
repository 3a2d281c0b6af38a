CREATE TABLE people (id int PRIMARY KEY, name text, salary numeric);
COMMENT ON COLUMN people.name IS 'old';
GRANT SELECT (id, name) ON people TO strata_hr;
