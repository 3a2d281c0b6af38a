-- Shadow databases and loader roles strata runs create, with nobody connected: candidates
-- for cleanup when the run that made them is gone.
SELECT 'database', d.datname::text
FROM pg_database d
WHERE d.datname LIKE 'strata\_shadow\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datid = d.oid)
UNION ALL
SELECT 'role', r.rolname::text
FROM pg_roles r
WHERE r.rolname LIKE 'strata\_loader\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.usesysid = r.oid)
  AND NOT EXISTS (SELECT 1 FROM pg_database d WHERE d.datdba = r.oid)
