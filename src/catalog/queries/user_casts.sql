-- Casts made after the database was created (not an extension's, not the one a range type
-- makes to its multirange): how they convert and in which contexts.
SELECT json_build_object(
    'source', format_type(c.castsource, NULL),
    'target', format_type(c.casttarget, NULL),
    'method', CASE c.castmethod WHEN 'f' THEN 'WITH FUNCTION ' || c.castfunc::regprocedure::text
                                WHEN 'b' THEN 'WITHOUT FUNCTION'
                                ELSE 'WITH INOUT' END,
    'context', CASE c.castcontext WHEN 'a' THEN 'assignment' WHEN 'i' THEN 'implicit'
                                  ELSE 'explicit' END,
    'comment', obj_description(c.oid, 'pg_cast')
)
FROM pg_cast c
WHERE c.oid >= 16384
  AND NOT EXISTS (SELECT 1 FROM pg_range r
                  WHERE r.rngtypid = c.castsource AND r.rngmultitypid = c.casttarget)
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_cast'::regclass AND d.objid = c.oid AND d.deptype = 'e')
