-- The connecting role's attributes and the predefined roles it belongs to that reach
-- outside its database: superuser, CREATEROLE, CREATEDB, and membership in
-- pg_execute_server_program, pg_read_server_files, pg_write_server_files,
-- pg_signal_backend, pg_read_all_data, pg_write_all_data (as far as the major has them).
SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb,
       ARRAY(SELECT p.rolname::text FROM pg_roles p
             WHERE p.rolname IN ('pg_execute_server_program', 'pg_read_server_files',
                                 'pg_write_server_files', 'pg_signal_backend',
                                 'pg_read_all_data', 'pg_write_all_data')
               AND pg_has_role(r.oid, p.oid, 'MEMBER')
             ORDER BY 1)
FROM pg_roles r
WHERE r.rolname = current_user
