-- Schemas in scope, except those an extension owns.
SELECT coalesce(json_agg(json_build_object(
  'name', n.nspname,
  'owner', pg_get_userbyid(n.nspowner),
  'comment', d.description,
  'grants', (SELECT json_agg(json_build_array(
                CASE WHEN a.grantee = 0 THEN 'PUBLIC' WHEN a.grantee = n.nspowner THEN 'OWNER'
                     ELSE pg_get_userbyid(a.grantee) END, a.privilege_type, a.is_grantable))
             FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a)
)), '[]')
FROM pg_namespace n
LEFT JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass AND d.objsubid = 0
WHERE $SCOPE(n.nspname)
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid AND e.deptype = 'e')
