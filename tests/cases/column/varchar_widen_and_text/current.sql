CREATE TABLE t (id int PRIMARY KEY, code varchar(10), note varchar(200), amount numeric(10,2));
