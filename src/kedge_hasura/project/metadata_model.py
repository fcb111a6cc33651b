"""Typed models of the v3 metadata (contract §6), built on the loaded `MetadataDirectory`.

Every model keeps the keys it does not declare (`extra="allow"`), so `to_json()` gives back what
was loaded: newer servers add keys the CLI passes through unchanged, and so do we. Every object
also keeps its JSON path (`at`), so a check that finds a problem in it can name the file and line
through `MetadataDirectory.location`. Filters and checks of permissions stay plain JSON: they are
boolean expressions walked by the checks, not structures with fixed keys.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from kedge_hasura.errors import ProjectError
from kedge_hasura.project.metadata import (
    ACTIONS_FILE,
    JsonPath,
    Location,
    MetadataDirectory,
    load_metadata,
    located,
)

# Top-level keys of files whose content is a mapping of top-level metadata keys.
_FILE_KEYS = {ACTIONS_FILE: {"actions", "custom_types"}, "version.yaml": {"version"}}
PERMISSION_KINDS = ("insert", "select", "update", "delete")


class MetadataObject(BaseModel):
    """Base of every metadata model: unknown keys kept, and the object's JSON path."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    _at: JsonPath = PrivateAttr(default=())

    @property
    def at(self) -> JsonPath:
        """The object's path in the metadata JSON (e.g. ("sources", 0, "tables", 3))."""
        return self._at

    def bind(self, at: JsonPath) -> None:
        """Record `at` as this object's path, and the paths of the objects it holds."""
        self._at = at
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            key = field.alias or name
            if isinstance(value, MetadataObject):
                value.bind((*at, key))
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    if isinstance(item, MetadataObject):
                        item.bind((*at, key, index))

    def to_json(self) -> Any:
        """The object as Hasura's JSON: the keys that were loaded, unknown ones included."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class QualifiedName(MetadataObject):
    """A table or function reference: `{schema, name}`, or a bare name meaning schema public (§6.5).

    A bare name is written back bare, so that loading and writing changes nothing.
    """

    schema_name: str = Field(default="public", alias="schema")
    name: str
    _bare: bool = PrivateAttr(default=False)

    @model_validator(mode="wrap")
    @classmethod
    def _accept_bare_name(cls, value: Any, handler: Any) -> Any:
        if isinstance(value, str):
            model = handler({"name": value})
            model._bare = True
            return model
        return handler(value)

    @model_serializer(mode="wrap")
    def _write_bare_name(self, handler: Any) -> Any:
        return self.name if self._bare else handler(self)

    @property
    def key(self) -> tuple[str, str]:
        return (self.schema_name or "public", self.name)

    @property
    def display(self) -> str:
        return f"{self.key[0]}.{self.key[1]}"


class ForeignKeyOnRemote(MetadataObject):
    """`foreign_key_constraint_on: {table, column | columns}`: the key is on the remote table."""

    table: QualifiedName
    column: str | None = None
    columns: list[str] | None = None

    def column_list(self) -> list[str]:
        return list(self.columns) if self.columns else [self.column] if self.column else []


class ManualConfiguration(MetadataObject):
    remote_table: QualifiedName
    column_mapping: dict[str, str] = {}
    insertion_order: str | None = None


class RelationshipUsing(MetadataObject):
    foreign_key_constraint_on: str | list[str] | ForeignKeyOnRemote | None = None
    manual_configuration: ManualConfiguration | None = None


class Relationship(MetadataObject):
    KIND: ClassVar[str] = ""
    name: str
    using: RelationshipUsing
    comment: str | None = None


class ObjectRelationship(Relationship):
    KIND: ClassVar[str] = "object"


class ArrayRelationship(Relationship):
    KIND: ClassVar[str] = "array"


class ComputedFieldDefinition(MetadataObject):
    function: QualifiedName
    table_argument: str | None = None
    session_argument: str | None = None


class ComputedField(MetadataObject):
    name: str
    definition: ComputedFieldDefinition
    comment: str | None = None


class PermissionBody(MetadataObject):
    """The `permission` of a table permission; which keys apply depends on the kind (insert, ...)."""

    columns: list[str] | Literal["*"] | None = None
    row_filter: dict[str, Any] | None = Field(default=None, alias="filter")
    check: dict[str, Any] | None = None
    presets: dict[str, Any] | None = Field(default=None, alias="set")
    computed_fields: list[str] | None = None
    limit: int | None = None
    allow_aggregations: bool | None = None
    backend_only: bool | None = None


class Permission(MetadataObject):
    KIND: ClassVar[str] = ""
    role: str
    permission: PermissionBody
    comment: str | None = None


class InsertPermission(Permission):
    KIND: ClassVar[str] = "insert"


class SelectPermission(Permission):
    KIND: ClassVar[str] = "select"


class UpdatePermission(Permission):
    KIND: ClassVar[str] = "update"


class DeletePermission(Permission):
    KIND: ClassVar[str] = "delete"


class EventTriggerOperation(MetadataObject):
    columns: list[str] | Literal["*"] | None = None


class EventTriggerDefinition(MetadataObject):
    insert: EventTriggerOperation | None = None
    update: EventTriggerOperation | None = None
    delete: EventTriggerOperation | None = None
    enable_manual: bool | None = None


class EventTrigger(MetadataObject):
    name: str
    definition: EventTriggerDefinition = EventTriggerDefinition()


class RemoteRelationship(MetadataObject):
    name: str
    definition: dict[str, Any] = {}


class TableConfiguration(MetadataObject):
    custom_name: str | None = None
    custom_root_fields: dict[str, Any] = {}
    column_config: dict[str, Any] = {}
    custom_column_names: dict[str, str] = {}


class TableEntry(MetadataObject):
    """One tracked table or view (a per-table file, contract §6.3)."""

    table: QualifiedName
    is_enum: bool | None = None
    configuration: TableConfiguration | None = None
    object_relationships: list[ObjectRelationship] = []
    array_relationships: list[ArrayRelationship] = []
    computed_fields: list[ComputedField] = []
    remote_relationships: list[RemoteRelationship] = []
    insert_permissions: list[InsertPermission] = []
    select_permissions: list[SelectPermission] = []
    update_permissions: list[UpdatePermission] = []
    delete_permissions: list[DeletePermission] = []
    event_triggers: list[EventTrigger] = []

    def relationships(self) -> Iterator[Relationship]:
        yield from self.object_relationships
        yield from self.array_relationships

    def permissions(self) -> Iterator[Permission]:
        yield from self.insert_permissions
        yield from self.select_permissions
        yield from self.update_permissions
        yield from self.delete_permissions


class FunctionConfiguration(MetadataObject):
    custom_name: str | None = None
    session_argument: str | None = None
    exposed_as: Literal["query", "mutation"] | None = None
    custom_root_fields: dict[str, str | None] = {}  # function, function_aggregate


class RoleEntry(MetadataObject):
    """An entry of a `permissions` list of a function, action or remote schema."""

    role: str


class TrackedFunction(MetadataObject):
    function: QualifiedName
    configuration: FunctionConfiguration | None = None
    permissions: list[RoleEntry] = []


class Source(MetadataObject):
    """A database (contract §6.2)."""

    name: str
    kind: str = "postgres"
    configuration: dict[str, Any] = {}
    tables: list[TableEntry] = []
    functions: list[TrackedFunction] = []


class RemoteSchema(MetadataObject):
    name: str
    definition: dict[str, Any] = {}
    permissions: list[RoleEntry] = []


class Action(MetadataObject):
    name: str
    definition: dict[str, Any] = {}
    permissions: list[RoleEntry] = []


class CronTrigger(MetadataObject):
    name: str
    webhook: str | None = None
    schedule: str | None = None


class InheritedRole(MetadataObject):
    role_name: str
    role_set: list[str] = []


class QueryCollection(MetadataObject):
    name: str
    definition: dict[str, Any] = {}


class AllowlistEntry(MetadataObject):
    collection: str


class RestEndpoint(MetadataObject):
    name: str
    url: str | None = None
    methods: list[str] = []


class Metadata(MetadataObject):
    """The whole metadata (export_metadata v3 shape, contract §6.5)."""

    version: int = 3
    sources: list[Source] = []
    remote_schemas: list[RemoteSchema] = []
    actions: list[Action] = []
    custom_types: dict[str, Any] | None = None
    query_collections: list[QueryCollection] = []
    allowlist: list[AllowlistEntry] = []
    cron_triggers: list[CronTrigger] = []
    rest_endpoints: list[RestEndpoint] = []
    inherited_roles: list[InheritedRole] = []
    network: dict[str, Any] | None = None
    api_limits: dict[str, Any] | None = None
    graphql_schema_introspection: dict[str, Any] | None = None
    metrics_config: dict[str, Any] | None = None
    opentelemetry: dict[str, Any] | None = None
    backend_configs: dict[str, Any] | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_from_file(cls, value: Any) -> Any:
        # version.yaml holds `version: 3`; the loader may hand over that mapping as the value.
        if isinstance(value, dict) and set(value) == {"version"}:
            return value["version"]
        return value

    def source(self, name: str) -> Source | None:
        return next((source for source in self.sources if source.name == name), None)


@dataclass(frozen=True)
class MetadataProject:
    """The loaded metadata directory and its typed model."""

    directory: MetadataDirectory
    metadata: Metadata

    def location(self, item: MetadataObject | JsonPath) -> Location | None:
        """The file and line of a model object (or of a JSON path inside the metadata)."""
        return self.directory.location(item.at if isinstance(item, MetadataObject) else item)


def load_metadata_model(root: Path, *, config_version: int = 3) -> MetadataProject:
    """Load `metadata/` (of a config v3, or v2, project) and build the typed model.

    Raises:
        ProjectError: invalid YAML, an include of a missing file, a duplicate table, an unknown key
            or file, or a value of the wrong type (each naming the file and line).
    """
    directory = load_metadata(root, config_version=config_version)
    return MetadataProject(directory=directory, metadata=metadata_from_directory(directory))


def metadata_from_directory(directory: MetadataDirectory) -> Metadata:
    """The typed model of a loaded directory, every object bound to its JSON path.

    Raises:
        ProjectError: an unknown top-level key in actions.yaml or version.yaml, or a value of the
            wrong type, naming the file and line.
    """
    for name, allowed in _FILE_KEYS.items():
        document = directory.documents.get(directory.root / name)
        if document is None or not isinstance(document.value, dict):
            continue
        for key in document.value:
            if key not in allowed:
                raise ProjectError(
                    f"unknown key {key!r} in {name}",
                    path=document.path,
                    line=document.line_of((key,)),
                    hint=f"{name} holds {', '.join(sorted(allowed))}",
                )
    try:
        metadata = Metadata.model_validate(directory.value)
    except ValidationError as exc:
        problem = exc.errors()[0]
        at = _value_path(directory.value, problem["loc"])
        shown = ".".join(str(part) for part in _inside_file(at)) or "metadata"
        location = directory.location(at)
        # Without a location the folder leads the message (so `check` reports it at the folder).
        problem_text = (
            f"{shown}: {problem['msg']}" if location else f"{directory.root}: {shown}: {problem['msg']}"
        )
        raise located(
            location, problem_text, hint="see the metadata format in Hasura's docs (metadata-format)"
        ) from None
    metadata.bind(())
    return metadata


def _value_path(value: Any, loc: tuple[str | int, ...]) -> JsonPath:
    """The part of a pydantic error location that exists in `value` (union member names dropped)."""
    path: list[str | int] = []
    for part in loc:
        is_key = isinstance(value, dict) and part in value
        is_index = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if is_key or is_index:
            value = value[part]
            path.append(part)
    return tuple(path)


def _inside_file(at: JsonPath) -> JsonPath:
    """The part of a path below its source, table or function entry (each is a file of its own)."""
    start = 0
    for index in range(len(at) - 1):
        if at[index] in ("sources", "tables", "functions") and isinstance(at[index + 1], int):
            start = index + 2
    return at[start:]


def files_not_included(directory: MetadataDirectory) -> list[Path]:
    """YAML files under databases/ beside included files, that no include reaches.

    The CLI reads only what tables.yaml (and functions.yaml) include, so such a file is silently
    ignored: usually a table file whose `!include` line was lost in a merge.
    """
    databases = directory.root / "databases"
    databases = databases.resolve()
    read = {path.resolve() for path in directory.documents}
    folders = {path.parent for path in read if path.is_relative_to(databases) and path.parent != databases}
    return sorted(
        path
        for folder in folders
        for path in folder.glob("*.yaml")
        if path.resolve() not in read and not path.name.startswith(".")
    )
