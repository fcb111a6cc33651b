"""Read PostgreSQL's dependency graph (pg_depend), named as the schema snapshot names objects.

A squashed migration's down.sql must drop dependents before what they depend on. PostgreSQL
records every such edge in pg_depend (a view's through its rewrite rule, a column default's
through pg_attrdef, a table's row type, an extension's members, ...); this module returns them
with both ends named like schemadiff's snapshot keys, so the pure drop planner can order the
objects it knows without OIDs.
"""

from __future__ import annotations

from typing import NamedTuple

import psycopg

from kedge_hasura.errors import DatabaseError

ObjectRef = tuple[str, ...]  # (kind, *key): ("table", "app", "users"), ("function", "app", "f(integer)")


class Dependency(NamedTuple):
    dependent: ObjectRef
    referenced: ObjectRef
    # pg_depend.deptype: n normal; a auto and i internal (dropped with the referenced object);
    # e extension member; P/S partition. A column is reported as depending on its relation ("a").
    deptype: str


# One row per object, named as schemadiff's snapshot keys (search_path = pg_catalog, so argument
# types are written as the snapshot writes them). Objects the snapshot does not model are named
# by pg_describe_object under the kind "other".
_DESCRIBE = """
CASE
  WHEN o.classid = 'pg_class'::regclass THEN (
    SELECT CASE
      WHEN c.relkind = 'c' THEN json_build_array('type', n.nspname, c.relname)
      WHEN o.objsubid <> 0 THEN json_build_array('column', n.nspname, c.relname,
             (SELECT attname FROM pg_attribute WHERE attrelid = c.oid AND attnum = o.objsubid))
      WHEN c.relkind IN ('r', 'p', 'f') THEN json_build_array('table', n.nspname, c.relname)
      WHEN c.relkind = 'v' THEN json_build_array('view', n.nspname, c.relname)
      WHEN c.relkind = 'm' THEN json_build_array('materialized_view', n.nspname, c.relname)
      WHEN c.relkind = 'S' THEN json_build_array('sequence', n.nspname, c.relname)
      WHEN c.relkind IN ('i', 'I') THEN json_build_array('index', n.nspname,
             (SELECT t.relname FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid
              WHERE x.indexrelid = c.oid), c.relname)
      ELSE json_build_array('other', pg_describe_object(o.classid, o.objid, o.objsubid)) END
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = o.objid)
  WHEN o.classid = 'pg_type'::regclass THEN (
    SELECT json_build_array('type', n.nspname, t.typname)
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = o.objid)
  WHEN o.classid = 'pg_proc'::regclass THEN (
    SELECT json_build_array('function', n.nspname,
                            p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')')
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = o.objid)
  WHEN o.classid = 'pg_constraint'::regclass THEN (
    SELECT CASE WHEN con.conrelid <> 0 THEN json_build_array('constraint', n.nspname, c.relname, con.conname)
                ELSE json_build_array('other', pg_describe_object(o.classid, o.objid, 0)) END
    FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
    LEFT JOIN pg_class c ON c.oid = con.conrelid WHERE con.oid = o.objid)
  WHEN o.classid = 'pg_attrdef'::regclass THEN (
    SELECT json_build_array('default', n.nspname, c.relname, a.attname)
    FROM pg_attrdef d JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.oid = o.objid)
  WHEN o.classid = 'pg_trigger'::regclass THEN (
    SELECT json_build_array(CASE WHEN tg.tgisinternal THEN 'other' ELSE 'trigger' END,
                            n.nspname, c.relname, tg.tgname)
    FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE tg.oid = o.objid)
  WHEN o.classid = 'pg_policy'::regclass THEN (
    SELECT json_build_array('policy', n.nspname, c.relname, pol.polname)
    FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE pol.oid = o.objid)
  WHEN o.classid = 'pg_namespace'::regclass THEN (
    SELECT json_build_array('schema', nspname) FROM pg_namespace WHERE oid = o.objid)
  WHEN o.classid = 'pg_extension'::regclass THEN (
    SELECT json_build_array('extension', extname) FROM pg_extension WHERE oid = o.objid)
  WHEN o.classid = 'pg_event_trigger'::regclass THEN (
    SELECT json_build_array('event_trigger', evtname) FROM pg_event_trigger WHERE oid = o.objid)
  ELSE json_build_array('other', pg_describe_object(o.classid, o.objid, o.objsubid))
END
"""

# Objects below 16384 are PostgreSQL's own: nothing a migration creates depends on them in a
# way that matters for dropping. A column depends on its relation implicitly (pg_depend has no
# row for that), so those edges are added here.
_EDGES = """
edges AS MATERIALIZED (
  SELECT classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype::text AS deptype
  FROM pg_depend
  WHERE objid >= 16384 AND refobjid >= 16384 AND deptype IN ('n', 'a', 'i', 'e', 'P', 'S')
), objects AS MATERIALIZED (
  SELECT classid, objid, objsubid FROM edges
  UNION SELECT refclassid, refobjid, refobjsubid FROM edges
)"""

# The edges and the names come back separately and are joined here: joined in SQL, the planner
# (on catalogs that a scratch server never analyses, so it expects one row of each) compared
# every edge with every name: 12 s on a 2,000-migration history, where the two queries take 0.1 s.
_QUERY_EDGES = f"""
WITH {_EDGES}
SELECT classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype FROM edges
UNION ALL
SELECT classid, objid, objsubid, classid, objid, 0, 'a' FROM objects
WHERE classid = 'pg_class'::regclass AND objsubid <> 0
"""

_QUERY_NAMES = f"""
WITH {_EDGES}
SELECT o.classid, o.objid, o.objsubid, ({_DESCRIBE})::text AS name
FROM (SELECT classid, objid, objsubid FROM objects
      UNION SELECT classid, objid, 0 FROM objects WHERE objsubid <> 0) o
"""


def object_dependencies(conninfo: str) -> list[Dependency]:
    """Every dependency between non-system objects of the database, sorted.

    Raises:
        DatabaseError: the database cannot be read.
    """
    import json

    try:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(b"BEGIN READ ONLY")
            connection.execute(b"SET LOCAL search_path = pg_catalog")
            # The planner's cost estimate for the per-object subqueries is far above jit_above_cost,
            # and compiling them takes seconds where running them takes milliseconds.
            connection.execute(b"SET LOCAL jit = off")
            edges = connection.execute(_QUERY_EDGES.encode()).fetchall()
            names = {
                (classid, objid, objsubid): name
                for classid, objid, objsubid, name in connection.execute(_QUERY_NAMES.encode()).fetchall()
            }
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot read the dependencies between objects: {str(exc).strip()}") from None
    dependencies = set()
    for classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype in edges:
        dependent = names.get((classid, objid, objsubid))
        referenced = names.get((refclassid, refobjid, refobjsubid))
        if dependent is not None and referenced is not None:
            dependencies.add(
                Dependency(tuple(json.loads(dependent)), tuple(json.loads(referenced)), str(deptype))
            )
    return sorted(dependencies)
