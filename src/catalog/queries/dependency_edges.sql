-- Every pg_depend row that orders two objects (normal, automatic and internal), by the
-- catalog addresses of its ends: `dependency_objects.sql` names them.
SELECT classid, objid, objsubid, refclassid, refobjid, refobjsubid
FROM pg_depend
WHERE deptype IN ('n', 'a', 'i')
