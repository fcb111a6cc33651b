-- Every sequence's position in scope (identity and serial sequences included), as
-- "schema.name" → last value; null when nextval was never called (is_called false).
SELECT coalesce(json_object_agg(n.nspname || '.' || c.relname, pg_sequence_last_value(c.oid)), '{}')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'S'
  AND $SCOPE(n.nspname)
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
