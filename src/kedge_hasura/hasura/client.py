"""HasuraClient: the calls kedge-hasura makes to a Hasura v2 server, typed, one method per call.

SQL goes to `/v2/query` (`run_sql`, `bulk`), everything else to `/v1/metadata` (contract §0). The
paths come from config.yaml's `api_paths` (§1.1). Version-gated features are checked against
`GET /v1/version` before anything is sent, so an old server never half-understands a request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import httpx
from pydantic import SecretStr

from kedge_hasura.errors import HasuraAPIError, HasuraBadResponse, HasuraUnsupported
from kedge_hasura.hasura._answers import decode_json, decode_model, error_from_response
from kedge_hasura.hasura._http import MAX_RESPONSE_BYTES, HttpSession, LogLine
from kedge_hasura.hasura.cli_state import CliState
from kedge_hasura.hasura.models import (
    CatalogState,
    ExportedMetadata,
    HealthReport,
    HealthStatus,
    InconsistencyReport,
    QualifiedTable,
    ReloadMetadataResult,
    ReplaceMetadataResult,
    RunSQLArgs,
    RunSQLResult,
    TrackTablesResult,
    VersionInfo,
)
from kedge_hasura.hasura.version import NO_TRANSACTION_SINCE, OLDEST_SUPPORTED, ServerVersion

DEFAULT_API_PATHS = {"v2_query": "v2/query", "v1_metadata": "v1/metadata", "version": "v1/version"}
HEALTHZ_PATH = "healthz"  # not configurable in the official CLI either (§1.1)

# Fallback for servers without pg_get_source_tables (§8.1): the same set as the server's
# listAllTablesSql, i.e. without Hasura's and PostgreSQL's schemas and without partitions.
SOURCE_TABLES_SQL = """\
SELECT t.table_schema, t.table_name
  FROM information_schema.tables t
 WHERE t.table_schema NOT IN ('information_schema', 'pg_catalog', 'hdb_catalog', '_timescaledb_internal')
   AND t.table_schema NOT LIKE 'pg\\_toast%' AND t.table_schema NOT LIKE 'pg\\_temp%'
   AND NOT EXISTS (
       SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = t.table_schema AND c.relname = t.table_name AND c.relispartition)
 ORDER BY 1, 2;
"""
_UNKNOWN_OPERATION_CODES = {"not-supported", "parse-failed"}

TableRef = QualifiedTable | tuple[str, str] | Mapping[str, str]


class HasuraClient:
    """A synchronous client for one Hasura endpoint; use it as a context manager.

    Example:
        with HasuraClient(base_url="http://localhost:8080", admin_secret=secret) as hasura:
            result = hasura.run_sql("SELECT 1 AS one")
            result.as_dicts()  # [{"one": "1"}]
    """

    def __init__(
        self,
        *,
        base_url: str,
        admin_secret: str | SecretStr | None = None,
        timeout: float = 60.0,
        verify: bool | str | Path = True,
        api_paths: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        log: LogLine | None = None,
        connect_retries: int = 2,
        retry_backoff: float = 0.25,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        require_supported: bool = False,
    ):
        secret = SecretStr(admin_secret) if isinstance(admin_secret, str) else admin_secret
        paths = {**DEFAULT_API_PATHS, **{k: v for k, v in (api_paths or {}).items() if v}}
        self._paths = {key: value.strip("/") for key, value in paths.items()}
        self._session = HttpSession(
            base_url=base_url,
            admin_secret=secret,
            timeout=timeout,
            verify=verify,
            transport=transport,
            log=log,
            connect_retries=connect_retries,
            retry_backoff=retry_backoff,
            max_response_bytes=max_response_bytes,
        )
        self._version: VersionInfo | None = None
        # The CLI asks for this: the first call of any kind reads /v1/version and refuses a server
        # older than OLDEST_SUPPORTED before anything is sent to it.
        self._require_supported = require_supported

    def __repr__(self) -> str:
        return f"HasuraClient(base_url={self._session.endpoint!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def endpoint(self) -> str:
        """The server's base URL (no credentials are part of it)."""
        return self._session.endpoint

    @property
    def timeout(self) -> float:
        """Seconds a request may take before it counts as unanswered (--timeout)."""
        return self._session.timeout

    def close(self) -> None:
        """Close the connection pool."""
        self._session.close()

    def version(self) -> VersionInfo:
        """`GET /v1/version` (asked once, then remembered)."""
        if self._version is None:
            operation = "GET /v1/version"
            response = self._session.get(self._paths["version"], operation=operation)
            data = decode_json(response, operation=operation, secret=self._session.secret, item_count=None)
            self._version = decode_model(VersionInfo, data, operation=operation)
        if self._require_supported:
            _refuse_unsupported(self._version)
        return self._version

    def server_version(self) -> ServerVersion | None:
        """The parsed server version; None when the server reports something else (a dev build)."""
        return self.version().parsed

    def supports_no_transaction(self) -> bool:
        """Whether `run_sql` honours `no_transaction` (v2.45.3+, §2.7); False when unknown."""
        parsed = self.server_version()
        return parsed is not None and parsed.supports_no_transaction

    def supports_pg_track_tables(self) -> bool:
        """Whether `pg_track_tables` exists (v2.26.0+, §8.2); False when unknown."""
        parsed = self.server_version()
        return parsed is not None and parsed.supports_pg_track_tables

    def healthz(self, *, strict: bool = False) -> HealthReport:
        """`GET /healthz` (`?strict=true` turns inconsistent metadata into an error, §1.7).

        A server that answers `ERROR` is a result (status error), not an exception.
        """
        operation = "GET /healthz"
        params = {"strict": "true"} if strict else None
        response = self._session.get(HEALTHZ_PATH, operation=operation, params=params)
        text = response.text.strip()
        if response.status_code == 200 and text.startswith("OK"):
            return HealthReport(status=HealthStatus.OK, message=text, http_status=200)
        if response.status_code == 200 and text.startswith("WARN"):
            return HealthReport(status=HealthStatus.WARN, message=text, http_status=200)
        if response.status_code == 500 and text.startswith("ERROR"):
            return HealthReport(status=HealthStatus.ERROR, message=text, http_status=500)
        if response.status_code == 200:
            raise HasuraBadResponse(
                f"unexpected {operation} answer: {text.splitlines()[0][:200] if text else '(empty)'}",
                status=200,
                hint="is the endpoint a Hasura v2 server? check --endpoint (HASURA_GRAPHQL_ENDPOINT)",
            )
        raise error_from_response(response, operation=operation, secret=self._session.secret)

    def run_sql(
        self,
        sql: str,
        *,
        source: str = "default",
        cascade: bool = False,
        read_only: bool = False,
        check_metadata_consistency: bool | None = False,
        no_transaction: bool | None = None,
    ) -> RunSQLResult:
        """Run `sql` in one transaction (unless no_transaction) on a source; the last statement's result.

        Raises:
            HasuraPostgresError: PostgreSQL rejected it; the whole string was rolled back.
            HasuraUnsupported: no_transaction on a server older than v2.45.3; nothing was sent.
            HasuraUnreachable: with may_have_reached_server True the SQL may have been applied.
        """
        args = RunSQLArgs(
            sql=sql,
            source=source,
            cascade=cascade,
            read_only=read_only,
            check_metadata_consistency=check_metadata_consistency,
            no_transaction=no_transaction,
        )
        self._check_run_sql_features([args])
        data = self._query({"type": "run_sql", "args": args.to_wire()}, operation="run_sql")
        return decode_model(RunSQLResult, data, operation="run_sql")

    def bulk(self, items: Sequence[RunSQLArgs]) -> list[RunSQLResult]:
        """Run several `run_sql` in order, each in its own transaction; stops at the first failure.

        Not atomic (§3.1): the items before a failing one stay committed. The error's
        `item_index` (0-based) names the failing item.
        """
        if not items:
            return []
        self._check_run_sql_features(items)
        body = {"type": "bulk", "args": [{"type": "run_sql", "args": item.to_wire()} for item in items]}
        data = self._query(body, operation="bulk", item_count=len(items))
        if not isinstance(data, list) or len(data) != len(items):
            raise HasuraBadResponse(
                f"Hasura answered bulk with {type(data).__name__} instead of {len(items)} results",
                status=200,
            )
        return [decode_model(RunSQLResult, item, operation="bulk") for item in data]

    def metadata(
        self,
        operation: str,
        args: Any,
        *,
        version: int | None = None,
        resource_version: int | None = None,
    ) -> Any:
        """Any /v1/metadata call, `{"type", "version"?, "resource_version"?, "args"}`; the raw JSON answer."""
        body: dict[str, Any] = {"type": operation}
        if version is not None:
            body["version"] = version
        if resource_version is not None:
            body["resource_version"] = resource_version
        body["args"] = args
        item_count = len(args) if operation == "bulk" and isinstance(args, list) else None
        if self._require_supported:
            self.version()
        return self._session.post(
            self._paths["v1_metadata"], body, operation=operation, item_count=item_count
        )

    def export_metadata(self) -> ExportedMetadata:
        """`export_metadata` version 2: the metadata with its resource_version (§7.1)."""
        data = self.metadata("export_metadata", {}, version=2)
        return decode_model(ExportedMetadata, data, operation="export_metadata")

    def export_metadata_v1(self) -> dict[str, Any]:
        """`export_metadata` version 1: the bare metadata object (§6.5)."""
        data = self.metadata("export_metadata", {})
        if not isinstance(data, dict):
            raise HasuraBadResponse(
                "Hasura answered export_metadata with something other than an object", status=200
            )
        return data

    def replace_metadata(
        self,
        metadata: Mapping[str, Any],
        *,
        allow_inconsistent: bool = False,
        allow_warnings: bool = True,
        resource_version: int | None = None,
    ) -> ReplaceMetadataResult:
        """`replace_metadata` version 2 (§7.2). Check `is_consistent`: it can be False with HTTP 200.

        Raises:
            HasuraInconsistentMetadata: allow_inconsistent is False and the result would be inconsistent.
            HasuraConflict: resource_version did not match the server's.
        """
        args: dict[str, Any] = {"allow_inconsistent_metadata": allow_inconsistent, "metadata": dict(metadata)}
        if not allow_warnings:
            args["allow_warnings"] = False  # True is the server's default; older servers lack the key
        data = self.metadata("replace_metadata", args, version=2, resource_version=resource_version)
        return decode_model(ReplaceMetadataResult, data, operation="replace_metadata")

    def reload_metadata(
        self,
        *,
        reload_remote_schemas: bool | Sequence[str] = True,
        reload_sources: bool | Sequence[str] = True,
        recreate_event_triggers: bool = False,
        reload_data_connectors: bool = True,
    ) -> ReloadMetadataResult:
        """`reload_metadata` (§7.3); `is_consistent` None means an old server that does not say.

        Every argument is sent, always: their defaults changed across server versions (facts
        §2(d): both False on the oldest, remote schemas not reloaded next, everything but event
        triggers now), so an omitted one means different things on different servers. Servers
        from before `reload_data_connectors` ignore keys they do not know (aeson `withObject`).
        """
        args = {
            "reload_remote_schemas": _bool_or_names(reload_remote_schemas),
            "reload_sources": _bool_or_names(reload_sources),
            "recreate_event_triggers": recreate_event_triggers,
            "reload_data_connectors": reload_data_connectors,
        }
        data = self.metadata("reload_metadata", args)
        return decode_model(ReloadMetadataResult, data, operation="reload_metadata")

    def get_inconsistent_metadata(self) -> InconsistencyReport:
        """`get_inconsistent_metadata` (§7.4)."""
        data = self.metadata("get_inconsistent_metadata", {})
        return decode_model(InconsistencyReport, data, operation="get_inconsistent_metadata")

    def get_catalog_state(self) -> CatalogState:
        """`get_catalog_state` (§4.2)."""
        data = self.metadata("get_catalog_state", {})
        return decode_model(CatalogState, data, operation="get_catalog_state")

    def set_catalog_state(self, state: Mapping[str, Any], *, type: Literal["cli", "console"] = "cli") -> None:
        """`set_catalog_state`: REPLACES the whole cli or console state (§4.3); see `update_cli_state`."""
        self.metadata("set_catalog_state", {"type": type, "state": dict(state)})

    def update_cli_state(self, mutator: Callable[[CliState], None]) -> CliState:
        """Read-modify-write of `cli_state`, keeping every key the mutator does not touch (§4.3).

        `mutator` edits a private copy; `settings.migration_mode` is set to "true" when missing
        (as the CLI does before migrate commands). Two round trips, no compare-and-swap: a
        concurrent writer can lose an update, as with the official CLI.
        """
        state = CliState(self.get_catalog_state().cli_state)
        state.ensure_default_settings()
        mutator(state)
        self.set_catalog_state(state.data, type="cli")
        return state

    def pg_get_source_tables(self, source: str = "default") -> list[QualifiedTable]:
        """Every table and view of a source, tracked or not (§8.1).

        Servers without `pg_get_source_tables` answer 400 not-supported/parse-failed; then the
        list comes from a read-only run_sql on information_schema instead.
        """
        try:
            data = self.metadata("pg_get_source_tables", {"source": source})
        except HasuraAPIError as exc:
            if exc.status != 400 or exc.code not in _UNKNOWN_OPERATION_CODES:
                raise
            result = self.run_sql(
                SOURCE_TABLES_SQL, source=source, read_only=True, check_metadata_consistency=None
            )
            return [QualifiedTable(schema_name=row[0] or "", name=row[1] or "") for row in result.rows]
        if not isinstance(data, list):
            raise HasuraBadResponse(
                "Hasura answered pg_get_source_tables with something other than a list", status=200
            )
        return [decode_model(QualifiedTable, item, operation="pg_get_source_tables") for item in data]

    def pg_track_table(
        self,
        table: TableRef,
        *,
        source: str = "default",
        configuration: Mapping[str, Any] | None = None,
    ) -> None:
        """`pg_track_table` (§8.2). An already tracked table is a HasuraAPIError `already-tracked`."""
        self.metadata("pg_track_table", _track_args(_table(table), source, configuration))

    def pg_track_tables(
        self, tables: Iterable[TableRef], *, source: str = "default", allow_warnings: bool = True
    ) -> TrackTablesResult:
        """Track many tables in one call (§8.2).

        On v2.26.0+ this is `pg_track_tables`: with allow_warnings, tables that fail come back as
        warnings and the rest are tracked. Older (or unknown) servers get a /v1/metadata `bulk` of
        `pg_track_table` items instead, which is all-or-nothing (§3.3) whatever allow_warnings says.
        """
        items = [_track_args(_table(table), source, None) for table in tables]
        if not items:
            return TrackTablesResult()
        if self.supports_pg_track_tables():
            data = self.metadata("pg_track_tables", {"tables": items, "allow_warnings": allow_warnings})
            return decode_model(TrackTablesResult, data, operation="pg_track_tables")
        self.metadata("bulk", [{"type": "pg_track_table", "args": item} for item in items])
        return TrackTablesResult()

    def _query(self, body: dict[str, Any], *, operation: str, item_count: int | None = None) -> Any:
        if self._require_supported:
            self.version()
        return self._session.post(self._paths["v2_query"], body, operation=operation, item_count=item_count)

    def _check_run_sql_features(self, items: Sequence[RunSQLArgs]) -> None:
        if not any(item.no_transaction for item in items):
            return
        parsed = self.server_version()
        if parsed is not None and parsed.supports_no_transaction:
            return
        shown = str(parsed) if parsed is not None else self.version().version
        raise HasuraUnsupported(
            f"Hasura {shown} cannot run SQL outside a transaction (run_sql no_transaction needs "
            f"{NO_TRANSACTION_SINCE} or newer); nothing was sent",
            feature="run_sql no_transaction",
            required=str(NO_TRANSACTION_SINCE),
            server_version=shown,
            hint="upgrade Hasura, or remove the `-- hasura:no-transaction` marker and the statements "
            "that cannot run in a transaction (CREATE INDEX CONCURRENTLY, VACUUM, ...)",
        )


def _refuse_unsupported(info: VersionInfo) -> None:
    parsed = info.parsed
    if parsed is None or parsed >= OLDEST_SUPPORTED:
        return  # a development build reports a commit hash: let it through
    raise HasuraUnsupported(
        f"Hasura {parsed} is older than {OLDEST_SUPPORTED}, the oldest version kedge-hasura supports "
        "(config v3 projects need Hasura v2); nothing was sent",
        feature="Hasura v2 metadata and migrations APIs",
        required=str(OLDEST_SUPPORTED),
        server_version=str(parsed),
        hint="upgrade the server to Hasura v2 (see Hasura's upgrade guide), or check --endpoint",
    )


def _bool_or_names(value: bool | Sequence[str]) -> bool | list[str]:
    return value if isinstance(value, bool) else list(value)


def _table(table: TableRef) -> QualifiedTable:
    if isinstance(table, QualifiedTable):
        return table
    if isinstance(table, tuple):
        return QualifiedTable(schema_name=table[0], name=table[1])
    return QualifiedTable.model_validate(dict(table))


def _track_args(
    table: QualifiedTable, source: str, configuration: Mapping[str, Any] | None
) -> dict[str, Any]:
    args: dict[str, Any] = {"table": table.to_wire(), "source": source}
    if configuration is not None:
        args["configuration"] = dict(configuration)
    return args
