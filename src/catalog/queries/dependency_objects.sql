-- Every object a pg_depend row can name that strata models, by its catalog address
-- (classid, objid, objsubid), named the way the model names it: kind, schema, name, sub.
-- Parts of an object map to the object (a view's rewrite rule to the view, a column of a
-- view to the view, an array type to its element type, a table's row type to the table, a
-- constraint's index to the constraint), and anything an extension created maps to the
-- extension. `dependency_edges.sql` reads the pg_depend rows; `catalog::dependencies`
-- joins the two.
-- $1: schema names to leave out (text[]).
WITH ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname <> ALL ($1::text[])
      AND n.nspname NOT LIKE 'pg\_%'
      AND n.nspname <> 'information_schema'
),
rel AS (
    SELECT c.oid, c.relkind, ns.nspname, c.relname,
           CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table'
                          WHEN 'v' THEN 'view' WHEN 'm' THEN 'view'
                          WHEN 'S' THEN 'sequence' WHEN 'c' THEN 'type'
                          WHEN 'i' THEN 'index' WHEN 'I' THEN 'index'
                          WHEN 'f' THEN 'foreign table' END AS kind
    FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'c', 'i', 'I', 'f')
),
objs (classid, objid, objsubid, kind, schema, name, sub) AS (
    -- relations; an index that backs a constraint is the constraint
    SELECT 'pg_class'::regclass::oid, r.oid, 0,
           coalesce(CASE WHEN k.oid IS NOT NULL THEN 'constraint' END, r.kind),
           r.nspname,
           coalesce(kr.relname, r.relname),
           k.conname::text
    FROM rel r
    LEFT JOIN pg_constraint k ON k.conindid = r.oid AND k.contype IN ('p', 'u', 'x')
                              AND r.relkind IN ('i', 'I')
    LEFT JOIN pg_class kr ON kr.oid = k.conrelid
    UNION ALL
    -- columns of tables are columns; columns of views, composite types and foreign tables
    -- are the object
    SELECT 'pg_class'::regclass::oid, r.oid, a.attnum,
           CASE WHEN r.relkind IN ('r', 'p') THEN 'column' ELSE r.kind END,
           r.nspname, r.relname,
           CASE WHEN r.relkind IN ('r', 'p') THEN a.attname::text END
    FROM rel r
    JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE r.relkind IN ('r', 'p', 'v', 'm', 'c', 'f')
    UNION ALL
    -- types: arrays are their element type, row types their relation, a multirange its
    -- range
    SELECT 'pg_type'::regclass::oid, t.oid, 0,
           coalesce(r.kind, 'type'), ns.nspname, coalesce(r.relname, et.typname), NULL
    FROM pg_type t
    JOIN pg_type et ON et.oid = CASE
        WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem
        WHEN t.typtype = 'm' THEN (SELECT rg.rngtypid FROM pg_range rg
                                   WHERE (to_jsonb(rg) ->> 'rngmultitypid')::oid = t.oid)
        ELSE t.oid END
    JOIN ns ON ns.oid = et.typnamespace
    LEFT JOIN rel r ON r.oid = et.typrelid
    UNION ALL
    SELECT 'pg_proc'::regclass::oid, p.oid, 0, 'function', ns.nspname, p.proname,
           pg_get_function_identity_arguments(p.oid)
    FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
    WHERE p.prokind IN ('f', 'p')
      AND NOT EXISTS (SELECT 1 FROM pg_depend i
                      WHERE i.classid = 'pg_proc'::regclass AND i.objid = p.oid
                        AND i.deptype = 'i' AND i.refclassid = 'pg_type'::regclass)
    UNION ALL
    -- a range type's constructors are the type
    SELECT 'pg_proc'::regclass::oid, p.oid, 0, 'type', tn.nspname, t.typname, NULL
    FROM pg_proc p
    JOIN pg_depend i ON i.classid = 'pg_proc'::regclass AND i.objid = p.oid
                    AND i.deptype = 'i' AND i.refclassid = 'pg_type'::regclass
    JOIN pg_type t ON t.oid = CASE WHEN (SELECT typtype FROM pg_type WHERE oid = i.refobjid) = 'm'
                                   THEN (SELECT rg.rngtypid FROM pg_range rg
                                         WHERE (to_jsonb(rg) ->> 'rngmultitypid')::oid = i.refobjid)
                                   ELSE i.refobjid END
    JOIN ns tn ON tn.oid = t.typnamespace
    UNION ALL
    -- constraints of tables, and of domains (which are the domain)
    -- (a foreign table's checks are the foreign table)
    SELECT 'pg_constraint'::regclass::oid, k.oid, 0,
           CASE WHEN c.relkind = 'f' THEN 'foreign table'
                WHEN k.conrelid <> 0 THEN 'constraint' ELSE 'type' END,
           ns.nspname,
           CASE WHEN k.conrelid <> 0 THEN c.relname ELSE t.typname END,
           CASE WHEN k.conrelid <> 0 AND c.relkind <> 'f' THEN k.conname::text END
    FROM pg_constraint k
    LEFT JOIN pg_class c ON c.oid = k.conrelid
    LEFT JOIN pg_type t ON t.oid = k.contypid
    JOIN ns ON ns.oid = coalesce(c.relnamespace, t.typnamespace)
    UNION ALL
    SELECT 'pg_trigger'::regclass::oid, tg.oid, 0, 'trigger', r.nspname, r.relname,
           tg.tgname::text
    FROM pg_trigger tg JOIN rel r ON r.oid = tg.tgrelid
    WHERE NOT tg.tgisinternal
    UNION ALL
    SELECT 'pg_policy'::regclass::oid, p.oid, 0, 'policy', r.nspname, r.relname,
           p.polname::text
    FROM pg_policy p JOIN rel r ON r.oid = p.polrelid
    UNION ALL
    -- a default is the column's default; a generation expression is the column itself
    SELECT 'pg_attrdef'::regclass::oid, ad.oid, 0,
           CASE WHEN a.attgenerated <> '' THEN 'column' ELSE 'column_default' END,
           r.nspname, r.relname, a.attname::text
    FROM pg_attrdef ad
    JOIN rel r ON r.oid = ad.adrelid
    JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
    UNION ALL
    -- a view's _RETURN rule is the view; other rules are rules
    SELECT 'pg_rewrite'::regclass::oid, rw.oid, 0,
           CASE WHEN rw.rulename = '_RETURN' THEN r.kind ELSE 'rule' END,
           r.nspname, r.relname,
           CASE WHEN rw.rulename = '_RETURN' THEN NULL ELSE rw.rulename::text END
    FROM pg_rewrite rw JOIN rel r ON r.oid = rw.ev_class
    UNION ALL
    SELECT 'pg_namespace'::regclass::oid, ns.oid, 0, 'schema', NULL, ns.nspname, NULL
    FROM ns
    UNION ALL
    SELECT 'pg_collation'::regclass::oid, co.oid, 0, 'collation', ns.nspname, co.collname, NULL
    FROM pg_collation co JOIN ns ON ns.oid = co.collnamespace
    UNION ALL
    SELECT 'pg_statistic_ext'::regclass::oid, s.oid, 0, 'statistics', ns.nspname, s.stxname, NULL
    FROM pg_statistic_ext s JOIN ns ON ns.oid = s.stxnamespace
    UNION ALL
    SELECT 'pg_proc'::regclass::oid, p.oid, 0, 'aggregate', ns.nspname, p.proname,
           pg_get_function_identity_arguments(p.oid)
    FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
    WHERE p.prokind = 'a'
    UNION ALL
    SELECT 'pg_operator'::regclass::oid, o.oid, 0, 'operator', ns.nspname, o.oprname,
           coalesce(format_type(nullif(o.oprleft, 0), NULL), 'NONE') || ', '
               || coalesce(format_type(nullif(o.oprright, 0), NULL), 'NONE')
    FROM pg_operator o JOIN ns ON ns.oid = o.oprnamespace
    UNION ALL
    SELECT 'pg_cast'::regclass::oid, c.oid, 0, 'cast', NULL,
           format_type(c.castsource, NULL) || ' AS ' || format_type(c.casttarget, NULL), NULL
    FROM pg_cast c WHERE c.oid >= 16384
    UNION ALL
    SELECT 'pg_extension'::regclass::oid, e.oid, 0, 'extension', NULL, e.extname, NULL
    FROM pg_extension e
    UNION ALL
    SELECT 'pg_foreign_server'::regclass::oid, s.oid, 0, 'foreign server', NULL, s.srvname, NULL
    FROM pg_foreign_server s
    UNION ALL
    -- members of an extension in catalogs not listed above (operator classes, operators)
    SELECT m.classid, m.objid, 0, 'extension', NULL, e.extname, NULL
    FROM pg_depend m JOIN pg_extension e ON e.oid = m.refobjid
    WHERE m.refclassid = 'pg_extension'::regclass AND m.deptype = 'e'
      AND m.classid NOT IN ('pg_class'::regclass, 'pg_type'::regclass, 'pg_proc'::regclass)
)
-- whatever an extension created is the extension
SELECT o.classid::oid AS classid, o.objid::oid AS objid, o.objsubid::int4 AS objsubid,
       CASE WHEN e.extname IS NULL THEN o.kind ELSE 'extension' END AS kind,
       CASE WHEN e.extname IS NULL THEN o.schema::text END AS schema,
       coalesce(e.extname, o.name)::text AS name,
       CASE WHEN e.extname IS NULL THEN o.sub END AS sub
FROM objs o
LEFT JOIN pg_depend m ON m.classid = o.classid AND m.objid = o.objid
                     AND m.refclassid = 'pg_extension'::regclass AND m.deptype = 'e'
LEFT JOIN pg_extension e ON e.oid = m.refobjid
