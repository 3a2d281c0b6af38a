CREATE TABLE t0 (id integer NOT NULL, a integer, c numeric);
CREATE TABLE t1 (d text) INHERITS (t0);
CREATE VIEW v1 AS SELECT id, a FROM t1 WHERE id > 0;
