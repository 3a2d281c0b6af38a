CREATE FUNCTION greet(name text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'hello ' || name $$;
CREATE VIEW greetings AS SELECT greet('x') AS g;
