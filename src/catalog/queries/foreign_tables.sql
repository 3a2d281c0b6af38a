-- Foreign tables that are neither partitions nor in an inheritance tree: their columns
-- (type, options, collation, NOT NULL, default, comment, privileges), checks, server and
-- options, comment and privileges.
-- $1: schema names to leave out (text[]).
SELECT json_build_object(
    'schema', n.nspname,
    'name', c.relname,
    'server', s.srvname,
    -- options sorted: ALTER ... OPTIONS (ADD ...) does not keep the order they were given in
    'options', (SELECT coalesce(json_agg(o ORDER BY o), '[]') FROM unnest(ft.ftoptions) o),
    'columns', (
        SELECT coalesce(json_agg(json_build_object(
            'name', a.attname,
            'type', format_type(a.atttypid, a.atttypmod),
            'options', (SELECT coalesce(json_agg(o ORDER BY o), '[]')
                        FROM unnest(a.attfdwoptions) o),
            'collation', CASE WHEN a.attcollation <> t.typcollation THEN (
                SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                WHERE co.oid = a.attcollation) END,
            'not_null', a.attnotnull,
            'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
            'generated', CASE WHEN a.attgenerated = 's' THEN pg_get_expr(ad.adbin, ad.adrelid) END,
            'comment', col_description(c.oid, a.attnum),
            'grants', (
                SELECT coalesce(json_agg(json_build_object(
                    'grantee', CASE WHEN g.grantee = 0 THEN 'PUBLIC'
                                    ELSE pg_get_userbyid(g.grantee) END,
                    'privilege', g.privilege_type,
                    'grantable', g.is_grantable)), '[]')
                FROM aclexplode(a.attacl) g)
        ) ORDER BY a.attnum), '[]')
        FROM pg_attribute a
        JOIN pg_type t ON t.oid = a.atttypid
        LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
    'checks', (
        SELECT coalesce(json_agg(json_build_object(
            'name', k.conname, 'definition', pg_get_constraintdef(k.oid)) ORDER BY k.conname),
            '[]')
        FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c'),
    'comment', obj_description(c.oid, 'pg_class'),
    'grants', (
        SELECT coalesce(json_agg(json_build_object(
            'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
            'privilege', a.privilege_type,
            'grantable', a.is_grantable)), '[]')
        FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
        WHERE a.grantee <> c.relowner)
)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
JOIN pg_foreign_server s ON s.oid = ft.ftserver
WHERE c.relkind = 'f'
  AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid OR i.inhparent = c.oid)
  AND n.nspname <> ALL ($1::text[])
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
