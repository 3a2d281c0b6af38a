-- The foreign-data wrappers an extension (by name) brings.
SELECT w.fdwname::text
FROM pg_foreign_data_wrapper w
JOIN pg_depend d ON d.classid = 'pg_foreign_data_wrapper'::regclass
                AND d.objid = w.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid
WHERE e.extname = $1
