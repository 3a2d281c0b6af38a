-- Rewrite rules of tables and views, other than a view's own _RETURN rule.
-- $1: schema names to leave out (text[]).
SELECT json_build_object(
    'schema', n.nspname,
    'relation', c.relname,
    'name', r.rulename,
    'definition', pg_get_ruledef(r.oid),
    'enabled', r.ev_enabled,
    'comment', obj_description(r.oid, 'pg_rewrite')
)
FROM pg_rewrite r
JOIN pg_class c ON c.oid = r.ev_class
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN'
  AND c.relkind IN ('r', 'p', 'v', 'm')
  AND n.nspname <> ALL ($1::text[])
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
