-- The comment of a schema (by name); no row or NULL when it has none or does not exist.
SELECT obj_description(to_regnamespace($1), 'pg_namespace')
