-- Extended statistics objects (CREATE STATISTICS).
-- $1: schema names to leave out (text[]).
SELECT json_build_object(
    'schema', n.nspname,
    'name', s.stxname,
    'definition', pg_get_statisticsobjdef(s.oid),
    -- the default is -1 before PostgreSQL 17 and NULL since
    'target', nullif((to_jsonb(s) ->> 'stxstattarget')::int, -1),
    'comment', obj_description(s.oid, 'pg_statistic_ext')
)
FROM pg_statistic_ext s
JOIN pg_namespace n ON n.oid = s.stxnamespace
WHERE n.nspname <> ALL ($1::text[])
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_statistic_ext'::regclass AND d.objid = s.oid AND d.deptype = 'e')
