-- Columns of every relation in scope, with their position among live columns.
-- The largest result by far (one row per column), so each row is a positional array rather than
-- an object: 2.6 times less JSON to build and parse. The order is snapshot._COLUMN_FIELDS.
SELECT coalesce(json_agg(col.j), '[]') FROM (
SELECT json_build_array(
  n.nspname,                                                    -- schema
  c.relname,                                                    -- table
  c.relkind,                                                    -- relkind
  a.attname,                                                    -- name
  row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum), -- position among live columns
  format_type(a.atttypid, a.atttypmod),                         -- type
  a.attnotnull,                                                 -- not_null
  CASE WHEN ad.adbin IS NULL THEN NULL                          -- default
       WHEN a.attgenerated = '' AND pg_get_expr(ad.adbin, ad.adrelid) LIKE 'nextval(%' THEN
            -- A serial column's default names the sequence it owns: replace that name with a
            -- placeholder, so a renamed sequence is reported once (as the sequence), not twice.
            -- Evaluated only for nextval defaults.
            (SELECT replace(pg_get_expr(ad.adbin, ad.adrelid),
                            quote_literal(dep.objid::regclass::text) || '::regclass', '<owned sequence>')
             FROM pg_depend dep JOIN pg_class sc ON sc.oid = dep.objid AND sc.relkind = 'S'
             WHERE dep.refclassid = 'pg_class'::regclass AND dep.refobjid = a.attrelid
               AND dep.refobjsubid = a.attnum AND dep.classid = 'pg_class'::regclass AND dep.deptype = 'a'
             UNION ALL SELECT pg_get_expr(ad.adbin, ad.adrelid) LIMIT 1)
       ELSE pg_get_expr(ad.adbin, ad.adrelid) END,
  a.attidentity,                                                -- identity
  CASE WHEN a.attidentity <> '' THEN                            -- identity_options
        (SELECT format('%s start %s increment %s min %s max %s cache %s%s',
                       format_type(sq.seqtypid, NULL), sq.seqstart, sq.seqincrement, sq.seqmin, sq.seqmax,
                       sq.seqcache, CASE WHEN sq.seqcycle THEN ' cycle' ELSE '' END)
         FROM pg_depend dep JOIN pg_sequence sq ON sq.seqrelid = dep.objid
         WHERE dep.refclassid = 'pg_class'::regclass AND dep.refobjid = a.attrelid
           AND dep.refobjsubid = a.attnum AND dep.classid = 'pg_class'::regclass AND dep.deptype = 'i'
         LIMIT 1) END,
  a.attgenerated,                                               -- generated
  CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0 THEN  -- collation, if not the type's
        (SELECT cn.nspname || '.' || quote_ident(co.collname)
         FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,
  a.attrelid,                                                   -- oid (of the relation, for comments)
  a.attnum,                                                     -- attnum (for comments)
  a.attacl,                                                     -- acl (NULL: no column grants)
  CASE WHEN a.attacl IS NOT NULL THEN pg_get_userbyid(c.relowner) END  -- owner (only needed with an acl)
) AS j
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
  AND $SCOPE(n.nspname)
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
) col
