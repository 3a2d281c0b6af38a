-- User triggers on tables and views (not internal ones, not clones a partition gets from
-- its parent).
-- $1: schema names to leave out (text[]).
SELECT
    n.nspname AS "schema",
    c.relname AS "table",
    t.tgname AS "name",
    pg_get_triggerdef(t.oid) AS "definition",
    t.tgenabled AS "enabled",
    obj_description(t.oid, 'pg_trigger') AS "comment"
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal
  AND t.tgparentid = 0
  AND c.relkind IN ('r', 'p', 'v')
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
