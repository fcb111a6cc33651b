-- Every comment in the database as [catalog, object oid, sub-id (column number), text]; the
-- snapshot attaches them to the objects it read, by oid. One query instead of a join in each
-- query keeps the large queries' plans simple (a join to pg_description there can go quadratic).
SELECT coalesce(json_agg(json_build_array(d.classoid::regclass::text, d.objoid, d.objsubid, d.description)), '[]')
FROM pg_description d
WHERE d.classoid IN ('pg_class'::regclass, 'pg_constraint'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass,
                     'pg_namespace'::regclass, 'pg_trigger'::regclass, 'pg_policy'::regclass,
                     'pg_event_trigger'::regclass)
