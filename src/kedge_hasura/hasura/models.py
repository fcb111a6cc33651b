"""Typed bodies of Hasura's /v2/query, /v1/metadata, /v1/version and /healthz answers (pydantic v2).

Answers keep unknown keys (`extra="allow"`): newer servers add fields (contract §1.1, §11), and
a model must not reject or drop them. Request arguments (`RunSQLArgs`) are strict instead.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kedge_hasura.errors import HasuraAPIError
from kedge_hasura.hasura.version import ServerVersion


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorBody(_Answer):
    """Hasura's error JSON (QErr, contract §1.4); `code` is an open set of strings."""

    path: str = "$"
    error: str
    code: str
    internal: Any = None


class PostgresErrorFields(_Answer):
    """`internal.error` of a postgres-error: `status_code` is the SQLSTATE, `description` the DETAIL."""

    exec_status: str | None = None
    message: str | None = None
    status_code: str | None = None
    hint: str | None = None
    description: str | None = None


class PostgresErrorInternal(_Answer):
    """`internal` of a postgres-error (contract §2.6); `statement` is the whole SQL that was sent."""

    statement: str | None = None
    prepared: bool | None = None
    arguments: list[Any] = []
    error: PostgresErrorFields | None = None


class RunSQLArgs(BaseModel):
    """The arguments of one `run_sql` (contract §2.2).

    `check_metadata_consistency` defaults to False as the official CLI sends it for migrations
    (§2.4); None leaves it out so the server's heuristic decides. `no_transaction` is sent only
    when True, and only to servers that support it (§2.7).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sql: str
    source: str = "default"
    cascade: bool = False
    read_only: bool = False
    check_metadata_consistency: bool | None = False
    no_transaction: bool | None = None

    def to_wire(self) -> dict[str, Any]:
        """The `args` object, shaped as the CLI sends it (optional keys only when they matter)."""
        args: dict[str, Any] = {"source": self.source, "sql": self.sql, "cascade": self.cascade}
        if self.read_only:
            args["read_only"] = True
        if self.check_metadata_consistency is not None:
            args["check_metadata_consistency"] = self.check_metadata_consistency
        if self.no_transaction:
            args["no_transaction"] = True
        return args


class ResultType(StrEnum):
    COMMAND_OK = "CommandOk"
    TUPLES_OK = "TuplesOk"


class RunSQLResult(_Answer):
    """The last statement's result (contract §2.5): CommandOk, or TuplesOk rows of text.

    Every value arrives as a string (`"1"`, `"t"`) or None for SQL NULL; the first row of
    `result` holds the column names.
    """

    result_type: ResultType
    result: list[list[str | None]] | None = None

    @property
    def columns(self) -> list[str]:
        """Column names of a TuplesOk result ([] for CommandOk)."""
        if self.result_type is not ResultType.TUPLES_OK or not self.result:
            return []
        return [name or "" for name in self.result[0]]

    @property
    def rows(self) -> list[list[str | None]]:
        """Data rows of a TuplesOk result, without the header ([] for CommandOk)."""
        if self.result_type is not ResultType.TUPLES_OK or not self.result:
            return []
        return self.result[1:]

    def as_dicts(self) -> list[dict[str, str | None]]:
        """Rows as {column: value}; a repeated column name keeps its last value."""
        columns = self.columns
        return [dict(zip(columns, row, strict=True)) for row in self.rows]


class InconsistentObject(_Answer):
    """One inconsistent metadata object (contract §7.5); `name` and `reason` are display text only.

    Key on `type` + `definition`; "Conflicting objects" entries carry `objects`, "Multiple
    definitions" entries carry `definitions`, and both may lack `name`/`definition`.
    """

    type: str
    name: str | None = None
    reason: str | None = None
    definition: Any = None
    message: Any = None

    def describe(self) -> str:
        """`type name: reason`, for messages."""
        label = f"{self.type} {self.name}" if self.name else self.type
        return f"{label}: {self.reason}" if self.reason else label


class MetadataWarning(_Answer):
    """A warning in a metadata answer (contract §7.2), e.g. code `track-table-failed`."""

    message: str | None = None
    type: str | None = None
    name: str | None = None
    code: str | None = None


class ReplaceMetadataResult(_Answer):
    """`replace_metadata` version 2: applied; `is_consistent` False lists what is broken (§7.2)."""

    is_consistent: bool
    inconsistent_objects: list[InconsistentObject] = []
    warnings: list[MetadataWarning] = []


class ReloadMetadataResult(_Answer):
    """`reload_metadata` (§7.3). `is_consistent` is None on servers from before Hasura issue #8129,
    which answer only `{"message": "success"}`: ask `get_inconsistent_metadata` then."""

    message: str | None = None
    is_consistent: bool | None = None
    inconsistent_objects: list[InconsistentObject] = []


class InconsistencyReport(_Answer):
    """`get_inconsistent_metadata` (§7.4)."""

    is_consistent: bool
    inconsistent_objects: list[InconsistentObject] = []


class ExportedMetadata(_Answer):
    """`export_metadata` version 2: the metadata and its resource_version, for optimistic locking (§7.1)."""

    resource_version: int
    metadata: dict[str, Any]


class CatalogState(_Answer):
    """`get_catalog_state` (§4.2): `id` is the metadata database's hasura_uuid."""

    id: str | None = None
    cli_state: dict[str, Any] = {}
    console_state: dict[str, Any] = {}

    @field_validator("cli_state", "console_state", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value


class QualifiedTable(BaseModel):
    """A table or view as Hasura names it: `{"schema": ..., "name": ...}`."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    schema_name: str = Field(alias="schema")
    name: str

    def to_wire(self) -> dict[str, str]:
        return {"schema": self.schema_name, "name": self.name}

    def __str__(self) -> str:
        return f"{self.schema_name}.{self.name}"


class TrackTablesResult(_Answer):
    """`pg_track_tables`: tables that could not be tracked come back as warnings (§8.2)."""

    warnings: list[MetadataWarning] = []


class HealthStatus(StrEnum):
    OK = "ok"
    WARN = "warn"  # up, but the metadata is inconsistent
    ERROR = "error"  # unhealthy, or inconsistent under ?strict=true


class HealthReport(BaseModel):
    """`GET /healthz`: plain text `OK`, `WARN: ...` or `ERROR...` (contract §1.7)."""

    status: HealthStatus
    message: str
    http_status: int

    @property
    def is_healthy(self) -> bool:
        return self.status is HealthStatus.OK


class VersionInfo(_Answer):
    """`GET /v1/version`: `{"version": "v2.x.y"}` plus whatever newer servers add."""

    version: str

    @property
    def parsed(self) -> ServerVersion | None:
        """The parsed version; None for builds that report something else (a commit hash)."""
        try:
            return ServerVersion.parse(self.version)
        except ValueError:
            return None


class HasuraInconsistentMetadata(HasuraAPIError):
    """The call would leave the metadata inconsistent, so Hasura refused it (contract §7.2).

    Defined here, beside the objects it carries; part of the `kedge_hasura.errors` tree.
    """

    def __init__(self, message: str, *, inconsistent_objects: tuple[InconsistentObject, ...], **kwargs: Any):
        super().__init__(message, **kwargs)
        self.inconsistent_objects = inconsistent_objects
