"""The `--online` checks: what a running Hasura says about the project.

Three questions, each one or two metadata API calls: is the server's metadata consistent (each
inconsistent object mapped back to the local file that defines it, contract §7.5); does the
server hold the local metadata (a semantic diff, `check.drift`); and do the migrations the server
recorded as applied match the local ones (`migration_state.compare_state`).
"""

from __future__ import annotations

import re
from typing import Any

from kedge_hasura.actions.check.codes import FindingSink
from kedge_hasura.actions.check.drift import diff_metadata
from kedge_hasura.actions.deploy.migration_state import compare_state
from kedge_hasura.hasura.cli_state import CliState
from kedge_hasura.hasura.client import HasuraClient
from kedge_hasura.hasura.models import InconsistentObject
from kedge_hasura.project.metadata import JsonPath, comparable, table_name
from kedge_hasura.project.metadata_model import Metadata, MetadataProject, TableEntry
from kedge_hasura.project.migrations import DatabaseMigrations, MigrationScan

# "select_permission user in table public.author in source default" and the like (contract §7.5).
_IN_TABLE = re.compile(r" in table (?P<schema>[^ .]+)\.(?P<table>[^ ]+) in source (?P<source>\S+)")
_IN_SOURCE = re.compile(r" in source (?P<source>\S+)")
_RELATIONSHIP_KEYS = {"object_relation": "object_relationships", "array_relation": "array_relationships"}
_TABLE_ITEM_KEYS = {
    "computed_field": "computed_fields",
    "remote_relationship": "remote_relationships",
    "event_trigger": "event_triggers",
}
_TOP_LEVEL_KEYS = {
    "remote_schema": "remote_schemas",
    "remote_schema_permission": "remote_schemas",
    "remote_schema_remote_relationship": "remote_schemas",
    "action": "actions",
    "action_permission": "actions",
    "cron_trigger": "cron_triggers",
    "rest_endpoint": "rest_endpoints",
    "query_collections": "query_collections",
}


def check_server_consistency(
    client: HasuraClient, project: MetadataProject | None, sink: FindingSink
) -> None:
    """Each object the server reports inconsistent, at its local definition where there is one."""
    report = client.get_inconsistent_metadata()
    for item in report.inconsistent_objects:
        at = locate_inconsistent(project.metadata, item) if project is not None else None
        sink.add(
            "inconsistent-metadata",
            f"the server reports {item.describe()}",
            at=at,
            path=project.directory.root if project is not None and at is None else None,
        )


def locate_inconsistent(metadata: Metadata, item: InconsistentObject) -> JsonPath | None:
    """The local JSON path of the object an inconsistency names, or None when it has none."""
    definition: Any = item.definition if isinstance(item.definition, dict) else {}
    name = item.name or ""
    kind = item.type
    if kind in _TOP_LEVEL_KEYS:
        key = _TOP_LEVEL_KEYS[kind]
        wanted = definition.get("name") or definition.get("remote_schema") or definition.get("action")
        items = getattr(metadata, key)
        return next((entry.at for entry in items if getattr(entry, "name", None) == wanted), None)
    if kind == "inherited_role":
        wanted = definition.get("role_name")
        return next((r.at for r in metadata.inherited_roles if r.role_name == wanted), None)
    source_name = definition.get("source")
    if source_name is None and (found := _IN_SOURCE.search(name)) is not None:
        source_name = found.group("source")
    source = metadata.source(source_name) if source_name else None
    if source is None and len(metadata.sources) == 1:
        source = metadata.sources[0]
    if source is None:
        return None
    if kind == "source":
        return source.at
    if kind in ("function", "function_permission"):
        function = table_name(definition.get("function", definition))
        return next((f.function.at for f in source.functions if f.function.key == function), source.at)
    entry = _table_entry(source.tables, kind, definition, name)
    if entry is None:
        return source.at
    if kind == "table":
        return entry.table.at
    if kind in _RELATIONSHIP_KEYS:
        return _named(getattr(entry, _RELATIONSHIP_KEYS[kind]), definition.get("name"), entry)
    if kind in _TABLE_ITEM_KEYS:
        wanted = definition.get("name") or (definition.get("configuration") or {}).get("name")
        return _named(getattr(entry, _TABLE_ITEM_KEYS[kind]), wanted, entry)
    if kind.endswith("_permission"):
        permissions = getattr(entry, f"{kind.removesuffix('_permission')}_permissions", [])
        role = definition.get("role")
        return next((p.at for p in permissions if p.role == role), entry.at)
    return entry.at


def _table_entry(
    tables: list[TableEntry], kind: str, definition: dict[str, Any], name: str
) -> TableEntry | None:
    # A table's definition is its {schema, name} (or, on some versions, the whole table entry);
    # other objects carry `table`. Failing both, the display name says "in table s.t".
    candidates = [definition, definition.get("table")] if kind == "table" else [definition.get("table")]
    key = next((found for found in map(table_name, candidates) if found is not None), None)
    if key is None and (match := _IN_TABLE.search(f" in {name}" if kind == "table" else name)) is not None:
        key = (match.group("schema"), match.group("table"))
    return next((entry for entry in tables if entry.table.key == key), None)


def _named(items: list[Any], wanted: Any, entry: TableEntry) -> JsonPath:
    return next((item.at for item in items if getattr(item, "name", None) == wanted), entry.at)


def check_metadata_drift(client: HasuraClient, project: MetadataProject, sink: FindingSink) -> None:
    """Objects that differ between the local metadata and the server's export."""
    local, exported = comparable(
        project.metadata.to_json(),
        client.export_metadata().metadata,
        config_version=project.directory.config_version,
    )
    for item in diff_metadata(local, exported):
        if item.change == "added":
            message = f"{item.label} is in the local metadata but not on the server"
        elif item.change == "removed":
            message = f"{item.label} is on the server but not in the local metadata"
        else:
            fields = f" ({', '.join(item.fields)})" if item.fields else ""
            message = f"{item.label} differs between the local metadata and the server{fields}"
        sink.add(f"metadata-drift-{item.change}", message, at=item.at)


def check_migration_state(
    client: HasuraClient, scan: MigrationScan, sink: FindingSink, *, database: str | None
) -> None:
    """Versions applied on the server only, dirty ones, and local ones not applied (compare_state)."""
    state = CliState(client.get_catalog_state().cli_state)
    names = (set(scan.databases) | set(state.databases())) if database is None else {database}
    for name in sorted(names):
        local = scan.databases.get(name) or DatabaseMigrations(
            database=name, directory=scan.root / name, migrations=()
        )
        compared = compare_state(local, state.versions(name))
        for version in compared.missing_locally:
            sink.add(
                "migration-missing-locally",
                f"version {version} is applied on the server but not in the project",
                path=local.directory,
                database=name,
                version=version,
            )
        for version in compared.dirty:
            migration = local.by_version(version)
            sink.add(
                "migration-dirty",
                f"version {version} is recorded as dirty (failed half-way) on the server",
                path=migration.location if migration else local.directory,
                database=name,
                version=version,
            )
        out_of_order = set(compared.out_of_order)
        for version in compared.pending:
            migration = local.by_version(version)
            code = "migration-out-of-order" if version in out_of_order else "migration-pending"
            detail = (
                f", older than the newest applied one ({compared.newest_applied})"
                if version in out_of_order
                else ""
            )
            sink.add(
                code,
                f"migration {migration.key if migration else version} is not applied on the server{detail}",
                path=migration.location if migration else local.directory,
                database=name,
                version=version,
            )
