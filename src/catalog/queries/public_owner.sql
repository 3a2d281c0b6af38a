-- The owner of the public schema (pg_database_owner since PostgreSQL 15).
SELECT r.rolname::text
FROM pg_namespace n
JOIN pg_roles r ON r.oid = n.nspowner
WHERE n.nspname = 'public'
