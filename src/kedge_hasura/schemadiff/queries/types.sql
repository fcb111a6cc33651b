-- Enum, domain, standalone composite and range types in scope, except extension members.
SELECT coalesce(json_agg(json_build_object(
  'schema', n.nspname,
  'name', t.typname,
  'kind', t.typtype,
  'labels', CASE WHEN t.typtype = 'e' THEN
        (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) END,
  'base_type', CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,
  'default', CASE WHEN t.typtype = 'd' THEN pg_get_expr(t.typdefaultbin, 0) END,
  'not_null', t.typnotnull,
  'checks', CASE WHEN t.typtype = 'd' THEN
        (SELECT json_agg(con.conname || ': ' || pg_get_constraintdef(con.oid) ORDER BY con.conname)
         FROM pg_constraint con WHERE con.contypid = t.oid AND con.contype = 'c') END,
  'collation', CASE WHEN t.typcollation <> 0 AND t.typtype = 'd' AND t.typcollation <>
                         (SELECT bt.typcollation FROM pg_type bt WHERE bt.oid = t.typbasetype) THEN
        (SELECT cn.nspname || '.' || quote_ident(co.collname)
         FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation) END,
  'attributes', CASE WHEN t.typtype = 'c' THEN
        (SELECT json_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
                         || CASE WHEN a.attcollation <> at.typcollation AND a.attcollation <> 0
                                 THEN ' COLLATE ' || (SELECT cn.nspname || '.' || quote_ident(co.collname)
                                                      FROM pg_collation co
                                                      JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                                      WHERE co.oid = a.attcollation)
                                 ELSE '' END
                         ORDER BY a.attnum)
         FROM pg_attribute a JOIN pg_type at ON at.oid = a.atttypid
         WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END,
  'subtype', CASE WHEN t.typtype = 'r' THEN
        (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) END,
  'owner', pg_get_userbyid(t.typowner),
  'oid', t.oid,
  'acl', coalesce(t.typacl, acldefault('T', t.typowner))
)), '[]')
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype IN ('e', 'd', 'c', 'r')
  AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
  AND $SCOPE(n.nspname)
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')
