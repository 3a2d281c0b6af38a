-- Installed extensions (what they create is left out of every other query).
SELECT json_build_object(
    'name', e.extname,
    'schema', n.nspname,
    'version', e.extversion
)
FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace
