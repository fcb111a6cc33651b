-- Every extension (they are database-wide); their member objects are excluded from all other kinds.
SELECT coalesce(json_agg(json_build_object(
  'name', e.extname,
  'schema', n.nspname,
  'version', e.extversion
)), '[]')
FROM pg_extension e
JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname <> 'plpgsql'
