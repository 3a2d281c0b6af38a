-- Statements of earlier strata runs still running on this database: sessions tagged as
-- strata work sessions ($2) that are not idle, other than this run's own ($1). (Another
-- role's sessions show no state without pg_read_all_stats: this role could not end them.)
SELECT a.pid,
       format('pid %s (user %s, application %s, %s since %s: %s)',
              a.pid, a.usename, a.application_name, a.state,
              date_trunc('second', coalesce(a.query_start, a.backend_start)),
              left(regexp_replace(a.query, '\s+', ' ', 'g'), 80))
FROM pg_stat_activity a
WHERE a.datname = current_database()
  AND a.pid <> pg_backend_pid() AND a.pid <> ALL ($1::int4[])
  AND a.application_name LIKE '%' || $2
  AND a.state <> 'idle'
ORDER BY a.pid
