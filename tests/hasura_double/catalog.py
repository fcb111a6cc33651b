"""The double's `hdb_catalog` in the metadata database: metadata, resource_version, catalog state.

Tables are shaped like Hasura's own (`hdb_catalog.hdb_version` with `hasura_uuid`, `cli_state`,
`console_state`; `hdb_catalog.hdb_metadata` with `metadata` and `resource_version`), so a test
can inspect them with SQL exactly as it would on a database that a real Hasura manages.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

_PGCRYPTO = "CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA public"
_INSTALL = """
CREATE SCHEMA IF NOT EXISTS hdb_catalog;
CREATE TABLE IF NOT EXISTS hdb_catalog.hdb_version (
    hasura_uuid uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    version text NOT NULL,
    upgraded_on timestamptz NOT NULL DEFAULT now(),
    cli_state jsonb NOT NULL DEFAULT '{}'::jsonb,
    console_state jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE UNIQUE INDEX IF NOT EXISTS hdb_version_one_row ON hdb_catalog.hdb_version ((version IS NOT NULL));
INSERT INTO hdb_catalog.hdb_version (version) VALUES ('48') ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS hdb_catalog.hdb_metadata (
    id integer PRIMARY KEY,
    metadata json NOT NULL,
    resource_version integer NOT NULL DEFAULT 1 UNIQUE
);
"""
EMPTY_METADATA: dict[str, Any] = {
    "version": 3,
    "sources": [
        {
            "name": "default",
            "kind": "postgres",
            "tables": [],
            "configuration": {
                "connection_info": {"database_url": {"from_env": "HASURA_GRAPHQL_DATABASE_URL"}},
            },
        }
    ],
}


class CatalogStore:
    """Reads and writes the double's catalog tables (one short transaction per call)."""

    def __init__(self, conninfo: str):
        self._conninfo = conninfo

    def install(self) -> None:
        install_pgcrypto(self._conninfo)  # as Hasura does in its metadata database
        with psycopg.connect(self._conninfo, autocommit=True) as connection:
            connection.execute(_INSTALL.encode())
            connection.execute(
                "INSERT INTO hdb_catalog.hdb_metadata (id, metadata, resource_version) VALUES (1, %s, 1)"
                " ON CONFLICT (id) DO NOTHING",
                (json.dumps(EMPTY_METADATA),),
            )

    def metadata(self) -> tuple[dict[str, Any], int]:
        with psycopg.connect(self._conninfo) as connection:
            row = connection.execute(
                "SELECT metadata, resource_version FROM hdb_catalog.hdb_metadata WHERE id = 1"
            ).fetchone()
        assert row is not None
        return row[0], int(row[1])

    def save_metadata(self, metadata: dict[str, Any]) -> int:
        """Store `metadata` and bump resource_version; returns the new version."""
        with psycopg.connect(self._conninfo) as connection:
            row = connection.execute(
                "UPDATE hdb_catalog.hdb_metadata SET metadata = %s, resource_version = resource_version + 1"
                " WHERE id = 1 RETURNING resource_version",
                (json.dumps(metadata),),
            ).fetchone()
        assert row is not None
        return int(row[0])

    def catalog_state(self) -> dict[str, Any]:
        with psycopg.connect(self._conninfo) as connection:
            row = connection.execute(
                "SELECT hasura_uuid::text, cli_state, console_state FROM hdb_catalog.hdb_version"
            ).fetchone()
        assert row is not None
        return {"id": row[0], "cli_state": row[1], "console_state": row[2]}

    def set_catalog_state(self, kind: str, state: Any) -> None:
        """Replace the whole cli_state or console_state value (§4.3: no merge)."""
        column = "cli_state" if kind == "cli" else "console_state"
        with psycopg.connect(self._conninfo) as connection:
            connection.execute(f"UPDATE hdb_catalog.hdb_version SET {column} = %s", (Jsonb(state),))


def install_pgcrypto(conninfo: str) -> None:
    """`CREATE EXTENSION IF NOT EXISTS pgcrypto` in public, what Hasura runs where it needs it."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(_PGCRYPTO)
