CREATE TABLE people (id int PRIMARY KEY, name text, salary numeric);
COMMENT ON COLUMN people.name IS 'full name';
GRANT SELECT (id, name, salary), UPDATE (salary) ON people TO strata_hr;
