-- Who is building the index $1.$2 (a CREATE INDEX CONCURRENTLY in progress), if anyone.
SELECT format('pid %s (user %s, application %s, %s since %s)',
              a.pid, a.usename, nullif(a.application_name, ''), p.phase,
              date_trunc('second', a.query_start))
FROM pg_stat_progress_create_index p
JOIN pg_stat_activity a ON a.pid = p.pid
JOIN pg_class c ON c.oid = p.index_relid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2
LIMIT 1
