-- Foreign servers (CREATE SERVER) no extension made: their wrapper, type, version, options,
-- comment and privileges. Servers are the database's, in no schema.
SELECT json_build_object(
    'name', s.srvname,
    'wrapper', w.fdwname,
    'type', s.srvtype,
    'version', s.srvversion,
    -- sorted: the order options are given in is not kept by ALTER ... OPTIONS (ADD ...)
    'options', (SELECT coalesce(json_agg(o ORDER BY o), '[]') FROM unnest(s.srvoptions) o),
    'comment', obj_description(s.oid, 'pg_foreign_server'),
    'grants', (
        SELECT coalesce(json_agg(json_build_object(
            'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
            'privilege', a.privilege_type,
            'grantable', a.is_grantable)), '[]')
        FROM aclexplode(coalesce(s.srvacl, acldefault('S', s.srvowner))) a
        WHERE a.grantee <> s.srvowner)
)
FROM pg_foreign_server s
JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
WHERE NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_foreign_server'::regclass AND d.objid = s.oid AND d.deptype = 'e')
