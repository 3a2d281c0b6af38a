CREATE TABLE t (id int PRIMARY KEY, code varchar(20), note text, amount numeric(14,2));
