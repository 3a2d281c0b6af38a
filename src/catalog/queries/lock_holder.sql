-- Who holds the advisory lock with the given two halves of its key, in this database: its
-- pid, and who it is.
SELECT a.pid, format('pid %s (user %s, application %s, connected since %s)',
              a.pid, a.usename, nullif(a.application_name, ''), date_trunc('second', a.backend_start))
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.classid::bigint = $1 AND l.objid::bigint = $2
  AND l.objsubid = 1 AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
LIMIT 1
