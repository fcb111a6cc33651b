-- Counts of object kinds the comparator does not compare in depth. A differing count is
-- reported as a warning, never silently ignored.
SELECT json_build_object(
  'rules', (SELECT count(*) FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE r.rulename <> '_RETURN' AND $SCOPE(n.nspname)),
  'publications', (SELECT count(*) FROM pg_publication),
  'operators', (SELECT count(*) FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
                WHERE $SCOPE(n.nspname)
                  AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_operator'::regclass
                                  AND e.objid = o.oid AND e.deptype = 'e')),
  'casts', (SELECT count(*) FROM pg_cast ca WHERE ca.oid >= 16384
            AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_cast'::regclass
                            AND e.objid = ca.oid AND e.deptype IN ('e', 'i'))),
  'text_search_configurations', (SELECT count(*) FROM pg_ts_config t JOIN pg_namespace n ON n.oid = t.cfgnamespace
                                 WHERE $SCOPE(n.nspname)),
  'statistics_objects', (SELECT count(*) FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
                         WHERE $SCOPE(n.nspname)),
  'foreign_servers', (SELECT count(*) FROM pg_foreign_server),
  'collations', (SELECT count(*) FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
                 WHERE $SCOPE(n.nspname)
                   AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_collation'::regclass
                                   AND e.objid = co.oid AND e.deptype = 'e')),
  'conversions', (SELECT count(*) FROM pg_conversion cv JOIN pg_namespace n ON n.oid = cv.connamespace
                  WHERE $SCOPE(n.nspname))
)
