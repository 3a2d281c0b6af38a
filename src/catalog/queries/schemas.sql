-- Schemas the user owns: not system schemas, not strata's ledger, not created by an extension.
-- $1: schema names to leave out (text[]).
SELECT json_build_object(
    'name', n.nspname,
    'comment', obj_description(n.oid, 'pg_namespace'),
    'grants', (
        SELECT coalesce(json_agg(json_build_object(
            'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
            'privilege', a.privilege_type,
            'grantable', a.is_grantable)), '[]')
        FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
        WHERE a.grantee <> n.nspowner)
)
FROM pg_namespace n
WHERE n.nspname <> ALL ($1::text[])
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')
