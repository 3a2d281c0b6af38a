CREATE FUNCTION approx_eq(numeric, numeric) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT abs($1 - $2) < 0.01 $$;
CREATE OPERATOR =~ (FUNCTION = approx_eq, LEFTARG = numeric, RIGHTARG = numeric);
CREATE TYPE pair AS (a int, b int);
CREATE FUNCTION pair_sum(pair) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT $1.a + $1.b $$;
CREATE CAST (pair AS int) WITH FUNCTION pair_sum(pair);
