-- Standalone indexes (not those backing a primary key, unique or exclusion constraint: the
-- constraint covers them), with the definition minus the index's own name.
SELECT coalesce(json_agg(json_build_object(
  'schema', n.nspname,
  'table', t.relname,
  'name', ic.relname,
  'definition', pg_get_indexdef(i.indexrelid),
  'quoted_table', quote_ident(n.nspname) || '.' || quote_ident(t.relname),
  'quoted_name', quote_ident(ic.relname),
  'unique', i.indisunique,
  'method', am.amname,
  'predicate', pg_get_expr(i.indpred, i.indrelid),
  'valid', i.indisvalid,
  'oid', i.indexrelid
)), '[]')
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = ic.relam
WHERE $SCOPE(n.nspname)
  AND t.relkind IN ('r', 'p', 'm', 'f')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                  WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))
  AND NOT EXISTS (SELECT 1 FROM pg_inherits inh WHERE inh.inhrelid = i.indexrelid)  -- partition copies
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = t.oid AND e.deptype = 'e')
