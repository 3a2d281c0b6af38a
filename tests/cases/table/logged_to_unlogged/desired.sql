CREATE UNLOGGED TABLE sessions_cache (k text PRIMARY KEY, v jsonb);
