-- Row-level security policies on tables in scope.
SELECT coalesce(json_agg(json_build_object(
  'schema', n.nspname,
  'table', c.relname,
  'name', p.polname,
  'command', p.polcmd,
  'permissive', p.polpermissive,
  'roles', (SELECT json_agg(role ORDER BY role)
            FROM (SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r)::text END AS role
                  FROM unnest(p.polroles) r) roles),
  'using', pg_get_expr(p.polqual, p.polrelid),
  'with_check', pg_get_expr(p.polwithcheck, p.polrelid),
  'oid', p.oid
)), '[]')
FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE $SCOPE(n.nspname)
