CREATE DOMAIN amount AS integer CHECK (VALUE >= 0);
CREATE TABLE t (id int PRIMARY KEY, a amount);
