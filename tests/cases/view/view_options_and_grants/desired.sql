CREATE TABLE t (id int PRIMARY KEY, secret text);
CREATE VIEW t_public WITH (security_barrier = true) AS SELECT id FROM t WHERE id > 0;
GRANT SELECT ON t_public TO strata_reader;
COMMENT ON COLUMN t_public.id IS 'the id';
