-- The server's version, to record what a catalog was read from.
SELECT current_setting('server_version_num')::int4
