-- Columns of tables: type, collation, default, identity (with its sequence), generation.
-- A column a partition or an inheriting table has from a parent (inherited, even when the
-- table also declares it) is marked `inherited`, with the default and NOT NULL of the
-- first parent that has it: the reader keeps only what the table sets differently.
-- $1: schema names to leave out (text[]).
SELECT
    n.nspname AS "schema",
    c.relname AS "table",
    a.attname AS "name",
    a.attnum AS "position",
    format_type(a.atttypid, a.atttypmod) AS "type",
    CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0 THEN (
        SELECT json_build_object('schema', cn.nspname, 'name', co.collname)
        FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
        WHERE co.oid = a.attcollation) END AS "collation",
    a.attnotnull AS "not_null",
    -- A default that reads no column (no Var node: the usual case) is deparsed without its
    -- table, which the server would otherwise open (building its relation cache entry) for
    -- every table with a default.
    CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, CASE
        WHEN strpos(ad.adbin::text, '{VAR ') = 0 THEN 0 ELSE ad.adrelid END) END AS "default",
    CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS "generated",
    CASE WHEN a.attidentity <> '' THEN (
        SELECT json_build_object(
            'always', a.attidentity = 'a',
            'sequence', json_build_object('schema', sn.nspname, 'name', sc.relname),
            'options', json_build_object(
                'data_type', format_type(s.seqtypid, NULL),
                'start', s.seqstart, 'increment', s.seqincrement,
                'min', s.seqmin, 'max', s.seqmax, 'cache', s.seqcache, 'cycle', s.seqcycle))
        FROM pg_depend d
        JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S'
        JOIN pg_namespace sn ON sn.oid = sc.relnamespace
        JOIN pg_sequence s ON s.seqrelid = sc.oid
        WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
          AND d.refobjid = c.oid AND d.refobjsubid = a.attnum AND d.deptype = 'i'
        LIMIT 1) END AS "identity",
    a.attinhcount > 0 AS "inherited",
    a.attislocal AS "local",
    CASE WHEN a.attinhcount > 0 THEN (
        SELECT json_build_object('default', pg_get_expr(pd.adbin, pd.adrelid),
                                  'not_null', pa.attnotnull)
        FROM pg_inherits i
        JOIN pg_attribute pa ON pa.attrelid = i.inhparent AND pa.attname = a.attname
                            AND NOT pa.attisdropped
        LEFT JOIN pg_attrdef pd ON pd.adrelid = pa.attrelid AND pd.adnum = pa.attnum
        WHERE i.inhrelid = c.oid
        ORDER BY i.inhseqno
        LIMIT 1) END AS "parent",
    ds.description AS "comment",
    CASE WHEN a.attacl IS NULL THEN '[]'::json ELSE (
        SELECT coalesce(json_agg(json_build_object(
            'grantee', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END,
            'privilege', x.privilege_type,
            'grantable', x.is_grantable)), '[]')
        FROM aclexplode(a.attacl) x
        WHERE x.grantee <> c.relowner) END AS "grants"
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
-- A join, not col_description(): a SQL function called once per column costs more than
-- the rest of the row (so does the grant list's subquery, run only where there are grants).
LEFT JOIN pg_description ds ON ds.objoid = c.oid AND ds.classoid = 'pg_class'::regclass
                           AND ds.objsubid = a.attnum
WHERE c.relkind IN ('r', 'p')
  AND a.attnum > 0
  AND NOT a.attisdropped
  AND n.nspname <> ALL ($1::text[])
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
