CREATE TABLE t (id bigserial PRIMARY KEY, small smallserial, name text);
