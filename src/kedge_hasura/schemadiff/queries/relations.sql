-- Tables, partitioned tables, foreign tables, views and materialized views in scope.
SELECT coalesce(json_agg(json_build_object(
  'schema', n.nspname,
  'name', c.relname,
  'relkind', c.relkind,
  'persistence', c.relpersistence,
  'rls_enabled', c.relrowsecurity,
  'rls_forced', c.relforcerowsecurity,
  'options', c.reloptions,
  'partition_key', CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END,
  'partition_bound', CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END,
  'inherits', (SELECT json_agg(pn.nspname || '.' || pc.relname ORDER BY i.inhseqno)
               FROM pg_inherits i
               JOIN pg_class pc ON pc.oid = i.inhparent
               JOIN pg_namespace pn ON pn.oid = pc.relnamespace
               WHERE i.inhrelid = c.oid),
  'replica_identity', c.relreplident,
  'access_method', am.amname,
  'populated', c.relispopulated,
  'definition', CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
  'owner', pg_get_userbyid(c.relowner),
  'oid', c.oid,
  'acl', coalesce(c.relacl, acldefault('r', c.relowner))
)), '[]')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm')
  AND $SCOPE(n.nspname)
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
