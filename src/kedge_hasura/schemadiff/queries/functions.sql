-- Functions, procedures, aggregates and window functions in scope, except extension members and
-- functions a type owns (a range type's constructors: pg_depend deptype 'i').
-- SQL-standard bodies (BEGIN ATOMIC, PostgreSQL 14+) have an empty prosrc: their deparsed body is
-- pg_get_function_sqlbody (pg_get_functiondef would repeat every attribute). An aggregate's
-- "body" is its definition from pg_aggregate.
SELECT coalesce(json_agg(json_build_object(
  'schema', n.nspname,
  'name', p.proname,
  'identity_arguments', pg_get_function_identity_arguments(p.oid),
  'kind', p.prokind,
  'result', pg_get_function_result(p.oid),
  'arguments', pg_get_function_arguments(p.oid),
  'language', l.lanname,
  'body', CASE WHEN p.prokind = 'a' THEN
                    (SELECT format('sfunc=%s stype=%s initcond=%s finalfunc=%s combinefunc=%s '
                                   'msfunc=%s minvfunc=%s mstype=%s sortop=%s kind=%s',
                                   ag.aggtransfn::regprocedure, format_type(ag.aggtranstype, NULL),
                                   coalesce(quote_literal(ag.agginitval), 'none'),
                                   nullif(ag.aggfinalfn::oid, 0)::regprocedure,
                                   nullif(ag.aggcombinefn::oid, 0)::regprocedure,
                                   nullif(ag.aggmtransfn::oid, 0)::regprocedure,
                                   nullif(ag.aggminvtransfn::oid, 0)::regprocedure,
                                   format_type(nullif(ag.aggmtranstype, 0), NULL),
                                   nullif(ag.aggsortop, 0)::regoperator, ag.aggkind)
                     FROM pg_aggregate ag WHERE ag.aggfnoid = p.oid)
               WHEN p.prosrc = '' AND l.lanname = 'sql' THEN pg_get_function_sqlbody(p.oid)
               ELSE p.prosrc END,
  'volatility', p.provolatile,
  'strict', p.proisstrict,
  'security_definer', p.prosecdef,
  'leakproof', p.proleakproof,
  'parallel', p.proparallel,
  'cost', p.procost,
  'rows', p.prorows,
  'config', p.proconfig,
  'owner', pg_get_userbyid(p.proowner),
  'oid', p.oid,
  'acl', coalesce(p.proacl, acldefault('f', p.proowner))
)), '[]')
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE $SCOPE(n.nspname)
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype IN ('e', 'i'))
