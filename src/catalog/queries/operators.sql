-- Operators (not the shells a COMMUTATOR or NEGATOR leaves before it is defined), with the
-- options of their CREATE OPERATOR.
-- $1: schema names to leave out (text[]).
SELECT json_build_object(
    'schema', n.nspname,
    'name', o.oprname,
    'args', coalesce(format_type(nullif(o.oprleft, 0), NULL), 'NONE') || ', '
            || coalesce(format_type(nullif(o.oprright, 0), NULL), 'NONE'),
    'options', concat_ws(', ',
        'FUNCTION = ' || o.oprcode::regproc::text,
        CASE WHEN o.oprleft <> 0 THEN 'LEFTARG = ' || format_type(o.oprleft, NULL) END,
        CASE WHEN o.oprright <> 0 THEN 'RIGHTARG = ' || format_type(o.oprright, NULL) END,
        (SELECT 'COMMUTATOR = OPERATOR(' || quote_ident(cn.nspname) || '.' || c.oprname || ')'
         FROM pg_operator c JOIN pg_namespace cn ON cn.oid = c.oprnamespace
         WHERE c.oid = o.oprcom),
        (SELECT 'NEGATOR = OPERATOR(' || quote_ident(cn.nspname) || '.' || c.oprname || ')'
         FROM pg_operator c JOIN pg_namespace cn ON cn.oid = c.oprnamespace
         WHERE c.oid = o.oprnegate),
        CASE WHEN o.oprrest <> 0 THEN 'RESTRICT = ' || o.oprrest::regproc::text END,
        CASE WHEN o.oprjoin <> 0 THEN 'JOIN = ' || o.oprjoin::regproc::text END,
        CASE WHEN o.oprcanhash THEN 'HASHES' END,
        CASE WHEN o.oprcanmerge THEN 'MERGES' END),
    'comment', obj_description(o.oid, 'pg_operator')
)
FROM pg_operator o
JOIN pg_namespace n ON n.oid = o.oprnamespace
WHERE o.oprcode <> 0
  AND n.nspname <> ALL ($1::text[])
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_operator'::regclass AND d.objid = o.oid AND d.deptype = 'e')
