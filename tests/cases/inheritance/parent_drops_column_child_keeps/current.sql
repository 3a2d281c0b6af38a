CREATE TABLE t0 (id integer NOT NULL, a integer, b text, c numeric);
CREATE TABLE t1 (d text, b text) INHERITS (t0);
CREATE TABLE t2 (d text) INHERITS (t0);
