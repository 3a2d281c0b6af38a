CREATE FUNCTION greet(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'hi ' || name $$;
COMMENT ON FUNCTION greet(text) IS 'a greeting';
CREATE VIEW greetings AS SELECT greet('x') AS g;
