-- Views and materialized views: definition, options, output columns, comments.
-- $1: schema names to leave out (text[]).
SELECT
    n.nspname AS "schema",
    c.relname AS "name",
    c.relkind = 'm' AS "materialized",
    c.relkind = 'm' AND NOT c.relispopulated AS "unpopulated",
    rtrim(pg_get_viewdef(c.oid), '; ' || chr(10)) AS "definition",
    coalesce(to_json(c.reloptions), '[]') AS "options",
    (
        SELECT coalesce(json_agg(json_build_object(
            'name', a.attname, 'data_type', format_type(a.atttypid, a.atttypmod))
            ORDER BY a.attnum), '[]')
        FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS "columns",
    (
        SELECT coalesce(json_object_agg(a.attname, d.description), '{}')
        FROM pg_attribute a
        JOIN pg_description d ON d.objoid = c.oid AND d.classoid = 'pg_class'::regclass
                             AND d.objsubid = a.attnum
        WHERE a.attrelid = c.oid AND a.attnum > 0) AS "column_comments",
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
WHERE c.relkind IN ('v', 'm')
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
