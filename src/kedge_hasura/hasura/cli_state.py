"""The official CLI's migration state inside catalog state (`cli_state`), read and edited by its rules.

Layout (contract §4.2/§4.3, from cli/internal/statestore):

    {"migrations": {"<db>": {"<version>": <dirty bool>}},
     "settings": {"migration_mode": "true"},
     "isStateCopyCompleted": true}

`set_catalog_state` replaces the whole value, so `CliState` wraps a private copy of the whole
object and edits only the keys it owns; every other key (other databases, settings, unknown keys
written by newer CLIs) is written back untouched. Version keys are decimal strings of a uint64,
without padding; values are JSON booleans. A database without versions may be missing or `{}`.
"""

from __future__ import annotations

import copy
from typing import Any

from kedge_hasura.errors import HasuraBadResponse

_UINT64_MAX = 2**64 - 1


class CliState:
    """A mutable, private copy of `cli_state`; `data` is what gets written back."""

    def __init__(self, data: dict[str, Any] | None = None):
        self.data: dict[str, Any] = copy.deepcopy(data) if data else {}

    def databases(self) -> list[str]:
        """Databases with an entry under `migrations` (possibly with no versions)."""
        return sorted(self._migrations(create=False))

    def versions(self, database: str) -> dict[int, bool]:
        """Applied versions of one database → dirty flag; {} when the database is missing or `{}`.

        Raises:
            HasuraBadResponse: a key is not a decimal version or a value is not a boolean.
        """
        entries = self._migrations(create=False).get(database) or {}
        if not isinstance(entries, dict):
            raise _malformed(f"migrations.{database} is {type(entries).__name__}, not an object")
        versions: dict[int, bool] = {}
        for key, dirty in entries.items():
            if not (isinstance(key, str) and key.isdigit() and key.isascii()):
                raise _malformed(f"migrations.{database} has the key {key!r}, which is not a version")
            if not isinstance(dirty, bool):
                raise _malformed(f"migrations.{database}.{key} is {dirty!r}, not true or false")
            versions[int(key)] = dirty
        return versions

    def set_version(self, database: str, version: int, *, dirty: bool = False) -> None:
        """Record `version` as applied (`dirty` False is what the CLI writes after success)."""
        self._database(database)[_version_key(version)] = dirty

    def remove_version(self, database: str, version: int) -> None:
        """Forget `version` (the CLI's RemoveVersion); the database entry stays, possibly `{}`."""
        entries = self._migrations(create=False).get(database)
        if isinstance(entries, dict):
            entries.pop(_version_key(version), None)

    @property
    def migration_mode(self) -> str | None:
        """`settings.migration_mode` as stored (a string "true"/"false"), None when missing."""
        settings = self.data.get("settings")
        value = settings.get("migration_mode") if isinstance(settings, dict) else None
        return value if isinstance(value, str) else None

    def ensure_default_settings(self) -> None:
        """Write `settings.migration_mode: "true"` when missing, as the CLI's PrepareSettingsDriver does."""
        settings = self.data.get("settings")
        if not isinstance(settings, dict):
            settings = self.data["settings"] = {}
        settings.setdefault("migration_mode", "true")

    @property
    def is_state_copy_completed(self) -> bool:
        """Whether the legacy `schema_migrations` state was copied already (contract §4.5)."""
        return self.data.get("isStateCopyCompleted") is True

    def mark_state_copy_completed(self) -> None:
        self.data["isStateCopyCompleted"] = True

    def _migrations(self, *, create: bool) -> dict[str, Any]:
        migrations = self.data.get("migrations")
        if isinstance(migrations, dict):
            return migrations
        if migrations is not None:
            raise _malformed(f"migrations is {type(migrations).__name__}, not an object")
        if not create:
            return {}
        self.data["migrations"] = {}
        result: dict[str, Any] = self.data["migrations"]
        return result

    def _database(self, database: str) -> dict[str, Any]:
        migrations = self._migrations(create=True)
        entries = migrations.get(database)
        if entries is None:
            entries = migrations[database] = {}
        elif not isinstance(entries, dict):
            raise _malformed(f"migrations.{database} is {type(entries).__name__}, not an object")
        return entries


def _version_key(version: int) -> str:
    if not 0 <= version <= _UINT64_MAX:
        raise ValueError(f"a migration version is an unsigned 64-bit integer, not {version}")
    return str(version)


def _malformed(problem: str) -> HasuraBadResponse:
    return HasuraBadResponse(
        f"the migration state in Hasura's catalog state is malformed: {problem}",
        status=None,
        hint="inspect it with get_catalog_state; the official CLI writes "
        '{"migrations": {"<db>": {"<version>": false}}}',
    )
