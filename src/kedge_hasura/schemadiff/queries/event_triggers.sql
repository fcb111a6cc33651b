-- Event triggers (database-wide), except extension members.
SELECT coalesce(json_agg(json_build_object(
  'name', et.evtname,
  'event', et.evtevent,
  'function', et.evtfoid::regprocedure::text,
  'tags', et.evttags,
  'enabled', et.evtenabled,
  'owner', pg_get_userbyid(et.evtowner),
  'oid', et.oid
)), '[]')
FROM pg_event_trigger et
WHERE NOT EXISTS (SELECT 1 FROM pg_depend e
                  WHERE e.classid = 'pg_event_trigger'::regclass AND e.objid = et.oid AND e.deptype = 'e')
