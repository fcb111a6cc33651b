-- Table constraints: primary key, foreign key, unique, check, exclusion. PostgreSQL 18's NOT NULL
-- constraints (contype 'n') are folded into column nullability instead: their names keep old
-- table names after renames and would differ between a history and its squash.
SELECT coalesce(json_agg(json_build_object(
  'schema', n.nspname,
  'table', c.relname,
  'name', con.conname,
  'type', con.contype,
  'definition', pg_get_constraintdef(con.oid),
  'key', con.conkey,  -- attnums; named from the columns query's rows (a subquery here cost 40%)
  'relation', con.conrelid,
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
