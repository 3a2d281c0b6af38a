-- What the backend $1 is waiting for, and who holds it: one line, or no row when it waits
-- for nothing.
SELECT format('%s lock on %s, held by %s',
              l.mode,
              CASE WHEN c.oid IS NOT NULL
                   THEN format('relation %s', quote_ident(n.nspname) || '.' || quote_ident(c.relname))
                   ELSE l.locktype END,
              coalesce((
                  SELECT string_agg(format('pid %s (user %s, application %s, %s: %s)',
                                           a.pid, a.usename, nullif(a.application_name, ''),
                                           a.state, left(regexp_replace(a.query, '\s+', ' ', 'g'), 80)),
                                    '; ')
                  FROM pg_stat_activity a
                  WHERE a.pid = ANY (pg_blocking_pids($1))), 'an unknown session'))
FROM pg_locks l
LEFT JOIN pg_class c ON c.oid = l.relation
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE l.pid = $1 AND NOT l.granted
LIMIT 1
