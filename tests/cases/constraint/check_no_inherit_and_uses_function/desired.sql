CREATE FUNCTION code_ok(c text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT c ~ '^[A-Z]{3}$' $$;
CREATE TABLE t (id int PRIMARY KEY, code text, CONSTRAINT t_code_ok CHECK (code_ok(code)) NO INHERIT);
CREATE TABLE t2 (id int PRIMARY KEY, code text CHECK (code_ok(code)));
