CREATE TABLE t (id int PRIMARY KEY, v text) WITH (fillfactor = 90, autovacuum_enabled = false);
