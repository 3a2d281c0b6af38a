-- Aggregate functions, with their CREATE AGGREGATE options as SQL, in the order the
-- statement takes them (options at their default are left out).
-- $1: schema names to leave out (text[]).
SELECT json_build_object(
    'schema', n.nspname,
    'name', p.proname,
    'args', pg_get_function_identity_arguments(p.oid),
    'kind', a.aggkind,
    'options', (
        SELECT coalesce(json_agg(json_build_array(o.key, o.value) ORDER BY o.ord), '[]')
        FROM (VALUES
            (1, 'sfunc', a.aggtransfn::regproc::text),
            (2, 'stype', format_type(a.aggtranstype, NULL)),
            (3, 'sspace', nullif(a.aggtransspace, 0)::text),
            (4, 'finalfunc', CASE WHEN a.aggfinalfn <> 0 THEN a.aggfinalfn::regproc::text END),
            (5, 'finalfunc_extra', CASE WHEN a.aggfinalextra THEN 'true' END),
            (6, 'finalfunc_modify', CASE WHEN a.aggfinalfn <> 0 AND a.aggfinalmodify <> 'r'
                                         THEN CASE a.aggfinalmodify WHEN 's' THEN 'shareable'
                                                   ELSE 'read_write' END END),
            (7, 'combinefunc', CASE WHEN a.aggcombinefn <> 0 THEN a.aggcombinefn::regproc::text END),
            (8, 'serialfunc', CASE WHEN a.aggserialfn <> 0 THEN a.aggserialfn::regproc::text END),
            (9, 'deserialfunc', CASE WHEN a.aggdeserialfn <> 0 THEN a.aggdeserialfn::regproc::text END),
            (10, 'initcond', quote_literal(a.agginitval)),
            (11, 'msfunc', CASE WHEN a.aggmtransfn <> 0 THEN a.aggmtransfn::regproc::text END),
            (12, 'minvfunc', CASE WHEN a.aggminvtransfn <> 0 THEN a.aggminvtransfn::regproc::text END),
            (13, 'mstype', CASE WHEN a.aggmtranstype <> 0 THEN format_type(a.aggmtranstype, NULL) END),
            (14, 'msspace', nullif(a.aggmtransspace, 0)::text),
            (15, 'mfinalfunc', CASE WHEN a.aggmfinalfn <> 0 THEN a.aggmfinalfn::regproc::text END),
            (16, 'mfinalfunc_extra', CASE WHEN a.aggmfinalextra THEN 'true' END),
            (17, 'minitcond', quote_literal(a.aggminitval)),
            (18, 'sortop', CASE WHEN a.aggsortop <> 0 THEN (
                SELECT 'OPERATOR(' || quote_ident(on_.nspname) || '.' || o.oprname || ')'
                FROM pg_operator o JOIN pg_namespace on_ ON on_.oid = o.oprnamespace
                WHERE o.oid = a.aggsortop) END),
            (19, 'parallel', CASE p.proparallel WHEN 's' THEN 'safe' WHEN 'r' THEN 'restricted' END)
        ) AS o(ord, key, value)
        WHERE o.value IS NOT NULL),
    'comment', obj_description(p.oid, 'pg_proc'),
    'grants', (
        SELECT coalesce(json_agg(json_build_object(
            'grantee', CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END,
            'privilege', x.privilege_type,
            'grantable', x.is_grantable)), '[]')
        FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x
        WHERE x.grantee <> p.proowner)
)
FROM pg_aggregate a
JOIN pg_proc p ON p.oid = a.aggfnoid
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname <> ALL ($1::text[])
  AND n.nspname NOT LIKE 'pg\_%'
  AND n.nspname <> 'information_schema'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
