-- Table constraints a table declares itself (not those a partition inherits):
-- primary key, unique, foreign key, check and exclusion constraints.
-- $1: schema names to leave out (text[]).
SELECT
    n.nspname AS "schema",
    c.relname AS "table",
    k.conname AS "name",
    k.contype AS "kind",
    CASE WHEN k.convalidated THEN pg_get_constraintdef(k.oid)
                       ELSE regexp_replace(pg_get_constraintdef(k.oid), ' NOT VALID$', '') END AS "definition",
    k.convalidated AS "validated",
    k.condeferrable AS "deferrable",
    CASE WHEN k.contype = 'f' THEN (
        SELECT json_build_object('schema', rn.nspname, 'name', rc.relname)
        FROM pg_class rc JOIN pg_namespace rn ON rn.oid = rc.relnamespace
        WHERE rc.oid = k.confrelid) END AS "references",
    ds.description AS "comment",
    -- For pre-flight checks: key columns, a foreign key's referenced columns, and NULLS
    -- NOT DISTINCT (PostgreSQL 15+) of the backing index. (A check's expression is taken
    -- from its definition: `rows::kinds::check_expression`.)
    -- (a single column looked up by itself: the aggregate's subquery, with its sort, for
    -- each of thousands of constraints was a third of this query)
    CASE WHEN k.conkey IS NULL THEN NULL
                 WHEN cardinality(k.conkey) = 1 THEN json_build_array((
                     SELECT quote_ident(a.attname) FROM pg_attribute a
                     WHERE a.attrelid = k.conrelid AND a.attnum = k.conkey[1]))
                 ELSE (SELECT json_agg(quote_ident(a.attname) ORDER BY u.ord)
                       FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
                       JOIN pg_attribute a ON a.attrelid = k.conrelid
                                          AND a.attnum = u.attnum) END AS "keys",
    CASE WHEN k.confkey IS NULL THEN NULL
                 WHEN cardinality(k.confkey) = 1 THEN json_build_array((
                     SELECT quote_ident(a.attname) FROM pg_attribute a
                     WHERE a.attrelid = k.confrelid AND a.attnum = k.confkey[1]))
                 ELSE (SELECT json_agg(quote_ident(a.attname) ORDER BY u.ord)
                       FROM unnest(k.confkey) WITH ORDINALITY u(attnum, ord)
                       JOIN pg_attribute a ON a.attrelid = k.confrelid
                                          AND a.attnum = u.attnum) END AS "referenced_keys",
    k.contype = 'f' AND k.confmatchtype = 'f' AS "match_full",
    k.conindid <> 0 AND coalesce((
             SELECT (to_jsonb(ix) ->> 'indnullsnotdistinct')::boolean
             FROM pg_index ix WHERE ix.indexrelid = k.conindid), false) AS "nulls_not_distinct"
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
-- A join, not obj_description(): a SQL function called once per row costs more than the
-- rest of the row.
LEFT JOIN pg_description ds ON ds.objoid = k.oid AND ds.classoid = 'pg_constraint'::regclass
                           AND ds.objsubid = 0
WHERE k.contype IN ('p', 'u', 'f', 'c', 'x')
  AND c.relkind IN ('r', 'p')
  AND k.conislocal
  AND k.conparentid = 0
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
