-- Publications (logical replication): what they publish, their tables (in the schemas
-- strata reads), and whether they have row filters or column lists (PostgreSQL 15+),
-- which strata does not manage.
-- $1: schema names to leave out (text[]).
SELECT json_build_object(
    'name', p.pubname,
    'all_tables', p.puballtables,
    'insert', p.pubinsert, 'update', p.pubupdate, 'delete', p.pubdelete,
    'truncate', p.pubtruncate,
    'via_root', coalesce((to_jsonb(p) ->> 'pubviaroot')::boolean, false),
    'tables', (
        SELECT coalesce(json_agg(json_build_object('schema', n.nspname, 'name', c.relname)
                                  ORDER BY n.nspname, c.relname), '[]')
        FROM pg_publication_rel r
        JOIN pg_class c ON c.oid = r.prrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE r.prpubid = p.oid),
    'filtered', EXISTS (
        SELECT 1 FROM pg_publication_rel r
        WHERE r.prpubid = p.oid
          AND (to_jsonb(r) ->> 'prqual' IS NOT NULL OR to_jsonb(r) ->> 'prattrs' IS NOT NULL))
        OR EXISTS (
        SELECT 1 FROM pg_depend d
        WHERE d.classid = to_regclass('pg_catalog.pg_publication_namespace')
          AND d.refclassid = 'pg_publication'::regclass AND d.refobjid = p.oid),
    'comment', obj_description(p.oid, 'pg_publication')
)
FROM pg_publication p
WHERE $1::text[] IS NOT NULL
