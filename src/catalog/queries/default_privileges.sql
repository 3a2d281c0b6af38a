-- Default privileges (ALTER DEFAULT PRIVILEGES): for a role (none: the role strata is
-- connected as, which owns what its plans create), in a schema or everywhere, on a kind
-- of object, the privileges objects get besides their owner's.
-- $1: schema names to leave out (text[]).
SELECT json_build_object(
    'role', CASE WHEN a.defaclrole <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
                 THEN pg_get_userbyid(a.defaclrole) END,
    'schema', n.nspname,
    'on', CASE a.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                               WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types'
                               WHEN 'n' THEN 'schemas' ELSE a.defaclobjtype::text END,
    'grants', (
        SELECT coalesce(json_agg(json_build_object(
            'grantee', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END,
            'privilege', x.privilege_type,
            'grantable', x.is_grantable)), '[]')
        FROM aclexplode(a.defaclacl) x
        WHERE x.grantee <> a.defaclrole)
)
FROM pg_default_acl a
LEFT JOIN pg_namespace n ON n.oid = a.defaclnamespace
WHERE a.defaclnamespace = 0
   OR (n.nspname <> ALL ($1::text[])
       AND n.nspname NOT LIKE 'pg\_%'
       AND n.nspname <> 'information_schema')
