-- Table constraints: primary key, foreign key, unique, check, exclusion. PostgreSQL 18's NOT NULL
-- constraints (contype 'n') are folded into column nullability instead: their names keep old
-- table names after renames and would differ between a history and its squash.
SELECT coalesce(json_agg(json_build_object(
  'schema', n.nspname,
  'table', c.relname,
  'name', con.conname,
  'type', con.contype,
  'definition', pg_get_constraintdef(con.oid),
  'columns', (SELECT json_agg(a.attname ORDER BY k.ordinality)
              FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ordinality)
              JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
  'oid', con.oid
)), '[]')
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype IN ('p', 'f', 'u', 'c', 'x')
  AND con.conparentid = 0  -- constraints cloned onto partitions follow their parent's
  AND $SCOPE(n.nspname)
  AND NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
