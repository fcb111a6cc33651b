-- User triggers on relations in scope. Hasura's event triggers (notify_hasura_<name>_<OP>) come
-- from metadata, not migrations, and are left out.
SELECT coalesce(json_agg(json_build_object(
  'schema', n.nspname,
  'table', c.relname,
  'name', t.tgname,
  'definition', regexp_replace(pg_get_triggerdef(t.oid),
                               '^CREATE (CONSTRAINT )?TRIGGER .*? (BEFORE|AFTER|INSTEAD OF) ',
                               'CREATE \1TRIGGER \2 '),
  'enabled', t.tgenabled,
  'function', t.tgfoid::regprocedure::text,
  'comment', d.description
)), '[]')
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_description d ON d.objoid = t.oid AND d.classoid = 'pg_trigger'::regclass AND d.objsubid = 0
WHERE NOT t.tgisinternal
  AND t.tgparentid = 0  -- clones on partitions follow their parent's trigger
  AND t.tgname NOT LIKE 'notify\_hasura\_%'
  AND $SCOPE(n.nspname)
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
