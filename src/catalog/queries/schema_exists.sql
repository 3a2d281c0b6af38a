-- Whether a schema (by name) exists.
SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)
