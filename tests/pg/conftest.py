"""Helpers for tests against real PostgreSQL."""

from __future__ import annotations

import functools
from pathlib import Path

import psycopg
import pytest

from kedge_hasura.project.staging import keep_candidate


@pytest.fixture(autouse=True)
def kept_candidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where a squash keeps a candidate that failed its verification: the test's own folder, so no
    test leaves one in the system's temporary directory."""
    folder = tmp_path / "kept-candidates"
    folder.mkdir()
    monkeypatch.setattr(
        "kedge_hasura.actions.squash.failure.keep_candidate", functools.partial(keep_candidate, root=folder)
    )
    return folder


# Every object a migration could leave behind, as "kind schema.name", excluding system schemas
# and extension members (the Hasura precondition's pgcrypto functions live in public).
_INVENTORY = """
WITH ext AS (SELECT objid, classid FROM pg_depend WHERE deptype = 'e')
SELECT 'schema ' || nspname FROM pg_namespace n
 WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
UNION ALL
SELECT 'relation ' || n.nspname || '.' || c.relname || ' (' || c.relkind::text || ')'
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.objid = c.oid AND ext.classid = 'pg_class'::regclass)
UNION ALL
SELECT 'function ' || n.nspname || '.' || p.proname
       || '(' || pg_get_function_identity_arguments(p.oid) || ')'
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.objid = p.oid AND ext.classid = 'pg_proc'::regclass)
UNION ALL
SELECT 'type ' || n.nspname || '.' || t.typname
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
   AND t.typtype IN ('e', 'd', 'c')
   AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
   AND NOT EXISTS (SELECT 1 FROM ext WHERE ext.objid = t.oid AND ext.classid = 'pg_type'::regclass)
UNION ALL
SELECT 'extension ' || extname FROM pg_extension WHERE extname <> 'plpgsql'
ORDER BY 1
"""


def user_objects(conninfo: str) -> list[str]:
    """A sorted inventory of user objects in a database (schemas, relations, functions, types)."""
    with psycopg.connect(conninfo) as connection:
        return [row[0] for row in connection.execute(_INVENTORY).fetchall()]


def write_migration(root: Path, version: int, name: str, up: str, down: str | None = None) -> Path:
    """Write migrations/<version>_<name>/up.sql (and down.sql) under `root`; returns the folder."""
    folder = root / f"{version}_{name}"
    folder.mkdir(parents=True)
    (folder / "up.sql").write_text(up, encoding="utf-8")
    if down is not None:
        (folder / "down.sql").write_text(down, encoding="utf-8")
    return folder
