CREATE TABLE t (id int PRIMARY KEY, secret text);
CREATE VIEW t_public AS SELECT id FROM t;
