-- Who is building the index $1.$2 (a CREATE INDEX CONCURRENTLY in progress), if anyone:
-- a session with a CREATE INDEX in progress that holds SHARE UPDATE EXCLUSIVE on the
-- index's table and builds this index (or one this role cannot see: another role's).
SELECT format('pid %s (user %s, application %s, %s since %s)',
              a.pid, a.usename, nullif(a.application_name, ''), p.phase,
              date_trunc('second', a.query_start))
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_index i ON i.indexrelid = c.oid
JOIN pg_locks l ON l.locktype = 'relation' AND l.relation = i.indrelid
               AND l.mode = 'ShareUpdateExclusiveLock' AND l.granted
JOIN pg_stat_progress_create_index p ON p.pid = l.pid
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE n.nspname = $1 AND c.relname = $2 AND l.pid <> pg_backend_pid()
  AND (p.index_relid = c.oid OR p.index_relid IS NULL OR p.index_relid = 0)
LIMIT 1
