CREATE TABLE t0 (id integer NOT NULL, a integer, c numeric);
