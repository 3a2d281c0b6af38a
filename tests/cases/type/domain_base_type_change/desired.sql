CREATE DOMAIN amount AS bigint CHECK (VALUE >= 0);
CREATE TABLE t (id int PRIMARY KEY, a amount);
