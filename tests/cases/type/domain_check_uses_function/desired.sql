CREATE FUNCTION is_upper(t text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT t = upper(t) $$;
CREATE DOMAIN upper_text AS text CHECK (is_upper(VALUE));
CREATE TABLE t (id int PRIMARY KEY, code upper_text);
