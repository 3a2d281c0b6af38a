CREATE DOMAIN code AS text CONSTRAINT code_len CHECK (length(VALUE) = 3);
CREATE TABLE t (id int PRIMARY KEY, c code);
