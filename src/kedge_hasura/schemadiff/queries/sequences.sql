-- Sequences, except identity sequences (compared as their column's identity options).
SELECT coalesce(json_agg(json_build_object(
  'schema', n.nspname,
  'name', c.relname,
  'data_type', format_type(s.seqtypid, NULL),
  'start', s.seqstart,
  'increment', s.seqincrement,
  'min_value', s.seqmin,
  'max_value', s.seqmax,
  'cache', s.seqcache,
  'cycle', s.seqcycle,
  'owned_by', (SELECT tn.nspname || '.' || tc.relname || '.' || ta.attname
               FROM pg_depend dep
               JOIN pg_class tc ON tc.oid = dep.refobjid
               JOIN pg_namespace tn ON tn.oid = tc.relnamespace
               JOIN pg_attribute ta ON ta.attrelid = dep.refobjid AND ta.attnum = dep.refobjsubid
               WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid AND dep.deptype = 'a'
                 AND dep.refclassid = 'pg_class'::regclass LIMIT 1),
  'owner', pg_get_userbyid(c.relowner),
  'oid', c.oid,
  'acl', coalesce(c.relacl, acldefault('s', c.relowner))
)), '[]')
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE $SCOPE(n.nspname)
  AND NOT EXISTS (SELECT 1 FROM pg_depend dep
                  WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid AND dep.deptype IN ('i', 'e'))
