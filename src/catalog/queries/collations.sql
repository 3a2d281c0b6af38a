-- Collations of user schemas (the locale columns differ between majors: read by name).
-- $1: schema names to leave out (text[]).
SELECT json_build_object(
    'schema', n.nspname,
    'name', c.collname,
    'provider', c.collprovider,
    'deterministic', c.collisdeterministic,
    'lc_collate', to_jsonb(c) ->> 'collcollate',
    'lc_ctype', to_jsonb(c) ->> 'collctype',
    'locale', coalesce(to_jsonb(c) ->> 'colllocale', to_jsonb(c) ->> 'colliculocale'),
    'rules', to_jsonb(c) ->> 'collicurules',
    'comment', obj_description(c.oid, 'pg_collation')
)
FROM pg_collation c
JOIN pg_namespace n ON n.oid = c.collnamespace
WHERE n.nspname <> ALL ($1::text[])
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_collation'::regclass AND d.objid = c.oid AND d.deptype = 'e')
