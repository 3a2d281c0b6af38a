-- Enums (labels in order), domains (base, default, NOT NULL, checks) and composite types.
-- $1: schema names to leave out (text[]).
SELECT json_build_object(
    'schema', n.nspname,
    'name', t.typname,
    'kind', t.typtype,
    'labels', CASE WHEN t.typtype = 'e' THEN (
        SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder)
        FROM pg_enum e WHERE e.enumtypid = t.oid) END,
    'base', CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
    'collation', CASE WHEN t.typtype = 'd' AND t.typcollation <> 0
                       AND t.typcollation <> bt.typcollation THEN (
        SELECT json_build_object('schema', cn.nspname, 'name', co.collname)
        FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
        WHERE co.oid = t.typcollation) END,
    'default', CASE WHEN t.typtype = 'd' THEN pg_get_expr(t.typdefaultbin, 0) END,
    'not_null', t.typnotnull,
    'checks', CASE WHEN t.typtype = 'd' THEN (
        SELECT coalesce(json_object_agg(k.conname, json_build_object(
            'definition', regexp_replace(pg_get_constraintdef(k.oid), ' NOT VALID$', ''),
            'validated', k.convalidated)), '{}')
        FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c') END,
    'attributes', CASE WHEN t.typtype = 'c' THEN (
        SELECT coalesce(json_agg(json_build_object(
            'name', a.attname,
            'data_type', format_type(a.atttypid, a.atttypmod),
            'collation', CASE WHEN a.attcollation <> at.typcollation AND a.attcollation <> 0 THEN (
                SELECT json_build_object('schema', cn.nspname, 'name', co.collname)
                FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                WHERE co.oid = a.attcollation) END) ORDER BY a.attnum), '[]')
        FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
        WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END,
    'range', CASE WHEN t.typtype = 'r' THEN (
        SELECT json_build_object(
            'subtype', format_type(r.rngsubtype, NULL),
            'subtype_opclass', CASE WHEN NOT oc.opcdefault THEN
                quote_ident(ocn.nspname) || '.' || quote_ident(oc.opcname) END,
            'collation', CASE WHEN r.rngcollation <> 0
                               AND r.rngcollation <> st.typcollation THEN (
                SELECT json_build_object('schema', cn.nspname, 'name', co.collname)
                FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                WHERE co.oid = r.rngcollation) END,
            'canonical', CASE WHEN r.rngcanonical <> 0 THEN r.rngcanonical::regproc::text END,
            'subtype_diff', CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END,
            'multirange', (
                SELECT json_build_object('schema', mn.nspname, 'name', mt.typname)
                FROM pg_type mt JOIN pg_namespace mn ON mn.oid = mt.typnamespace
                WHERE mt.oid = (to_jsonb(r) ->> 'rngmultitypid')::oid))
        FROM pg_range r
        JOIN pg_type st ON st.oid = r.rngsubtype
        JOIN pg_opclass oc ON oc.oid = r.rngsubopc
        JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace
        WHERE r.rngtypid = t.oid) END,
    'comment', obj_description(t.oid, 'pg_type'),
    'grants', (
        SELECT coalesce(json_agg(json_build_object(
            'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
            'privilege', a.privilege_type,
            'grantable', a.is_grantable)), '[]')
        FROM aclexplode(coalesce(t.typacl, acldefault('T', t.typowner))) a
        WHERE a.grantee <> t.typowner)
)
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
WHERE (t.typtype IN ('e', 'd', 'r')
       OR (t.typtype = 'c' AND EXISTS (
           SELECT 1 FROM pg_class r WHERE r.oid = t.typrelid AND r.relkind = 'c')))
  AND n.nspname <> ALL ($1::text[])
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
