-- Indexes of tables and materialized views that no constraint owns and that are not the
-- per-partition children of a partitioned index. The definition is pg_get_indexdef after
-- "ON <table> ", so that it can be written out under any name.
-- $1: schema names to leave out (text[]).
SELECT jsonb_build_object(
    'schema', n.nspname,
    'name', ic.relname,
    'table', jsonb_build_object('schema', n.nspname, 'name', tc.relname),
    'unique', i.indisunique,
    'valid', i.indisvalid,
    'definition', CASE
        WHEN starts_with(d.def, d.prefix) THEN substr(d.def, length(d.prefix) + 1)
        WHEN starts_with(d.def, d.only_prefix) THEN substr(d.def, length(d.only_prefix) + 1)
    END,
    'raw_definition', d.def,
    'comment', ds.description,
    -- For pre-flight checks of unique indexes: each key column or expression, the
    -- predicate, NULLS NOT DISTINCT (PostgreSQL 15+).
    -- A key's own COLLATE (which pg_get_indexdef(oid, k, ...) leaves out) is kept: under a
    -- nondeterministic collation, values that differ in bytes can be duplicates.
    'keys', CASE WHEN i.indisunique THEN (
        -- (a plain column's key is its quoted name, which pg_get_indexdef(oid, k, ...)
        -- takes the index's relation to find)
        SELECT jsonb_agg(CASE WHEN a.attnum IS NOT NULL THEN quote_ident(a.attname)
                              ELSE pg_get_indexdef(i.indexrelid, k, false) END
                         || CASE WHEN coll.oid IS NULL THEN ''
                                 ELSE ' COLLATE ' || quote_ident(cn.nspname) || '.'
                                      || quote_ident(coll.collname) END
                         ORDER BY k)
        FROM generate_series(1, i.indnkeyatts) k
        LEFT JOIN pg_attribute a
          ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1] AND i.indkey[k - 1] <> 0
        LEFT JOIN pg_collation coll
          ON coll.oid = i.indcollation[k - 1] AND coll.oid <> 100
             AND coll.oid IS DISTINCT FROM a.attcollation
        LEFT JOIN pg_namespace cn ON cn.oid = coll.collnamespace) END,
    'predicate', pg_get_expr(i.indpred, i.indrelid),
    'nulls_not_distinct', coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false)
)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class tc ON tc.oid = i.indrelid
JOIN pg_namespace n ON n.oid = tc.relnamespace
-- A join, not obj_description() (a SQL function called once per row).
LEFT JOIN pg_description ds ON ds.objoid = ic.oid AND ds.classoid = 'pg_class'::regclass
                           AND ds.objsubid = 0
CROSS JOIN LATERAL (
    SELECT pg_get_indexdef(i.indexrelid) AS def,
           'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
             || quote_ident(ic.relname) || ' ON '
             || quote_ident(n.nspname) || '.' || quote_ident(tc.relname) || ' ' AS prefix,
           'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
             || quote_ident(ic.relname) || ' ON ONLY '
             || quote_ident(n.nspname) || '.' || quote_ident(tc.relname) || ' ' AS only_prefix
) d
WHERE tc.relkind IN ('r', 'p', 'm')
  AND NOT ic.relispartition
  AND NOT EXISTS (
      SELECT 1 FROM pg_constraint k
      WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
  AND n.nspname <> ALL ($1::text[])
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend e
      WHERE e.classid = 'pg_class'::regclass AND e.objid = tc.oid AND e.deptype = 'e')
