"""One side of `impact`: a project folder replayed on a scratch database and read into a `Surface`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kedge_hasura.actions.replay import project_preconditions, replay_migrations
from kedge_hasura.errors import MigrationFailed
from kedge_hasura.graphql.catalog import DbCatalog, EnumValue, Mutability, TableKey, catalog_from_snapshot
from kedge_hasura.graphql.surface import Surface, build_surface
from kedge_hasura.pg.catalog import PsycopgExecutor
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.project.layout import Project
from kedge_hasura.project.metadata_model import MetadataProject, load_metadata_model
from kedge_hasura.project.migrations import Migration
from kedge_hasura.schemadiff.snapshot import SESSION_SETTINGS, Scope, read_snapshot
from kedge_hasura.sql.quoting import quoted, quoted_path


@dataclass
class Side:
    """A project as one revision has it, and the surface it gives."""

    label: str  # "base (abc123def456)", "working tree"
    project: Project
    metadata: MetadataProject
    migrations: tuple[Migration, ...]
    surface: Surface | None = None


def load_side(label: str, project: Project, database: str) -> Side:
    """Load a side's metadata and migrations (nothing replayed yet).

    Raises:
        ProjectError: the metadata or migrations do not load.
    """
    metadata = load_metadata_model(project.metadata_dir, config_version=project.config.version)
    scan = project.scan_migrations(analyze_sql=True)
    migrations = scan.databases[database].migrations if database in scan.databases else ()
    return Side(label, project, metadata, migrations)


def replay_side(side: Side, cluster: ScratchCluster, database: str) -> Surface:
    """Replay a side's migrations (after the project's preconditions) and build its surface.

    Raises:
        MigrationFailed: a migration failed on the scratch database.
    """
    with cluster.database("impact") as scratch:
        try:
            replay_migrations(
                cluster, scratch, side.migrations, preconditions=project_preconditions(side.project, database)
            )
        except MigrationFailed as exc:
            raise _named_for_side(exc, side) from None
        source = side.metadata.metadata.source(database)
        enum_tables = [entry.table.key for entry in (source.tables if source else []) if entry.is_enum]
        with PsycopgExecutor(scratch.conninfo, label=f"the scratch database of {side.label}") as executor:
            snapshot = read_snapshot(executor, Scope())
            views = [key for kind in ("view",) for key in snapshot.of_kind(kind)]
            mutability = _view_mutability(executor, [(k[0], k[1]) for k in views])
            probe = catalog_from_snapshot(snapshot)
            rows = _enum_rows(executor, probe, enum_tables)
    catalog = catalog_from_snapshot(snapshot, enum_rows=rows, view_mutability=mutability)
    graphql = side.project.config.kedge.graphql
    surface = build_surface(
        side.metadata.metadata,
        catalog,
        source=database,
        features=frozenset(graphql.experimental_features),
        infer_function_permissions=graphql.infer_function_permissions,
        default_naming_convention=graphql.default_naming_convention,
    )
    side.surface = surface
    return surface


def _named_for_side(exc: MigrationFailed, side: Side) -> MigrationFailed:
    """The failure with the side's label and the file as the project names it: a base side is
    exported to a temporary folder that is gone by the time the message is read."""
    relative = None
    if exc.path is not None:
        try:
            relative = exc.path.resolve().relative_to(side.project.root.resolve())
        except ValueError:
            relative = None
    message = exc.message.replace(str(exc.path), relative.as_posix()) if relative else exc.message
    kept = {key: exc.details[key] for key in ("detail", "context") if exc.details.get(key)}
    return MigrationFailed(
        f"{side.label}: {message}",
        version=exc.version,
        path=relative or exc.path,
        line=exc.line,
        sqlstate=exc.sqlstate,
        pg_message=exc.pg_message,
        statement_excerpt=exc.statement_excerpt,
        hint=exc.hint
        or f"the migrations of {side.label} do not replay on a scratch database; impact compares "
        "two sides that each replay (choose another --base or --head, or fix the migration)",
        details=kept,
    )


def _view_mutability(executor: PsycopgExecutor, views: list[TableKey]) -> dict[TableKey, Mutability]:
    """Insertable/updatable/deletable per view, as Hasura reads it (pg_table_metadata.sql:
    pg_relation_is_updatable bits 8 insert, 4 update, 16 delete)."""
    if not views:
        return {}
    parts = ", ".join(
        f"('{index}', pg_relation_is_updatable('{quoted_path(view)}'::regclass, true))"
        for index, view in enumerate(views)
    )
    answer = executor.fetch_json(
        f"SELECT coalesce(json_object_agg(k, v), '{{}}'::json) FROM (VALUES {parts}) q(k, v)",
        session=SESSION_SETTINGS,
    )
    out = {}
    for index, view in enumerate(views):
        bits = int((answer or {}).get(str(index)) or 0)
        out[view] = Mutability(insertable=bits & 8 == 8, updatable=bits & 4 == 4, deletable=bits & 16 == 16)
    return out


def _enum_rows(
    executor: PsycopgExecutor, catalog: DbCatalog, tables: list[TableKey]
) -> dict[TableKey, list[EnumValue]]:
    """The rows of `is_enum` tables: key value and, when there is one other column, its text as the
    description (Backends/Postgres/DDL/Table.hs fetchAndValidateEnumValues)."""
    parts = []
    shapes: list[TableKey] = []
    for key in tables:
        table = catalog.table(key)
        if table is None or len(table.primary_key) != 1:
            continue
        others = [c.name for c in table.columns if c.name not in table.primary_key]
        value = quoted(table.primary_key[0])
        comment = f"{quoted(others[0])}::text" if len(others) == 1 else "NULL::text"
        parts.append(
            f"('{len(shapes)}', (SELECT coalesce(json_agg(json_build_array({value}::text, {comment})), "
            f"'[]'::json) FROM {quoted_path(key)}))"
        )
        shapes.append(key)
    if not parts:
        return {}
    answer = executor.fetch_json(
        "SELECT coalesce(json_object_agg(k, v), '{}'::json) FROM (VALUES " + ", ".join(parts) + ") q(k, v)",
        session=SESSION_SETTINGS,
    )
    return {
        key: [EnumValue(str(v), d) for v, d in ((answer or {}).get(str(index)) or [])]
        for index, key in enumerate(shapes)
    }


def project_root_in(repo_root: Path, project_root: Path) -> str:
    """The project folder relative to the repository's top level ("" at the top)."""
    relative = project_root.resolve().relative_to(repo_root.resolve())
    return "" if str(relative) == "." else relative.as_posix()
