-- The named roles' attributes and their membership in predefined roles that reach outside
-- a database (as role_privileges.sql, for roles other than the connecting one).
-- $1: role names (text[]).
SELECT r.rolname::text,
       r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls
       OR EXISTS (SELECT 1 FROM pg_roles p
                  WHERE p.rolname IN ('pg_execute_server_program', 'pg_read_server_files',
                                      'pg_write_server_files', 'pg_signal_backend',
                                      'pg_read_all_data', 'pg_write_all_data')
                    AND pg_has_role(r.oid, p.oid, 'MEMBER'))
FROM pg_roles r
WHERE r.rolname = ANY ($1::text[])
