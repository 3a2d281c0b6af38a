-- User triggers on tables and views (not internal ones, not clones a partition gets from
-- its parent).
-- $1: schema names to leave out (text[]).
SELECT json_build_object(
    'schema', n.nspname,
    'table', c.relname,
    'name', t.tgname,
    'definition', pg_get_triggerdef(t.oid),
    'enabled', t.tgenabled,
    'comment', obj_description(t.oid, 'pg_trigger')
)
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal
  AND t.tgparentid = 0
  AND c.relkind IN ('r', 'p', 'v')
  AND n.nspname <> ALL ($1::text[])
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
