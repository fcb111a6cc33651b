-- Functions, procedures, aggregates and window functions in scope, except extension members.
-- SQL-standard bodies (BEGIN ATOMIC, PostgreSQL 14+) have an empty prosrc: use their deparsed form.
SELECT coalesce(json_agg(json_build_object(
  'schema', n.nspname,
  'name', p.proname,
  'identity_arguments', pg_get_function_identity_arguments(p.oid),
  'kind', p.prokind,
  'result', pg_get_function_result(p.oid),
  'arguments', pg_get_function_arguments(p.oid),
  'language', l.lanname,
  'body', CASE WHEN p.prokind = 'a' THEN ''
               WHEN p.prosrc = '' AND l.lanname = 'sql' THEN pg_get_functiondef(p.oid)
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
                  WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
