-- Every object in the schemas strata reads, and every object of the database that no
-- schema holds, whatever its kind: the reader checks that its model has each one, and
-- names those it does not (a kind strata does not manage) instead of leaving them unseen.
-- Objects of extensions are the extension's. Parts that come with their whole (a
-- constraint's index, an identity's sequence, a table's row type, array types, what a
-- partition inherits) are left out. Settings strata does not model are listed as objects
-- of kind 'setting'.
-- $1: schema names to leave out (text[]).
WITH ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname <> ALL ($1::text[])
      AND n.nspname NOT LIKE 'pg\_%'
      AND n.nspname <> 'information_schema'
), ext AS (
    -- (by pg_extension, which an extension member's dependency always names, so that the
    -- server can take them from pg_depend's index on what is referenced)
    SELECT d.classid, d.objid FROM pg_depend d
    WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
), rel AS (
    -- (the columns read below only: every column of pg_class, kept for each of tens of
    -- thousands of relations, was a fifth of this query at 5,000 tables)
    SELECT c.oid, c.relkind, c.relname, c.relispartition, c.reloftype, c.reltablespace,
           c.relam, c.reltoastrelid, ns.nspname
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_class'::regclass
                                         AND ext.objid = c.oid)
)
SELECT kind, schema, name, on_table AS "on", args
FROM (
    SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' WHEN 'v' THEN 'view'
                          WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
                          WHEN 'c' THEN 'composite type' WHEN 'f' THEN 'foreign table'
                          WHEN 'i' THEN 'index' WHEN 'I' THEN 'index'
                          ELSE 'relation' END AS kind,
           -- (text: the union's columns take the first branch's types, and `name` would cut
           -- a cast's or a setting's longer text to 63 bytes)
           c.nspname::text AS schema, c.relname::text AS name, NULL::text AS on_table,
           NULL::text AS args
    FROM rel c
    WHERE c.relkind <> 't'
      AND NOT (c.relkind IN ('i', 'I') AND (
              c.relispartition
              OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid
                                                       AND k.contype IN ('p', 'u', 'x'))
              OR EXISTS (SELECT 1 FROM pg_index i JOIN ext ON ext.classid = 'pg_class'::regclass
                                                         AND ext.objid = i.indrelid
                         WHERE i.indexrelid = c.oid)))
      AND NOT (c.relkind = 'S' AND EXISTS (
              SELECT 1 FROM pg_depend d
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i'))
    UNION ALL
    -- Types that are not a relation's row type, an array type, or a range's multirange.
    SELECT CASE t.typtype WHEN 'd' THEN 'domain' WHEN 'e' THEN 'enum type'
                          WHEN 'r' THEN 'range type' WHEN 'm' THEN 'multirange type'
                          WHEN 'b' THEN 'base type' WHEN 'p' THEN 'shell type'
                          ELSE 'type' END,
           ns.nspname, t.typname, NULL, NULL
    FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
    WHERE t.typtype <> 'c'
      AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_type'::regclass
                                         AND ext.objid = t.oid)
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                        AND d.deptype = 'i' AND d.refclassid = 'pg_type'::regclass)
    UNION ALL
    -- Functions, procedures, aggregates, window functions (not a range's constructors).
    SELECT CASE p.prokind WHEN 'a' THEN 'aggregate' WHEN 'w' THEN 'window function'
                          WHEN 'p' THEN 'procedure' ELSE 'function' END,
           ns.nspname, p.proname, NULL, pg_get_function_identity_arguments(p.oid)
    FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_proc'::regclass
                                         AND ext.objid = p.oid)
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                        AND d.deptype = 'i' AND d.refclassid = 'pg_type'::regclass)
    UNION ALL
    -- Constraints a table declares itself (foreign tables are reported themselves).
    SELECT 'constraint', c.nspname, k.conname, c.relname, NULL
    FROM pg_constraint k JOIN rel c ON c.oid = k.conrelid
    WHERE k.contype IN ('p', 'u', 'f', 'c', 'x') AND k.conislocal AND k.conparentid = 0
      AND c.relkind IN ('r', 'p')
    UNION ALL
    SELECT 'trigger', c.nspname, t.tgname, c.relname, NULL
    FROM pg_trigger t JOIN rel c ON c.oid = t.tgrelid
    WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
    UNION ALL
    SELECT 'rule', c.nspname, r.rulename, c.relname, NULL
    FROM pg_rewrite r JOIN rel c ON c.oid = r.ev_class
    WHERE r.rulename <> '_RETURN'
    UNION ALL
    SELECT 'policy', c.nspname, p.polname, c.relname, NULL
    FROM pg_policy p JOIN rel c ON c.oid = p.polrelid
    UNION ALL
    SELECT 'statistics', ns.nspname, s.stxname, NULL, NULL
    FROM pg_statistic_ext s JOIN ns ON ns.oid = s.stxnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_statistic_ext'::regclass
                                         AND ext.objid = s.oid)
    UNION ALL
    SELECT 'collation', ns.nspname, co.collname, NULL, NULL
    FROM pg_collation co JOIN ns ON ns.oid = co.collnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_collation'::regclass
                                         AND ext.objid = co.oid)
    UNION ALL
    SELECT CASE WHEN o.oprcode = 0 THEN 'shell operator' ELSE 'operator' END,
           ns.nspname, o.oprname, NULL,
           coalesce(format_type(nullif(o.oprleft, 0), NULL), 'NONE') || ', '
               || coalesce(format_type(nullif(o.oprright, 0), NULL), 'NONE')
    FROM pg_operator o JOIN ns ON ns.oid = o.oprnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_operator'::regclass
                                         AND ext.objid = o.oid)
    UNION ALL
    SELECT 'operator class', ns.nspname, oc.opcname, NULL, NULL
    FROM pg_opclass oc JOIN ns ON ns.oid = oc.opcnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_opclass'::regclass
                                         AND ext.objid = oc.oid)
    UNION ALL
    SELECT 'operator family', ns.nspname, f.opfname, NULL, NULL
    FROM pg_opfamily f JOIN ns ON ns.oid = f.opfnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_opfamily'::regclass
                                         AND ext.objid = f.oid)
      AND NOT EXISTS (SELECT 1 FROM pg_opclass oc
                      WHERE oc.opcfamily = f.oid AND oc.opcname = f.opfname
                        AND oc.opcnamespace = f.opfnamespace)
    UNION ALL
    SELECT 'conversion', ns.nspname, cv.conname, NULL, NULL
    FROM pg_conversion cv JOIN ns ON ns.oid = cv.connamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_conversion'::regclass
                                         AND ext.objid = cv.oid)
    UNION ALL
    SELECT 'text search configuration', ns.nspname, x.cfgname, NULL, NULL
    FROM pg_ts_config x JOIN ns ON ns.oid = x.cfgnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_config'::regclass
                                         AND ext.objid = x.oid)
    UNION ALL
    SELECT 'text search dictionary', ns.nspname, x.dictname, NULL, NULL
    FROM pg_ts_dict x JOIN ns ON ns.oid = x.dictnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_dict'::regclass
                                         AND ext.objid = x.oid)
    UNION ALL
    SELECT 'text search parser', ns.nspname, x.prsname, NULL, NULL
    FROM pg_ts_parser x JOIN ns ON ns.oid = x.prsnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_parser'::regclass
                                         AND ext.objid = x.oid)
    UNION ALL
    SELECT 'text search template', ns.nspname, x.tmplname, NULL, NULL
    FROM pg_ts_template x JOIN ns ON ns.oid = x.tmplnamespace
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_ts_template'::regclass
                                         AND ext.objid = x.oid)
    UNION ALL
    -- Objects of the database that no schema holds (made after initdb, not an extension's).
    SELECT 'cast', NULL, format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL),
           NULL, NULL
    FROM pg_cast c
    WHERE c.oid >= 16384
      -- the cast a range type makes to its multirange
      AND NOT EXISTS (SELECT 1 FROM pg_range r
                      WHERE r.rngtypid = c.castsource AND r.rngmultitypid = c.casttarget)
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_cast'::regclass
                                         AND ext.objid = c.oid)
    UNION ALL
    SELECT 'foreign-data wrapper', NULL, w.fdwname, NULL, NULL
    FROM pg_foreign_data_wrapper w
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_foreign_data_wrapper'::regclass
                                         AND ext.objid = w.oid)
    UNION ALL
    SELECT 'foreign server', NULL, s.srvname, NULL, NULL
    FROM pg_foreign_server s
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_foreign_server'::regclass
                                         AND ext.objid = s.oid)
    UNION ALL
    SELECT 'publication', NULL, p.pubname, NULL, NULL FROM pg_publication p
    UNION ALL
    SELECT 'event trigger', NULL, e.evtname, NULL, NULL
    FROM pg_event_trigger e
    WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_event_trigger'::regclass
                                         AND ext.objid = e.oid)
    UNION ALL
    SELECT 'default privileges', dn.nspname,
           coalesce(CASE WHEN a.defaclrole <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
                         THEN pg_get_userbyid(a.defaclrole) END, '') || '|'
               || coalesce(dn.nspname, '') || '|'
               || CASE a.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences'
                                       WHEN 'f' THEN 'functions' WHEN 'T' THEN 'types'
                                       WHEN 'n' THEN 'schemas' ELSE a.defaclobjtype::text END,
           NULL, NULL
    FROM pg_default_acl a LEFT JOIN pg_namespace dn ON dn.oid = a.defaclnamespace
    WHERE a.defaclnamespace = 0 OR dn.oid IN (SELECT oid FROM ns)
    UNION ALL
    SELECT 'language', NULL, l.lanname, NULL, NULL
    FROM pg_language l
    WHERE l.oid >= 16384
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_language'::regclass
                                         AND ext.objid = l.oid)
    UNION ALL
    SELECT 'access method', NULL, am.amname, NULL, NULL
    FROM pg_am am
    WHERE am.oid >= 16384
      AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.classid = 'pg_am'::regclass
                                         AND ext.objid = am.oid)
    UNION ALL
    -- Settings strata does not model, on tables, columns and indexes it does (each kind
    -- read in one pass: a list of them made for each relation in turn, looking its columns
    -- and index up one relation at a time, was half of this query at 5,000 tables).
    SELECT 'setting', c.nspname, 'typed table (OF ' || format_type(c.reloftype, NULL) || ')',
           c.relname, NULL
    FROM rel c WHERE c.reloftype <> 0
    UNION ALL
    SELECT 'setting', c.nspname, 'tablespace ' || ts.spcname, c.relname, NULL
    FROM rel c LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace
    WHERE c.reltablespace <> 0
    UNION ALL
    SELECT 'setting', c.nspname, 'table access method ' || am.amname, c.relname, NULL
    FROM rel c JOIN pg_am am ON am.oid = c.relam
    WHERE c.relkind IN ('r', 'm') AND am.amname <> 'heap'
    UNION ALL
    SELECT 'setting', c.nspname, 'TOAST storage options ' || array_to_string(t.reloptions, ', '),
           c.relname, NULL
    FROM rel c JOIN pg_class t ON t.oid = c.reltoastrelid
    WHERE t.reloptions IS NOT NULL
    UNION ALL
    SELECT 'setting', c.nspname, 'CLUSTER ON ' || quote_ident(ic.relname), c.relname, NULL
    FROM pg_index i
    JOIN rel c ON c.oid = i.indrelid
    JOIN pg_class ic ON ic.oid = i.indexrelid
    WHERE i.indisclustered
    UNION ALL
    SELECT 'setting', c.nspname, 'column ' || quote_ident(a.attname) || ' ' || x.what,
           c.relname, NULL
    -- (the columns with a setting found in one pass before they meet their relations, with
    -- the TOAST tables' chunk_data, whose storage differs from its type's, which then meet
    -- none: every column of every relation, looked up and sorted to be filtered, was a
    -- ninth of this query at 5,000 tables)
    FROM (
        SELECT a.attrelid, a.attname, a.attstattarget, a.attoptions, a.attstorage,
               a.attcompression, ty.typstorage
        FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
        WHERE a.attnum > 0 AND NOT a.attisdropped
          AND (coalesce(a.attstattarget, -1) >= 0 OR a.attoptions IS NOT NULL
               OR a.attstorage <> ty.typstorage OR a.attcompression IN ('p', 'l'))
        OFFSET 0) a
    JOIN rel c ON c.oid = a.attrelid
    CROSS JOIN LATERAL (
        SELECT 'SET STATISTICS ' || a.attstattarget AS what
        WHERE coalesce(a.attstattarget, -1) >= 0
        UNION ALL
        SELECT 'SET (' || array_to_string(a.attoptions, ', ') || ')'
        WHERE a.attoptions IS NOT NULL
        UNION ALL
        SELECT 'SET STORAGE ' || CASE a.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL'
                                                   WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END
        WHERE a.attstorage <> a.typstorage
        UNION ALL
        SELECT 'SET COMPRESSION ' || CASE a.attcompression WHEN 'p' THEN 'pglz'
                                                           WHEN 'l' THEN 'lz4' END
        WHERE a.attcompression IN ('p', 'l')
    ) x
    WHERE c.relkind IN ('r', 'p', 'm')
) o
