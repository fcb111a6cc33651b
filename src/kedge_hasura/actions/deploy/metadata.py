"""Deploy's metadata step: replace_metadata, reload, re-check, and check that tracking is complete.

The metadata directory is assembled as the Hasura CLI does (project.metadata) and applied with
`replace_metadata` version 2. An inconsistent result is refused by Hasura (nothing applied) unless
--allow-inconsistent; `reload_metadata` and `get_inconsistent_metadata` follow, because a reload
can report success while objects are broken (contract §7.3, issue #8129). Then every table and
view in the schemas the migrations manage must be tracked, and every tracked one must exist.
`--track-untracked` tracks the missing ones and writes their table files, so the repository stays
the source of truth.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from kedge_hasura.errors import KedgeError, ProjectError
from kedge_hasura.hasura.client import HasuraClient
from kedge_hasura.hasura.models import HasuraInconsistentMetadata, InconsistentObject, QualifiedTable
from kedge_hasura.project.layout import Project
from kedge_hasura.project.manifest import atomic_write
from kedge_hasura.project.metadata import (
    MetadataDirectory,
    dump_yaml,
    load_metadata,
    same_metadata,
    table_name,
)
from kedge_hasura.sql.statements import created_schemas
from kedge_hasura.words import plural

_INCONSISTENT_HINT = (
    "fix the objects listed (or the migrations they refer to) and deploy again; "
    "--allow-inconsistent applies the metadata anyway"
)
# kedge-hasura's own ledger and Hasura's catalogs live here; they are never tracked.
_TOOL_SCHEMAS = {
    "kedge_hasura",
    "hdb_catalog",
    "hdb_pro_catalog",
    "hdb_views",
    "information_schema",
    "pg_catalog",
}
# pg_get_source_tables lists information_schema.tables, which has no materialized views.
_MATERIALIZED_VIEWS_SQL = """\
SELECT n.nspname, c.relname FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'm' ORDER BY 1, 2"""


class TrackingReport(BaseModel):
    database: str
    schemas: list[str]  # the schemas the migrations manage
    untracked: list[str]  # tables and views there that metadata does not track (and may not)
    allowed: list[str] = []  # untracked, but --allow-untracked or kedge.check.ignore_untracked allow it
    files: dict[str, Path] = {}  # untracked table -> the table file that would track it
    missing: list[str]  # tracked in metadata, absent from the database
    tracked_now: list[str] = []  # tracked by --track-untracked
    written: list[Path] = []  # table files written by --track-untracked


class MetadataChange(BaseModel):
    """For --dry-run: how the local metadata differs from the server's, per top-level part."""

    part: str
    added: list[str] = []
    removed: list[str] = []
    changed: list[str] = []


class MetadataReport(BaseModel):
    applied: bool
    consistent: bool | None = None
    inconsistent_objects: list[InconsistentObject] = []
    tracking: list[TrackingReport] = []
    changes: list[MetadataChange] = []

    @property
    def untracked_left(self) -> list[str]:
        """Untracked tables that nothing allows and --track-untracked did not track: exit 1."""
        return [t for report in self.tracking for t in report.untracked if t not in report.tracked_now]


def read_applicable_metadata(
    project: Project, *, warn: Callable[[str], None] = lambda message: None
) -> MetadataDirectory:
    """The project's metadata as `apply_metadata` would send it; read before the deploy sends
    anything, so metadata it cannot apply is refused while nothing has changed (not after the
    migrations committed).

    Raises:
        ProjectError: the metadata cannot be applied as is (actions need the CLI's SDL conversion).
    """
    directory = load_metadata(project.metadata_dir)
    for path, named_at in directory.outside:
        warn(f"{named_at}: {path.name} is read from outside the metadata folder ({os.path.realpath(path)})")
    if directory.actions_sdl.strip():
        raise ProjectError(
            f"{project.metadata_dir / 'actions.graphql'}: actions are defined, and building their metadata "
            "needs the Hasura CLI's SDL conversion (cli-ext), which kedge-hasura does not do",
            hint="apply metadata with `hasura metadata apply`, "
            "and deploy the migrations with --skip-metadata",
        )
    return directory


def apply_metadata(
    project: Project,
    client: HasuraClient,
    directory: MetadataDirectory,
    *,
    databases: list[str],
    dry_run: bool,
    allow_inconsistent: bool,
    track_untracked: bool,
    replaced: Callable[[], None] = lambda: None,
    locate: Callable[[InconsistentObject], str | None] | None = None,
    allow_untracked: Sequence[str] = (),
) -> MetadataReport:
    """Apply the project's metadata, `directory` as `read_applicable_metadata` read it before the
    deploy sent anything (or, dry run, compare it with the server's).

    `replaced` is called once the server holds the new metadata; `locate` names the metadata
    file and line of an inconsistent object (`check`'s mapping), for the error that lists them.
    Untracked tables matching an `allow_untracked` glob (`schema.table`) are listed as allowed.

    Raises:
        HasuraInconsistentMetadata: Hasura refused inconsistent metadata (nothing applied).
    """
    if dry_run:
        server = client.export_metadata().metadata
        return MetadataReport(applied=False, changes=_changes(directory.value, server))
    try:
        result = client.replace_metadata(directory.value, allow_inconsistent=allow_inconsistent)
    except HasuraInconsistentMetadata as exc:
        # Hasura names its API argument; the user needs our option and the files to fix.
        raise HasuraInconsistentMetadata(
            f"Hasura refused the metadata: {plural(len(exc.inconsistent_objects), 'object')} "
            "would be inconsistent",
            status=exc.status,
            code=exc.code,
            error=exc.error,
            path=exc.path,
            internal=exc.internal,
            inconsistent_objects=exc.inconsistent_objects,
            hint=_INCONSISTENT_HINT,
            details={"inconsistent_objects": _listed(exc.inconsistent_objects, locate)},
        ) from exc
    replaced()
    client.reload_metadata()
    report = client.get_inconsistent_metadata()
    if not report.is_consistent and not allow_inconsistent:
        raise HasuraInconsistentMetadata(
            "the metadata is inconsistent after reload: "
            f"{plural(len(report.inconsistent_objects), 'object')}",
            status=200,
            code="inconsistent-metadata",
            error="inconsistent objects after reload",
            path="$",
            internal=[o.model_dump() for o in report.inconsistent_objects],
            inconsistent_objects=tuple(report.inconsistent_objects),
            hint=_INCONSISTENT_HINT,
            details={"inconsistent_objects": _listed(report.inconsistent_objects, locate)},
        )
    metadata = MetadataReport(
        applied=True,
        consistent=report.is_consistent and result.is_consistent,
        inconsistent_objects=report.inconsistent_objects,
    )
    schemas = _managed_schemas(project, directory)
    for database in databases:
        managed = schemas.get(database, set())
        tracking = _tracking(project, client, directory, database, managed, track_untracked, allow_untracked)
        metadata.tracking.append(tracking)
    return metadata


def _listed(
    objects: Sequence[InconsistentObject], locate: Callable[[InconsistentObject], str | None] | None
) -> list[str]:
    """`file:line: type name: reason` per object (without a place when none is known)."""
    listed = []
    for item in objects:
        where = locate(item) if locate is not None else None
        listed.append(f"{where}: {item.describe()}" if where else item.describe())
    return listed


def _managed_schemas(project: Project, directory: MetadataDirectory) -> dict[str, set[str]]:
    """Per database: schemas of tracked tables, and schemas the migrations create objects in."""
    managed: dict[str, set[str]] = {}
    for source in directory.sources():
        for entry in source.get("tables") or []:
            name = table_name(entry.get("table") if isinstance(entry, dict) else None)
            if name:
                managed.setdefault(str(source.get("name")), set()).add(name[0])
    for database, migrations in project.scan_migrations().databases.items():
        for migration in migrations.migrations:
            if migration.up is not None:
                managed.setdefault(database, set()).update(created_schemas(migration.up.text))
    return {database: schemas - _TOOL_SCHEMAS for database, schemas in managed.items()}


def _tracking(
    project: Project,
    client: HasuraClient,
    directory: MetadataDirectory,
    database: str,
    schemas: set[str],
    track_untracked: bool,
    allow_untracked: Sequence[str],
) -> TrackingReport:
    source = next((s for s in directory.sources() if s.get("name") == database), None)
    tracked = {
        name for entry in (source or {}).get("tables") or []
        if isinstance(entry, dict) and (name := table_name(entry.get("table")))
    }  # fmt: skip
    existing = {(t.schema_name, t.name) for t in client.pg_get_source_tables(database)}
    existing |= _materialized_views(client, database)
    candidates = sorted(t for t in existing if t[0] in schemas and t not in tracked)
    allowed = [t for t in candidates if any(fnmatchcase(f"{t[0]}.{t[1]}", p) for p in allow_untracked)]
    untracked = [t for t in candidates if t not in allowed]
    folder = project.metadata_dir / "databases" / database / "tables"
    report = TrackingReport(
        database=database,
        schemas=sorted(schemas),
        untracked=[f"{s}.{n}" for s, n in untracked],
        allowed=[f"{s}.{n}" for s, n in allowed],
        files={f"{s}.{n}": folder / f"{s}_{n}.yaml" for s, n in untracked},
        missing=[f"{s}.{n}" for s, n in sorted(tracked - existing)],
    )
    if track_untracked and untracked and source is not None:
        listing = folder / "tables.yaml"
        if not listing.is_file():  # refuse before the server tracks anything
            raise ProjectError(
                f"{listing} is missing", hint="the tables of a source are listed in tables.yaml"
            )
        client.pg_track_tables([QualifiedTable(schema_name=s, name=n) for s, n in untracked], source=database)
        report.tracked_now = report.untracked
        try:
            report.written = _write_table_files(project, database, untracked)
        except (KedgeError, OSError) as exc:
            # The server tracks them now; the project does not say so (deploy reports exit 5).
            raise ProjectError(
                f"tracked {plural(len(untracked), 'table')} of {database} on the server, "
                f"but could not write their table files: {exc}",
                hint=f"add the table files under {folder} by hand, or run `hasura metadata export`",
                details={"tracked on the server": report.untracked},
            ) from exc
    return report


def _materialized_views(client: HasuraClient, database: str) -> set[tuple[str, str]]:
    rows = client.run_sql(
        _MATERIALIZED_VIEWS_SQL, source=database, read_only=True, check_metadata_consistency=None
    ).rows
    return {(row[0] or "", row[1] or "") for row in rows}


def _write_table_files(project: Project, database: str, tables: list[tuple[str, str]]) -> list[Path]:
    """Add table files and their includes, in the CLI's layout (new files first, tables.yaml last)."""
    folder = project.metadata_dir / "databases" / database / "tables"
    listing = folder / "tables.yaml"
    if not listing.is_file():
        raise ProjectError(f"{listing} is missing", hint="the tables of a source are listed in tables.yaml")
    from kedge_hasura.project.yamlfile import read_yaml

    includes = list(read_yaml(listing).value or [])
    written = []
    for schema, name in tables:
        file_name = f"{schema}_{name}.yaml"
        written.append(
            atomic_write(folder / file_name, dump_yaml({"table": {"name": name, "schema": schema}}))
        )
        entry = f"!include {file_name}"
        if entry not in includes:
            includes.append(entry)
    includes.sort()
    written.append(atomic_write(listing, dump_yaml(includes)))
    return written


def _changes(local: dict[str, Any], server: dict[str, Any]) -> list[MetadataChange]:
    """A summary of what replace_metadata would change: tables per source by name, other parts whole."""
    changes = []
    local_sources = {s.get("name"): s for s in local.get("sources") or []}
    server_sources = {s.get("name"): s for s in server.get("sources") or []}
    for name in sorted(set(local_sources) | set(server_sources), key=str):
        left = _tables(server_sources.get(name) or {})
        right = _tables(local_sources.get(name) or {})
        change = MetadataChange(
            part=f"sources.{name}.tables",
            added=sorted(set(right) - set(left)),
            removed=sorted(set(left) - set(right)),
            changed=sorted(k for k in set(left) & set(right) if not same_metadata(left[k], right[k])),
        )
        if change.added or change.removed or change.changed:
            changes.append(change)
    for key in sorted((set(local) | set(server)) - {"sources", "version"}):
        if not same_metadata(local.get(key), server.get(key)):
            changes.append(MetadataChange(part=key, changed=[key]))
    return changes


def _tables(source: dict[str, Any]) -> dict[str, Any]:
    tables = {}
    for entry in source.get("tables") or []:
        name = table_name(entry.get("table")) if isinstance(entry, dict) else None
        if name:
            tables[f"{name[0]}.{name[1]}"] = entry
    return tables
