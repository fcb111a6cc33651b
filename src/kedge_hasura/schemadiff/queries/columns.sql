-- Columns of every relation in scope, with their position among live columns.
-- A serial column's default names its owned sequence; the sequence name is replaced by a
-- placeholder so that a renamed sequence is reported once (as the sequence), not twice.
SELECT coalesce(json_agg(col.j), '[]') FROM (
SELECT json_build_object(
  'schema', n.nspname,
  'table', c.relname,
  'relkind', c.relkind,
  'name', a.attname,
  'position', row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum),
  'type', format_type(a.atttypid, a.atttypmod),
  'not_null', a.attnotnull,
  'default', CASE WHEN s.seqoid IS NOT NULL
                  THEN replace(pg_get_expr(ad.adbin, ad.adrelid),
                               quote_literal(s.seqoid::regclass::text) || '::regclass', '<owned sequence>')
                  ELSE pg_get_expr(ad.adbin, ad.adrelid) END,
  'identity', a.attidentity,
  'identity_options', CASE WHEN a.attidentity <> '' THEN
        (SELECT format('%s start %s increment %s min %s max %s cache %s%s',
                       format_type(sq.seqtypid, NULL), sq.seqstart, sq.seqincrement, sq.seqmin, sq.seqmax,
                       sq.seqcache, CASE WHEN sq.seqcycle THEN ' cycle' ELSE '' END)
         FROM pg_depend dep JOIN pg_sequence sq ON sq.seqrelid = dep.objid
         WHERE dep.refclassid = 'pg_class'::regclass AND dep.refobjid = a.attrelid
           AND dep.refobjsubid = a.attnum AND dep.deptype = 'i'
           AND dep.classid = 'pg_class'::regclass LIMIT 1) END,
  'generated', a.attgenerated,
  'collation', CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0 THEN
        (SELECT cn.nspname || '.' || quote_ident(co.collname)
         FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,
  'comment', d.description,
  'grants', CASE WHEN a.attacl IS NOT NULL THEN
        (SELECT json_agg(json_build_array(
            CASE WHEN x.grantee = 0 THEN 'PUBLIC' WHEN x.grantee = c.relowner THEN 'OWNER'
                 ELSE pg_get_userbyid(x.grantee) END, x.privilege_type, x.is_grantable))
         FROM aclexplode(a.attacl) x) END
) AS j
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_description d ON d.objoid = a.attrelid AND d.classoid = 'pg_class'::regclass AND d.objsubid = a.attnum
LEFT JOIN LATERAL (
    SELECT dep.objid AS seqoid FROM pg_depend dep
    WHERE dep.refclassid = 'pg_class'::regclass AND dep.refobjid = a.attrelid
      AND dep.refobjsubid = a.attnum AND dep.deptype = 'a'
      AND dep.classid = 'pg_class'::regclass
      AND (SELECT relkind FROM pg_class WHERE oid = dep.objid) = 'S'
    LIMIT 1
) s ON ad.adbin IS NOT NULL
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
  AND $SCOPE(n.nspname)
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
) col
