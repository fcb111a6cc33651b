"""The double's /v2/query and /v1/metadata operations, behind plain method calls (no HTTP here).

State lives where Hasura keeps it: metadata and catalog state in `hdb_catalog` of the metadata
database (catalog.py), the list of inconsistent objects in memory, like Hasura's schema cache,
rebuilt when metadata changes, on reload, and after a run_sql whose metadata check is on.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .catalog import CatalogStore, install_pgcrypto
from .consistency import Catalog, find_inconsistencies, table_key
from .metadata_check import SchemaChange, Shape, after_commit_error, apply_change, new_inconsistencies
from .qerr import QErr, not_exists, parse_failed
from .sql import RunSQLArgs, Session, run_sql

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")

# Operations the server does not count as metadata changes (§3.3): no resource_version check.
_READ_ONLY_METADATA = {
    "export_metadata",
    "get_inconsistent_metadata",
    "get_catalog_state",
    "set_catalog_state",
    "pg_get_source_tables",
    "reload_metadata",
}
# Every reload_metadata argument; their defaults changed across versions (facts §2(d)).
_RELOAD_ARGUMENTS = (
    "reload_remote_schemas",
    "reload_sources",
    "recreate_event_triggers",
    "reload_data_connectors",
)
_SOURCE_TABLES = """
SELECT t.table_schema, t.table_name FROM information_schema.tables t
 WHERE t.table_schema NOT IN ('information_schema', 'pg_catalog', 'hdb_catalog', '_timescaledb_internal')
   AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = t.table_schema AND c.relname = t.table_name AND c.relispartition)
 ORDER BY 1, 2
"""


@dataclass(frozen=True)
class DoubleConfig:
    """How the double behaves: its databases, secret, version and which operations it lacks."""

    database_url: str  # the `default` source
    admin_secret: str | None = None
    version: str = "v2.48.5"
    metadata_database_url: str | None = None  # hdb_catalog lives here (default: database_url)
    extra_sources: dict[str, str] = field(default_factory=dict)
    unsupported_operations: frozenset[str] = frozenset()  # answered like a server that lacks them
    legacy_reload_response: bool = False  # reload_metadata answers only {"message": "success"} (#8129)
    # Errors without `internal`, as a server with HASURA_GRAPHQL_ADMIN_INTERNAL_ERRORS=false answers
    # (contract §2.6): no SQLSTATE, no message, no statement reach the caller.
    hide_internal_errors: bool = False

    def version_at_least(self, major: int, minor: int, patch: int) -> bool:
        match = _VERSION.match(self.version)
        if match is None:
            return True  # a development build: everything
        return tuple(int(part) for part in match.groups()) >= (major, minor, patch)


class HasuraAPI:
    """Dispatches envelopes `{"type", "args", "version"?, "resource_version"?}` to operations."""

    def __init__(self, config: DoubleConfig):
        self.config = config
        self.sources = {"default": config.database_url, **config.extra_sources}
        self.store = CatalogStore(config.metadata_database_url or config.database_url)
        self._lock = threading.RLock()  # Hasura serialises metadata changes too
        self.inconsistent: list[dict[str, Any]] = []

    def install(self) -> None:
        # Hasura creates pgcrypto in the metadata database when it initialises its catalogue
        # (and in a source only when that source gets event triggers: see _commit).
        self.store.install()
        self._rebuild(self.store.metadata()[0])

    # -- /v2/query -------------------------------------------------------------------------------

    def query(self, envelope: dict[str, Any]) -> Any:
        operation = envelope.get("type")
        if operation in ("run_sql", "pg_run_sql"):
            return self._run_sql(RunSQLArgs.parse(envelope.get("args")))
        if operation == "bulk":
            items = envelope.get("args")
            if not isinstance(items, list):
                raise parse_failed("expected a list of queries for bulk")
            results = []
            for index, item in enumerate(items):
                # Each item in its own transaction; stop at the first failure (§3.1).
                try:
                    if not isinstance(item, dict) or item.get("type") not in ("run_sql", "pg_run_sql"):
                        raise QErr(400, "not-supported", "the test double runs only run_sql in a bulk")
                    results.append(self._run_sql(RunSQLArgs.parse(item.get("args"))))
                except QErr as error:
                    raise error.under(f"$.args[{index}]") from None
            return results
        raise parse_failed(f'unknown query type "{operation}"', "$.type")

    def _run_sql(self, args: RunSQLArgs) -> Any:
        conninfo = self._source(args.source)
        honour = self.config.version_at_least(2, 45, 3)  # 2.44 accepted the flag and ignored it (#10707)
        if not args.check_metadata_consistency:
            return run_sql(conninfo, args, honour_no_transaction=honour)
        with self._lock:
            # RunSQL.hs withMetadataCheck (metadata_check.py): diff inside the transaction, commit,
            # then rebuild the schema cache and fail on NEW inconsistencies, the SQL committed.
            metadata = copy.deepcopy(self.store.metadata()[0])
            source = next((s for s in metadata.get("sources") or [] if s.get("name") == args.source), None)
            tracked = [table_key(entry.get("table")) for entry in (source or {}).get("tables") or []]
            snapshot = Session(conninfo)
            try:
                before = Shape.read(snapshot)
            finally:
                snapshot.close()

            def check(session: Session) -> None:
                change = SchemaChange.between(tracked, before, Shape.read(session))
                if source is not None:
                    apply_change(source, change, cascade=args.cascade)

            result = run_sql(conninfo, args, honour_no_transaction=honour, before_commit=check)
            problems = self._inconsistencies(metadata)
            fresh = new_inconsistencies(self.inconsistent, problems)
            if fresh:
                raise after_commit_error(fresh)  # metadata and the schema cache stay as they were
            if metadata != self.store.metadata()[0]:
                self.store.save_metadata(metadata)
            self.inconsistent = problems
            return result

    # -- /v1/metadata ----------------------------------------------------------------------------

    def metadata(self, envelope: dict[str, Any]) -> Any:
        operation = str(envelope.get("type"))
        if operation in self.config.unsupported_operations:
            raise parse_failed(f'unknown metadata command "{operation}"', "$")
        handler = self._handlers().get(operation)
        if handler is None:
            raise parse_failed(f'unknown metadata command "{operation}"', "$")
        with self._lock:
            if operation not in _READ_ONLY_METADATA and "resource_version" in envelope:
                current = self.store.metadata()[1]
                if envelope["resource_version"] != current:
                    raise QErr(
                        409,
                        "conflict",
                        f"metadata resource version referenced ({envelope['resource_version']}) "
                        "did not match current version",
                        path="$",
                    )
            if operation in _READ_ONLY_METADATA:
                return handler(envelope, None)
            # Handlers edit a copy; one that raises leaves the stored metadata as it was.
            metadata = copy.deepcopy(self.store.metadata()[0])
            answer = handler(envelope, metadata)
            self._commit(metadata)
            return answer

    def _handlers(self) -> dict[str, Callable[[dict[str, Any], Any], Any]]:
        return {
            "export_metadata": self._export_metadata,
            "replace_metadata": self._replace_metadata,
            "reload_metadata": self._reload_metadata,
            "get_inconsistent_metadata": lambda envelope, _: self._report(),
            "get_catalog_state": lambda envelope, _: self.store.catalog_state(),
            "set_catalog_state": self._set_catalog_state,
            "pg_get_source_tables": self._pg_get_source_tables,
            "pg_track_table": self._pg_track_table,
            "pg_untrack_table": self._pg_untrack_table,
            "pg_track_tables": self._pg_track_tables,
            "bulk": self._bulk,
        }

    def _export_metadata(self, envelope: dict[str, Any], _: Any) -> Any:
        metadata, resource_version = self.store.metadata()
        if envelope.get("version") == 2:
            return {"resource_version": resource_version, "metadata": metadata}
        return metadata

    def _replace_metadata(self, envelope: dict[str, Any], metadata: dict[str, Any]) -> Any:
        v2 = envelope.get("version") == 2
        args = envelope.get("args")
        new = args.get("metadata") if v2 and isinstance(args, dict) else args
        if not isinstance(new, dict):
            raise parse_failed("expected the metadata object", "$.args.metadata" if v2 else "$.args")
        allow = v2 and isinstance(args, dict) and args.get("allow_inconsistent_metadata") is True
        new = {"version": 3, "sources": [], **new}
        problems = self._inconsistencies(new)
        if problems and not allow:
            # Nothing is stored (§7.2).
            raise QErr(400, "unexpected", "cannot continue due to inconsistent metadata", internal=problems)
        metadata.clear()
        metadata.update(new)
        if not v2:
            return {"message": "success"}
        return {"is_consistent": not problems, "inconsistent_objects": problems}

    def _reload_metadata(self, envelope: dict[str, Any], _: Any) -> Any:
        args = envelope.get("args") or {}
        omitted = [name for name in _RELOAD_ARGUMENTS if name not in args]
        if omitted:
            # Stricter than Hasura, on purpose: the defaults of these changed across versions
            # (facts §2(d)), so a client that leaves one out means different things on different
            # servers. A real server accepts the request with its own defaults.
            raise parse_failed(
                f"the test double refuses reload_metadata without explicit {', '.join(omitted)}: "
                "their defaults differ between Hasura versions"
            )
        names = args.get("reload_sources")
        if isinstance(names, list):
            for name in names:
                if name not in self.sources:
                    raise not_exists(f'source with name "{name}" does not exist')
        self._rebuild(self.store.metadata()[0])
        if self.config.legacy_reload_response:
            return {"message": "success"}
        answer: dict[str, Any] = {"message": "success", "is_consistent": not self.inconsistent}
        if self.inconsistent:
            answer["inconsistent_objects"] = self.inconsistent
        return answer

    def _report(self) -> Any:
        return {"is_consistent": not self.inconsistent, "inconsistent_objects": self.inconsistent}

    def _set_catalog_state(self, envelope: dict[str, Any], _: Any) -> Any:
        args = envelope.get("args")
        if not isinstance(args, dict) or args.get("type") not in ("cli", "console") or "state" not in args:
            raise parse_failed('expected {"type": "cli" | "console", "state": ...}')
        self.store.set_catalog_state(args["type"], args["state"])
        return {"message": "success"}

    def _pg_get_source_tables(self, envelope: dict[str, Any], _: Any) -> Any:
        source = (envelope.get("args") or {}).get("source", "default")
        session = Session(self._source(source))
        try:
            return [{"schema": schema, "name": name} for schema, name in session.query(_SOURCE_TABLES)]
        finally:
            session.close()

    def _pg_track_table(self, envelope: dict[str, Any], metadata: dict[str, Any]) -> Any:
        args = envelope.get("args")
        if not isinstance(args, dict) or "table" not in args:
            raise parse_failed('key "table" not found')
        source_name = str(args.get("source", "default"))
        source = self._metadata_source(metadata, source_name)
        table = table_key(args["table"])
        shown = f"{table[0]}.{table[1]}"
        if any(table_key(entry.get("table")) == table for entry in source["tables"]):
            raise QErr(400, "already-tracked", f'view/table already tracked: "{shown}"')
        catalog = Catalog.read(self._source(source_name))
        if table not in catalog.columns:
            raise not_exists(f'no such table/view exists in source: "{shown}"')
        entry: dict[str, Any] = {"table": {"name": table[1], "schema": table[0]}}
        if args.get("configuration"):
            entry["configuration"] = args["configuration"]
        source["tables"].append(entry)
        return {"message": "success"}

    def _pg_untrack_table(self, envelope: dict[str, Any], metadata: dict[str, Any]) -> Any:
        args = envelope.get("args") or {}
        source = self._metadata_source(metadata, str(args.get("source", "default")))
        table = table_key(args.get("table"))
        kept = [entry for entry in source["tables"] if table_key(entry.get("table")) != table]
        if len(kept) == len(source["tables"]):
            raise QErr(400, "already-untracked", f'view/table already untracked: "{table[0]}.{table[1]}"')
        source["tables"] = kept
        return {"message": "success"}

    def _pg_track_tables(self, envelope: dict[str, Any], metadata: dict[str, Any]) -> Any:
        if not self.config.version_at_least(2, 26, 0):
            raise parse_failed('unknown metadata command "pg_track_tables"', "$")
        args = envelope.get("args") or {}
        allow_warnings = args.get("allow_warnings", True) is not False
        warnings = []
        for index, item in enumerate(args.get("tables") or []):
            try:
                self._pg_track_table({"args": item}, metadata)
            except QErr as error:
                if not allow_warnings:
                    raise error.under(f"$.args.tables[{index}]") from None
                table = table_key(item.get("table"))
                warnings.append(
                    {
                        "type": "table",
                        "name": f"table {table[0]}.{table[1]} in source {item.get('source', 'default')}",
                        "code": "track-table-failed",
                        "message": error.error,
                    }
                )
        return {"message": "success", "warnings": warnings} if warnings else {"message": "success"}

    def _bulk(self, envelope: dict[str, Any], metadata: dict[str, Any]) -> Any:
        # Sequential, stops at the first error; metadata is saved once at the end (§3.3), so a
        # failing bulk leaves it unchanged: the caller discards `metadata` when this raises.
        results = []
        for index, item in enumerate(envelope.get("args") or []):
            try:
                operation = str(item.get("type"))
                handler = self._handlers().get(operation)
                if handler is None or operation in self.config.unsupported_operations:
                    raise parse_failed(f'unknown metadata command "{operation}"', "$")
                results.append(handler(item, metadata))
            except QErr as error:
                raise error.under(f"$.args[{index}]") from None
        return results

    # -- helpers ---------------------------------------------------------------------------------

    def _commit(self, metadata: dict[str, Any]) -> None:
        self.store.save_metadata(metadata)
        for source in metadata.get("sources") or []:
            if source.get("name") in self.sources and _has_event_triggers(source):
                # A source's event-trigger catalogue (hdb_catalog.event_log) needs pgcrypto, so
                # Hasura creates it there, and only there, when the first trigger is defined.
                install_pgcrypto(self.sources[source["name"]])
        self._rebuild(metadata)

    def _rebuild(self, metadata: dict[str, Any]) -> None:
        self.inconsistent = self._inconsistencies(metadata)

    def _inconsistencies(self, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        cache: dict[str, Catalog] = {}

        def catalog(source: str) -> Catalog | None:
            if source not in self.sources:
                return None
            if source not in cache:
                cache[source] = Catalog.read(self.sources[source])
            return cache[source]

        return find_inconsistencies(metadata, catalog)

    def _source(self, name: str) -> str:
        if name not in self.sources:
            raise not_exists(f'source with name "{name}" does not exist')
        return self.sources[name]

    @staticmethod
    def _metadata_source(metadata: dict[str, Any], name: str) -> dict[str, Any]:
        for source in metadata.get("sources") or []:
            if source.get("name") == name:
                source.setdefault("tables", [])
                result: dict[str, Any] = source
                return result
        raise not_exists(f'source with name "{name}" does not exist')


def _has_event_triggers(source: dict[str, Any]) -> bool:
    return any(entry.get("event_triggers") for entry in source.get("tables") or [])
