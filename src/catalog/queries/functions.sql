-- Functions and procedures (aggregates and window functions are not modelled).
-- $1: schema names to leave out (text[]).
SELECT json_build_object(
    'schema', n.nspname,
    'name', p.proname,
    'args', pg_get_function_identity_arguments(p.oid),
    'kind', CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END,
    'definition', pg_get_functiondef(p.oid),
    'arguments', pg_get_function_arguments(p.oid),
    'result', pg_get_function_result(p.oid),
    'volatile', p.provolatile = 'v',
    'comment', obj_description(p.oid, 'pg_proc'),
    'grants', (
        SELECT coalesce(json_agg(json_build_object(
            'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
            'privilege', a.privilege_type,
            'grantable', a.is_grantable)), '[]')
        FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
        WHERE a.grantee <> p.proowner)
)
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.prokind IN ('f', 'p')
  -- not the constructors a range type makes for itself and its multirange
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'i'
        AND d.refclassid = 'pg_type'::regclass)
  AND n.nspname <> ALL ($1::text[])
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
