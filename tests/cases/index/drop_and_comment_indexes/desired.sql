CREATE TABLE t (id int PRIMARY KEY, a int, b int);
CREATE INDEX t_b_idx ON t (b);
COMMENT ON INDEX t_b_idx IS 'lookups by b';
