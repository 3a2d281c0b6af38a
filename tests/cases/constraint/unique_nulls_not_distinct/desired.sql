CREATE TABLE t (id int PRIMARY KEY, a int, b int, CONSTRAINT t_a_b_key UNIQUE NULLS NOT DISTINCT (a, b));
