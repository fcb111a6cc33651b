-- User triggers on relations in scope. Hasura's event triggers (notify_hasura_<name>_<OP>) come
-- from metadata, not migrations, and are left out.
SELECT coalesce(json_agg(json_build_object(
  'schema', n.nspname,
  'table', c.relname,
  'name', t.tgname,
  'definition', pg_get_triggerdef(t.oid),
  'quoted_table', quote_ident(n.nspname) || '.' || quote_ident(c.relname),
  'quoted_name', quote_ident(t.tgname),
  'enabled', t.tgenabled,
  'function', t.tgfoid::regprocedure::text,
  'oid', t.oid
)), '[]')
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal
  AND t.tgparentid = 0  -- clones on partitions follow their parent's trigger
  AND t.tgname NOT LIKE 'notify\_hasura\_%'
  AND $SCOPE(n.nspname)
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
