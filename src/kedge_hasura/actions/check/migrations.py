"""Migration hygiene without a database: the scan's findings, plus versions and archives.

The scan (`project.migrations`) already reports missing up/down files, duplicate versions and
statements that cannot run in a transaction. Here we add what needs the whole history: a down.sql
holding only comments, versions that sort before a squash archive or lie in the future, and
archives whose files no longer match their manifest.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kedge_hasura.actions.check.codes import FindingSink
from kedge_hasura.errors import ManifestError
from kedge_hasura.project.chain import chain_problems
from kedge_hasura.project.manifest import MANIFEST_NAME, check_archive, read_manifest
from kedge_hasura.project.migrations import DatabaseMigrations, MigrationScan

# The scan's note that an archive folder exists is what an archive is for; the archives check
# reports on archives instead.
_DROPPED_SCAN_CODES = {"archive-folder"}
# Hasura versions are millisecond timestamps (13 digits until the year 2286).
_TIMESTAMP_DIGITS = 13
_FUTURE_TOLERANCE = timedelta(days=1)


def check_migrations(scan: MigrationScan, sink: FindingSink, *, database: str | None, now: datetime) -> None:
    """The scan's findings, empty down.sql files, and versions out of order or in the future."""
    for finding in scan.findings:
        if finding.code not in _DROPPED_SCAN_CODES and (
            database is None or finding.database in (None, database)
        ):
            sink.adopt(finding)
    limit = int((now + _FUTURE_TOLERANCE).timestamp() * 1000)
    for name, migrations in sorted(scan.databases.items()):
        if database is not None and name != database:
            continue
        archived_up_to = _newest_archived(migrations)
        for migration in migrations.migrations:
            # A file, not the folder: CI annotations attach to files.
            where = migration.up.path if migration.up is not None else migration.location
            down, up = migration.down, migration.up
            # A placeholder migration (comments in both files) has nothing to undo.
            # Files too large to parse are reported once by the scan (sql-not-analysed).
            up_does_something = up is not None and (not up.analysable or bool(up.parsed.statements))
            down_is_empty = down is not None and down.analysable and not down.parsed.statements
            if down is not None and down_is_empty and up_does_something:
                sink.add(
                    "empty-down",
                    f"migration {migration.key}: down.sql holds no SQL statements (only comments), "
                    "so rolling back does nothing",
                    path=down.path,
                    database=name,
                    version=migration.version,
                )
            if archived_up_to is not None and migration.version < archived_up_to[0]:
                sink.add(
                    "version-out-of-order",
                    f"migration {migration.key} is older than the squash archive {archived_up_to[1]} "
                    f"(which ends at {archived_up_to[0]})",
                    path=where,
                    database=name,
                    version=migration.version,
                )
            if len(str(migration.version)) == _TIMESTAMP_DIGITS and migration.version > limit:
                sink.add(
                    "version-in-future",
                    f"migration {migration.key}: version {migration.version} is a time in the future "
                    f"({datetime.fromtimestamp(migration.version / 1000, tz=now.tzinfo):%Y-%m-%d})",
                    path=where,
                    database=name,
                    version=migration.version,
                )


def _newest_archived(migrations: DatabaseMigrations) -> tuple[int, str] | None:
    """(newest version kept in an archive, archive name), from the manifests that read."""
    newest: tuple[int, str] | None = None
    for folder in migrations.archives:
        try:
            manifest = read_manifest(folder)
        except ManifestError:
            continue  # reported by check_archives
        if newest is None or manifest.to_version > newest[0]:
            newest = (manifest.to_version, folder.name)
    return newest


def check_archives(scan: MigrationScan, sink: FindingSink, *, database: str | None) -> int:
    """Compare every archive with its manifest; returns how many archives were checked."""
    checked = 0
    for name, migrations in sorted(scan.databases.items()):
        if database is not None and name != database:
            continue
        for folder in migrations.archives:
            checked += 1
            try:
                manifest = read_manifest(folder)
                result = check_archive(folder, manifest)
            except ManifestError as exc:
                # The message starts with the manifest's path, which the finding carries already.
                message = exc.message.replace(f"{folder / MANIFEST_NAME} ", f"{MANIFEST_NAME} ", 1)
                sink.add(
                    "archive-manifest-invalid",
                    message,
                    path=folder / MANIFEST_NAME,
                    database=name,
                    hint=exc.hint,  # a missing one has its own (an archive of `hasura migrate squash`)
                )
                continue
            for relative in result.mismatched:
                sink.add(
                    "archive-file-changed",
                    f"{relative} in archive {folder.name} differs from the checksum in its manifest",
                    path=folder / relative,
                    database=name,
                )
            for relative in result.missing:
                sink.add(
                    "archive-file-missing",
                    f"{relative} is listed in the manifest of archive {folder.name} but missing",
                    path=folder / MANIFEST_NAME,
                    database=name,
                )
            for relative in result.unexpected:
                sink.add(
                    "archive-file-unexpected",
                    f"{relative} is in archive {folder.name} but not in its manifest",
                    path=folder / relative,
                    database=name,
                )
            for problem in chain_problems(migrations, folder, manifest):
                sink.add("archive-chain-broken", problem, path=folder / MANIFEST_NAME, database=name)
    return checked
