CREATE TABLE t (id int PRIMARY KEY, v text) WITH (fillfactor = 70);
