-- Which of the given role names exist on the server.
-- $1: role names (text[]).
SELECT rolname::text FROM pg_roles WHERE rolname = ANY ($1::text[])
