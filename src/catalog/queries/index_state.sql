-- Whether an index exists (by schema and name) and is valid: no row when it does not exist.
SELECT i.indisvalid
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_index i ON i.indexrelid = c.oid
WHERE n.nspname = $1 AND c.relname = $2
