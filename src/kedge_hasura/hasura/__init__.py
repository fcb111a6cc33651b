"""The HTTP edge to Hasura GraphQL Engine v2; the only package that imports httpx.

`HasuraClient` makes the calls (run_sql, bulk, metadata, catalog state, tracking, version,
healthz); `models` types their answers; `CliState` edits the official CLI's migration state by
its rules. Failures are `kedge_hasura.errors.HasuraError` subclasses, mapped in one place.
"""

from kedge_hasura.hasura.cli_state import CliState
from kedge_hasura.hasura.client import DEFAULT_API_PATHS, SOURCE_TABLES_SQL, HasuraClient
from kedge_hasura.hasura.models import (
    CatalogState,
    ExportedMetadata,
    HealthReport,
    HealthStatus,
    InconsistencyReport,
    InconsistentObject,
    MetadataWarning,
    QualifiedTable,
    ReloadMetadataResult,
    ReplaceMetadataResult,
    ResultType,
    RunSQLArgs,
    RunSQLResult,
    TrackTablesResult,
    VersionInfo,
)
from kedge_hasura.hasura.version import NO_TRANSACTION_SINCE, PG_TRACK_TABLES_SINCE, ServerVersion

__all__ = [
    "DEFAULT_API_PATHS",
    "NO_TRANSACTION_SINCE",
    "PG_TRACK_TABLES_SINCE",
    "SOURCE_TABLES_SQL",
    "CatalogState",
    "CliState",
    "ExportedMetadata",
    "HasuraClient",
    "HealthReport",
    "HealthStatus",
    "InconsistencyReport",
    "InconsistentObject",
    "MetadataWarning",
    "QualifiedTable",
    "ReloadMetadataResult",
    "ReplaceMetadataResult",
    "ResultType",
    "RunSQLArgs",
    "RunSQLResult",
    "ServerVersion",
    "TrackTablesResult",
    "VersionInfo",
]
