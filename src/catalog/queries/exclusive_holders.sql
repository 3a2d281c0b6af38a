-- The sessions of this database holding ACCESS EXCLUSIVE on a relation (the only lock a
-- read of definitions or rows waits for), other than this one: one line, or NULL.
SELECT string_agg(DISTINCT format('pid %s (user %s, application %s, %s, query started %s: %s) holding ACCESS EXCLUSIVE on %s',
                                  a.pid, a.usename, nullif(a.application_name, ''), a.state,
                                  date_trunc('second', a.query_start),
                                  left(regexp_replace(a.query, '\s+', ' ', 'g'), 80),
                                  quote_ident(n.nspname) || '.' || quote_ident(c.relname)),
                  '; ')
FROM pg_locks l
JOIN pg_stat_activity a ON a.pid = l.pid
JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.granted
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.pid <> pg_backend_pid()
