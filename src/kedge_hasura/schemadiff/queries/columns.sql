-- Columns of every relation in scope. The largest result by far (one row per column), so each
-- row is a positional array rather than an object (2.6 times less JSON to build and parse); the
-- order is unpacked in snapshot._Rows.column. Everything per row is a join or a plain catalog
-- value: the position among live columns, the owned-sequence placeholder in serial defaults and
-- the attnum → name map of constraint keys are derived from these rows in Python, which at 3,000
-- tables costs a fraction of the window function and per-column subqueries it replaces.
-- pg_get_expr gets the relation only for generation expressions (the only ones with column
-- references): given one, it builds a deparse context over all the table's columns on every call,
-- which on a 1,600-column table with a default on each took 90 s (a cost cubic in the width).
SELECT coalesce(json_agg(json_build_array(
  n.nspname,                                                    -- schema
  c.relname,                                                    -- table
  c.relkind,                                                    -- relkind
  a.attname,                                                    -- name
  a.attnum,                                                     -- attnum (position, comments, keys)
  format_type(a.atttypid, a.atttypmod),                         -- type
  a.attnotnull,                                                 -- not_null
  pg_get_expr(ad.adbin, CASE WHEN a.attgenerated <> '' THEN ad.adrelid ELSE 0 END),  -- default/generated
  owned.sequences,                                              -- sequences the column owns (serial)
  a.attidentity,                                                -- identity
  owned.identity_options,                                       -- identity_options
  a.attgenerated,                                               -- generated
  CASE WHEN a.attcollation <> t.typcollation AND a.attcollation <> 0 THEN  -- collation, if not the type's
        (SELECT cn.nspname || '.' || quote_ident(co.collname)
         FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation) END,
  a.attrelid,                                                   -- oid (of the relation)
  a.attacl,                                                     -- acl (NULL: no column grants)
  CASE WHEN a.attacl IS NOT NULL THEN pg_get_userbyid(c.relowner) END  -- owner (only needed with an acl)
)), '[]')
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN (
  -- Sequences owned by a column: 'a' (OWNED BY, as serial makes) and 'i' (identity).
  SELECT dep.refobjid, dep.refobjsubid,
         json_agg(dep.objid::regclass::text ORDER BY dep.objid) FILTER (WHERE dep.deptype = 'a') AS sequences,
         min(format('%s start %s increment %s min %s max %s cache %s%s',
                    format_type(sq.seqtypid, NULL), sq.seqstart, sq.seqincrement, sq.seqmin, sq.seqmax,
                    sq.seqcache, CASE WHEN sq.seqcycle THEN ' cycle' ELSE '' END))
           FILTER (WHERE dep.deptype = 'i') AS identity_options
  FROM pg_depend dep
  JOIN pg_sequence sq ON sq.seqrelid = dep.objid
  WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
    AND dep.refobjsubid > 0 AND dep.deptype IN ('a', 'i')
  GROUP BY dep.refobjid, dep.refobjsubid
) owned ON owned.refobjid = a.attrelid AND owned.refobjsubid = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p', 'f', 'v', 'm')
  AND $SCOPE(n.nspname)
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
