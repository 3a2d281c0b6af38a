CREATE FUNCTION norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT lower(t) $$;
CREATE TABLE t (id int PRIMARY KEY, name text);
CREATE INDEX t_norm_idx ON t (norm(name));
