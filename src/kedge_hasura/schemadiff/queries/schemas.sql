-- Schemas in scope, except those an extension owns.
SELECT coalesce(json_agg(json_build_object(
  'name', n.nspname,
  'owner', pg_get_userbyid(n.nspowner),
  'oid', n.oid,
  'acl', coalesce(n.nspacl, acldefault('n', n.nspowner))
)), '[]')
FROM pg_namespace n
WHERE $SCOPE(n.nspname)
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_namespace'::regclass AND e.objid = n.oid AND e.deptype = 'e')
