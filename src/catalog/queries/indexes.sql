-- Indexes of tables and materialized views that are not the per-partition children of a
-- partitioned index. An index that backs a primary key, unique or exclusion constraint
-- names it in `constraint`: its definition is the constraint's, not an index of its own.
-- The definition is pg_get_indexdef after "ON <table> ", so that it can be written out
-- under any name.
--
-- `heads` writes "USING <method> (<keys>) INCLUDE (<columns>)" from the catalog where
-- pg_get_indexdef would write nothing but names and orderings: every key a plain column
-- with no options, its own collation, and the operator class PostgreSQL picks by default
-- for the column's type (GetDefaultOpClass: the access method's default class for the type,
-- else the one default class, of a preferred type of the same category, the type converts
-- to without a function implicitly; domains and polymorphic classes are left to the
-- server), DESC and NULLS only for btree, no storage options. Anything else is NULL and the
-- server's pg_get_indexdef writes it, which scans every operator class of the access method
-- for each key: at 2,000 tables that was most of this query. `tests/it/catalog.rs` checks
-- both give the same text on a range of indexes.
-- $1: schema names to leave out (text[]).
WITH heads AS (
    SELECT kc.indexrelid,
           CASE WHEN bool_and(kc.ok IS TRUE) THEN
               'USING ' || quote_ident(min(kc.amname)) || ' ('
               || string_agg(kc.key || CASE WHEN kc.n = kc.indnatts THEN ')'
                                            WHEN kc.n = kc.indnkeyatts THEN ') INCLUDE ('
                                            ELSE ', ' END, '' ORDER BY kc.n) END AS head
    FROM (
        SELECT ki.indexrelid, ki.n, ki.indnkeyatts, ki.indnatts, am.amname,
               quote_ident(a.attname)
               || CASE WHEN ki.n > ki.indnkeyatts THEN ''
                       WHEN ki.opt & 1 = 1
                       THEN ' DESC' || CASE WHEN ki.opt & 2 = 0 THEN ' NULLS LAST' ELSE '' END
                       WHEN ki.opt & 2 = 2 THEN ' NULLS FIRST' ELSE '' END AS key,
               a.attname IS NOT NULL AND ic.reloptions IS NULL AND (ki.n > ki.indnkeyatts OR (
                   ia.attrelid IS NULL
                   AND (ki.coll = 0 OR ki.coll = a.attcollation)
                   AND (ki.opt = 0 OR am.amname = 'btree')
                   AND coalesce(d.opc = ki.opc, false))) AS ok
        FROM (SELECT i.indexrelid, i.indrelid, i.indnkeyatts, i.indnatts, k.n, i.indkey[k.n - 1] AS attnum,
                     i.indclass[k.n - 1] AS opc, i.indcollation[k.n - 1] AS coll,
                     i.indoption[k.n - 1] AS opt
              FROM pg_index i, generate_series(1, i.indnatts) k(n)) ki
        JOIN pg_class ic ON ic.oid = ki.indexrelid
        -- (the system's and TOAST indexes are not read: a third of them at 2,000 tables)
        JOIN pg_namespace inn ON inn.oid = ic.relnamespace
                             AND inn.nspname NOT LIKE 'pg\_%'
                             AND inn.nspname <> 'information_schema'
        JOIN pg_am am ON am.oid = ic.relam
        LEFT JOIN LATERAL (
            SELECT attname, atttypid, attcollation FROM pg_attribute
            WHERE attrelid = ki.indrelid AND attnum = ki.attnum AND ki.attnum <> 0 OFFSET 0) a ON true
        -- (an index with a key's operator class options, from one pass over the columns:
        -- the index's own column of each key, joined, made `heads` take 119 ms instead of
        -- 69 under EXPLAIN ANALYZE at 2,000 tables, one run each; only keys have such
        -- options: INCLUDE columns take no operator class, index columns no SET (...))
        LEFT JOIN (SELECT DISTINCT attrelid FROM pg_attribute WHERE attoptions IS NOT NULL) ia
               ON ia.attrelid = ki.indexrelid
        -- (the key's type joined, where a lookup for each key was a sixth of this query)
        LEFT JOIN pg_type at ON at.oid = a.atttypid
        LEFT JOIN pg_opclass oc ON oc.oid = ki.opc
        -- the class GetDefaultOpClass returns for an access method and a type that is not
        -- a domain, where it returns one strata can tell
        LEFT JOIN (
            SELECT opcmethod AS am, opcintype AS typ, oid AS opc FROM pg_opclass WHERE opcdefault
            UNION ALL
            SELECT x.opcmethod, cs.castsource, min(x.oid)
            FROM pg_cast cs
            JOIN pg_opclass x ON x.opcintype = cs.casttarget AND x.opcdefault
            JOIN pg_type st ON st.oid = cs.castsource
            JOIN pg_type xt ON xt.oid = x.opcintype
            WHERE cs.castmethod = 'b' AND cs.castcontext = 'i'
              AND st.typcategory = xt.typcategory AND xt.typispreferred
              AND st.typcategory <> 'P'
              AND NOT EXISTS (SELECT 1 FROM pg_opclass e
                              WHERE e.opcmethod = x.opcmethod AND e.opcdefault
                                AND e.opcintype = cs.castsource)
            GROUP BY x.opcmethod, cs.castsource
            HAVING count(*) = 1
        ) d ON d.am = oc.opcmethod AND d.typ = a.atttypid
           AND at.typtype <> 'd'
    ) kc
    GROUP BY kc.indexrelid
)
SELECT
    n.nspname AS "schema",
    ic.relname AS "name",
    json_build_object('schema', n.nspname, 'name', tc.relname) AS "table",
    k.conname AS "constraint",
    i.indisunique AS "unique",
    i.indisvalid AS "valid",
    coalesce(
        h.head || CASE WHEN p.nulls_not_distinct THEN ' NULLS NOT DISTINCT' ELSE '' END
               || coalesce(' WHERE ' || p.predicate, ''),
        CASE
            WHEN starts_with(d.def, d.prefix) THEN substr(d.def, length(d.prefix) + 1)
            WHEN starts_with(d.def, d.only_prefix) THEN substr(d.def, length(d.only_prefix) + 1)
        END) AS "definition",
    d.def AS "raw_definition",
    ds.description AS "comment",
    -- For pre-flight checks of unique indexes: each key column or expression, the
    -- predicate, NULLS NOT DISTINCT (PostgreSQL 15+).
    -- A key's own COLLATE (which pg_get_indexdef(oid, k, ...) leaves out) is kept: under a
    -- nondeterministic collation, values that differ in bytes can be duplicates.
    CASE WHEN i.indisunique AND k.conname IS NULL THEN (
        -- (a plain column's key is its quoted name, which pg_get_indexdef(oid, k, ...)
        -- takes the index's relation to find)
        SELECT json_agg(CASE WHEN a.attnum IS NOT NULL THEN quote_ident(a.attname)
                              ELSE pg_get_indexdef(i.indexrelid, k, false) END
                         || CASE WHEN coll.oid IS NULL THEN ''
                                 ELSE ' COLLATE ' || quote_ident(cn.nspname) || '.'
                                      || quote_ident(coll.collname) END
                         ORDER BY k)
        FROM generate_series(1, i.indnkeyatts) k
        -- (each key's column looked up, where a join hashed all the table's columns for
        -- each index)
        LEFT JOIN LATERAL (
            SELECT attnum, attname, attcollation FROM pg_attribute
            WHERE attrelid = i.indrelid AND attnum = i.indkey[k - 1] AND i.indkey[k - 1] <> 0
            OFFSET 0) a ON true
        LEFT JOIN pg_collation coll
          ON coll.oid = i.indcollation[k - 1] AND coll.oid <> 100
             AND coll.oid IS DISTINCT FROM a.attcollation
        LEFT JOIN pg_namespace cn ON cn.oid = coll.collnamespace) END AS "keys",
    p.predicate AS "predicate",
    p.nulls_not_distinct AS "nulls_not_distinct"
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class tc ON tc.oid = i.indrelid
JOIN pg_namespace n ON n.oid = tc.relnamespace
LEFT JOIN pg_constraint k ON k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                         AND k.contype IN ('p', 'u', 'x')
LEFT JOIN heads h ON h.indexrelid = i.indexrelid
-- A join, not obj_description() (a SQL function called once per row).
LEFT JOIN pg_description ds ON ds.objoid = ic.oid AND ds.classoid = 'pg_class'::regclass
                           AND ds.objsubid = 0
CROSS JOIN LATERAL (
    SELECT pg_get_expr(i.indpred, i.indrelid) AS predicate,
           coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) AS nulls_not_distinct
) p
CROSS JOIN LATERAL (
    SELECT CASE WHEN h.head IS NULL THEN pg_get_indexdef(i.indexrelid) END AS def,
           'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
             || quote_ident(ic.relname) || ' ON '
             || quote_ident(n.nspname) || '.' || quote_ident(tc.relname) || ' ' AS prefix,
           'CREATE ' || CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
             || quote_ident(ic.relname) || ' ON ONLY '
             || quote_ident(n.nspname) || '.' || quote_ident(tc.relname) || ' ' AS only_prefix
) d
WHERE tc.relkind IN ('r', 'p', 'm')
  -- (a partition's index attached to its parent's is the parent's, but one that backs a
  -- constraint of the partition's own is that constraint's)
  AND (NOT ic.relispartition OR (k.conparentid = 0 AND k.conislocal))
  AND n.nspname <> ALL ($1::text[])
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  -- (not an extension's: its members listed once and looked up by hash, where a
  -- probe of pg_depend for each row cost 8-20% of this query, and of four like it, at
  -- 5,000 tables; an extension member's dependency always names pg_extension)
  AND tc.oid NOT IN (
      SELECT e.objid FROM pg_depend e
      WHERE e.refclassid = 'pg_extension'::regclass AND e.classid = 'pg_class'::regclass
        AND e.deptype = 'e')
