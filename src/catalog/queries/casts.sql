-- The casts the server knows (source and target type as format_type prints them), so that
-- the planner can tell at plan time that a column's type change has no cast.
SELECT json_build_array(format_type(c.castsource, NULL), format_type(c.casttarget, NULL))
FROM pg_cast c
