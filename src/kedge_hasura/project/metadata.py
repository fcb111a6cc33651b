"""The metadata directory: load it as the Hasura CLI builds it, with the file and line of
everything; write files back in the CLI's export style.

Files map to top-level keys of the metadata JSON (contract §6.1). `!include` follows the CLI's
reader (contract §6.4): the YAML tag, or ANY string containing `!include`, split on a space, quotes
removed, relative to the folder of the file holding it; includes nest. A missing file counts as
empty. Every value keeps the file and line it came from, so checks can point at them.

Config v2 projects keep the one database's tables and functions in `tables.yaml` and
`functions.yaml` at the top of the folder (below); they load into the same v3 shape, as the one
database `default`, so every check reads both layouts alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kedge_hasura.errors import ProjectError
from kedge_hasura.project.bounds import is_outside
from kedge_hasura.project.yamlfile import IncludeTag, YamlDocument, read_yaml

JsonPath = tuple[str | int, ...]

# metadata/<file> → top-level key of the metadata JSON. actions.yaml is special (two keys).
TOP_LEVEL_FILES: dict[str, str] = {
    "version.yaml": "version",
    "databases/databases.yaml": "sources",
    "remote_schemas.yaml": "remote_schemas",
    "query_collections.yaml": "query_collections",
    "allow_list.yaml": "allowlist",
    "cron_triggers.yaml": "cron_triggers",
    "rest_endpoints.yaml": "rest_endpoints",
    "inherited_roles.yaml": "inherited_roles",
    "network.yaml": "network",
    "api_limits.yaml": "api_limits",
    "graphql_schema_introspection.yaml": "graphql_schema_introspection",
    "metrics_config.yaml": "metrics_config",
    "opentelemetry.yaml": "opentelemetry",
    "backend_configs.yaml": "backend_configs",
}
ACTIONS_FILE = "actions.yaml"
ACTIONS_SDL = "actions.graphql"
KNOWN_FILES = {*TOP_LEVEL_FILES, ACTIONS_FILE, ACTIONS_SDL}

# Config v2. The CLI (GetMetadataObjectsWithDir, cli/internal/projectmetadata/objects.go) reads
# version.yaml, tables.yaml, functions.yaml, remote_schemas.yaml, query_collections.yaml,
# allow_list.yaml, actions.yaml + actions.graphql, cron_triggers.yaml and network.yaml; CLIs of
# the 2.0 line also read rest_endpoints.yaml, inherited_roles.yaml and api_limits.yaml for config
# v2 (the newest read them for v3 only), so a v2 project exported by one of those holds them.
# tables.yaml and functions.yaml are each one list (cli/pkg/metadataobject/tables/tables.go and
# functions/functions.go: `var obj []yaml.Node`), written `[]` when empty (CreateFiles). On a
# server with metadata v3 they are the tables and functions of the first source
# (tables/v3metadata.go, functions/v3metadata.go), and a config v2 project may only have one
# database, named `default` (CheckIfUpdateToConfigV3IsRequired, cli/internal/scripts/
# update-project-v3.go, which on upgrade deletes these two files and exports databases/).
# Metadata v1 (the `version: 1` of Hasura 1.x) uses the same files; its table references are bare
# names, which the model reads as schema public.
V2_DATABASE = "default"
V2_TOP_LEVEL_FILES: dict[str, str] = {
    "version.yaml": "version",
    "remote_schemas.yaml": "remote_schemas",
    "query_collections.yaml": "query_collections",
    "allow_list.yaml": "allowlist",
    "cron_triggers.yaml": "cron_triggers",
    "network.yaml": "network",
    "rest_endpoints.yaml": "rest_endpoints",
    "inherited_roles.yaml": "inherited_roles",
    "api_limits.yaml": "api_limits",
}
V2_DATABASE_FILES: dict[str, str] = {"tables.yaml": "tables", "functions.yaml": "functions"}
V2_KNOWN_FILES = {*V2_TOP_LEVEL_FILES, *V2_DATABASE_FILES, ACTIONS_FILE, ACTIONS_SDL}

# Keys of a table entry (contract §6.3); anything else is a typo the server would reject.
TABLE_KEYS = {
    "table", "is_enum", "configuration", "object_relationships", "array_relationships", "computed_fields",
    "remote_relationships", "insert_permissions", "select_permissions", "update_permissions",
    "delete_permissions", "event_triggers", "apollo_federation_config", "logical_model",
}  # fmt: skip
SOURCE_KEYS = {
    "name", "kind", "configuration", "tables", "functions", "customization", "query_tags", "health_check",
    "logical_models", "native_queries", "stored_procedures",
}  # fmt: skip


@dataclass(frozen=True)
class Location:
    path: Path
    line: int | None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)


def located(location: Location | None, problem: str, *, hint: str | None = None) -> ProjectError:
    """A ProjectError at `location` (the message starts with it)."""
    if location is None:
        return ProjectError(problem, hint=hint)
    return ProjectError(problem, path=location.path, line=location.line, hint=hint)


@dataclass
class MetadataDirectory:
    """A loaded metadata directory: the JSON Hasura gets, and where each part of it came from."""

    root: Path
    value: dict[str, Any]
    locations: dict[JsonPath, Location] = field(default_factory=dict)
    documents: dict[Path, YamlDocument] = field(default_factory=dict)  # every YAML file read, as read
    actions_sdl: str = ""
    config_version: int = 3  # 2: the config v2 layout, loaded as the one database `default`
    # Files read from outside the metadata folder (links followed), with where each was named.
    outside: list[tuple[Path, Location]] = field(default_factory=list)

    def location(self, path: JsonPath) -> Location | None:
        """The file and line of a JSON path, or of its nearest ancestor that has one."""
        while True:
            if path in self.locations:
                return self.locations[path]
            if not path:
                return None
            path = path[:-1]

    def sources(self) -> list[dict[str, Any]]:
        sources = self.value.get("sources") or []
        return [s for s in sources if isinstance(s, dict)]


def load_metadata(root: Path, *, config_version: int = 3) -> MetadataDirectory:
    """Load `metadata/` into the metadata JSON (export_metadata v3 shape).

    A config v2 folder (`config_version` 2) loads its tables.yaml and functions.yaml as the
    database `default`.

    Raises:
        ProjectError: invalid YAML, an include of a missing file, a duplicate table, an unknown key
            or file (each naming the file and line).
    """
    if not root.is_dir():
        raise ProjectError(f"no metadata folder at {root}", hint="metadata_directory in config.yaml names it")
    v2 = config_version < 3
    known, files = (V2_KNOWN_FILES, V2_TOP_LEVEL_FILES) if v2 else (KNOWN_FILES, TOP_LEVEL_FILES)
    loader = _Loader(root)
    value: dict[str, Any] = {}
    for relative, key in files.items():
        path = root / relative
        if path.is_file():
            loaded = loader.load(path, (key,))
            if key == "version" and isinstance(loaded, dict):
                loaded = loaded.get("version")  # the file holds `version: 3`; the JSON holds 3
            if loaded is not None and not (key != "version" and loaded in ([], {})):
                value[key] = loaded
    if v2:
        value["sources"] = [_v2_database(root, loader)]
    actions_path = root / ACTIONS_FILE
    if actions_path.is_file():
        actions = loader.load(actions_path, ())
        if isinstance(actions, dict):
            for key in ("actions", "custom_types"):
                if actions.get(key):
                    value[key] = actions[key]
                    loader.locations[(key,)] = Location(
                        actions_path, loader.documents[actions_path].line_of((key,))
                    )
    for path in sorted(root.glob("*")):
        relative = path.relative_to(root).as_posix()
        included = path in loader.documents  # a table file that tables.yaml includes
        if path.is_file() and relative not in known and not included and not path.name.startswith("."):
            layout = "config v2 metadata folder holds" if v2 else "v3 metadata folder holds"
            raise ProjectError(
                "unknown metadata file",
                path=path,
                hint=f"a {layout} {', '.join(sorted(known))}" + ("" if v2 else " and databases/"),
            )
    sdl = root / ACTIONS_SDL
    directory = MetadataDirectory(
        root=root,
        value=value,
        locations=loader.locations,
        documents=loader.documents,
        actions_sdl=sdl.read_text(encoding="utf-8") if sdl.is_file() else "",
        config_version=config_version,
        outside=loader.outside,
    )
    _check_sources(directory)
    return directory


def _v2_database(root: Path, loader: _Loader) -> dict[str, Any]:
    """The one database of a config v2 folder: tables.yaml and functions.yaml, each a list.

    Includes are followed as in v3. (The CLI's v2 build reads the two files with a plain YAML
    unmarshal, while its `GetFiles` for `metadata diff` follows includes; following them lets a
    check see every table a user can see.)
    """
    at: JsonPath = ("sources", 0)
    source: dict[str, Any] = {"name": V2_DATABASE, "kind": "postgres"}
    anchor = root / "tables.yaml"
    loader.locations[("sources",)] = loader.locations[at] = Location(
        anchor if anchor.is_file() else root, None
    )
    for relative, key in V2_DATABASE_FILES.items():
        path = root / relative
        if not path.is_file():
            continue
        loaded = loader.load(path, (*at, key))
        if loaded is not None and not isinstance(loaded, list):
            raise ProjectError(
                f"{relative} must be a list of {key} (write [] for none)",
                path=path,
                line=1,
                hint=f"with config v2, {relative} holds the {key} of the database {V2_DATABASE} as one list",
            )
        source[key] = loaded or []
    return source


class _Loader:
    def __init__(self, root: Path):
        self.root = root
        self.locations: dict[JsonPath, Location] = {}
        self.documents: dict[Path, YamlDocument] = {}
        self.outside: list[tuple[Path, Location]] = []
        self._stack: list[Path] = []

    def load(self, path: Path, at: JsonPath, *, named_at: Location | None = None) -> Any:
        if is_outside(path, self.root):
            self.outside.append((path, named_at or Location(path, None)))
        if path in self._stack:
            raise ProjectError(
                f"includes itself (through {' -> '.join(str(p) for p in self._stack)})", path=path
            )
        self._stack.append(path)
        try:
            document = read_yaml(path)
            self.documents[path] = document
            return self._resolve(document.value, (), document, at)
        finally:
            self._stack.pop()

    def _resolve(self, value: Any, inner: JsonPath, document: YamlDocument, at: JsonPath) -> Any:
        self.locations[at] = Location(document.path, document.line_of(inner))
        target = _include_target(value)
        if target is not None:
            included = document.path.parent / target
            if not included.is_file():
                raise ProjectError(
                    f"includes {target}, which does not exist ({included})",
                    path=document.path,
                    line=document.line_of(inner),
                    hint="fix the file name, or add the file",
                )
            return self.load(included, at, named_at=Location(document.path, document.line_of(inner)))
        if isinstance(value, dict):
            return {k: self._resolve(v, (*inner, k), document, (*at, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve(v, (*inner, i), document, (*at, i)) for i, v in enumerate(value)]
        return value


def _include_target(value: Any) -> str | None:
    if isinstance(value, IncludeTag):
        return value.target
    if isinstance(value, str) and "!include" in value:
        # The CLI splits the string on a space and strips quotes around the path (contract §6.4).
        parts = value.split(" ", 1)
        return (parts[1] if len(parts) > 1 else "").strip().strip("'\"") or None
    return None


def _check_sources(directory: MetadataDirectory) -> None:
    for index, source in enumerate(directory.value.get("sources") or []):
        at: JsonPath = ("sources", index)
        if not isinstance(source, dict):
            raise located(directory.location(at), "a database must be a mapping")
        for key in source:
            if key not in SOURCE_KEYS:
                raise located(
                    directory.location((*at, key)),
                    f"unknown key {key!r} in database {source.get('name')!r}",
                    hint=f"known keys: {', '.join(sorted(SOURCE_KEYS))}",
                )
        seen: dict[tuple[str, str], JsonPath] = {}
        for table_index, entry in enumerate(source.get("tables") or []):
            table_at = (*at, "tables", table_index)
            if not isinstance(entry, dict):
                raise located(directory.location(table_at), "a table entry must be a mapping")
            for key in entry:
                if key not in TABLE_KEYS:
                    raise located(
                        directory.location((*table_at, key)),
                        f"unknown key {key!r} in a table entry",
                        hint=f"known keys: {', '.join(sorted(TABLE_KEYS))}",
                    )
            name = table_name(entry.get("table"))
            if name is None:
                raise located(directory.location(table_at), "the table entry has no table name")
            if name in seen:
                raise located(
                    directory.location(table_at),
                    f"table {name[0]}.{name[1]} is tracked twice (first at {directory.location(seen[name])})",
                    hint="remove one of the entries from tables.yaml",
                )
            seen[name] = table_at


def comparable(local: dict[str, Any], server: dict[str, Any], *, config_version: int) -> tuple[Any, Any]:
    """The local metadata and the server's export, reduced to what both can hold.

    A config v2 folder holds no source configuration and no metadata version of its own (the
    CLI's v2 export writes `version: 2` whatever the server has, version/v3metadata.go, and only
    the tables and functions of the first source, tables/v3metadata.go), so for v2 the server's
    `default` keeps its name, kind, tables and functions, and the version is left out on both
    sides. Other databases stay: a config v2 project cannot have them, which is worth reporting.
    """
    if config_version >= 3:
        return local, server
    kept = ("name", "kind", "tables", "functions")
    sources = [
        {key: value for key, value in source.items() if key in kept}
        if isinstance(source, dict) and source.get("name") == V2_DATABASE
        else source
        for source in server.get("sources") or []
    ]
    local = {key: value for key, value in local.items() if key != "version"}
    server = {key: value for key, value in server.items() if key != "version"} | {"sources": sources}
    return local, server


def table_name(value: Any) -> tuple[str, str] | None:
    """(schema, name) of a metadata table reference: `{schema, name}` or a bare name (schema public)."""
    if isinstance(value, str):
        return ("public", value)
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return (str(value.get("schema") or "public"), value["name"])
    return None


class _HasuraDumper(yaml.SafeDumper):
    """PyYAML configured to write what `hasura metadata export` writes (Go's YAML library)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Sequences under a key are indented ("tables:\n  - x"), unlike PyYAML's default.
        super().increase_indent(flow, False)

    def choose_scalar_style(self) -> Any:
        # Go quotes with double quotes where a plain scalar is impossible; PyYAML uses single quotes.
        style = super().choose_scalar_style()
        return '"' if style == "'" else style


def dump_yaml(value: Any) -> str:
    """A metadata file's text for `value`, in the CLI's export style."""
    if value in ([], {}):
        return yaml.dump(value, Dumper=_HasuraDumper, default_flow_style=True)
    return yaml.dump(
        value,
        Dumper=_HasuraDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=10**9,
    )


def file_value(document: YamlDocument) -> Any:
    """A file's value as written (includes still as include strings), for writing it back."""

    def plain(value: Any) -> Any:
        if isinstance(value, IncludeTag):
            return f"!include {value.target}"
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return plain(document.value)


# Values whose list order is meaningful: payloads and templates are sent as written, and action
# arguments are the GraphQL signature.
ORDERED_KEYS = {"payload", "request_transform", "response_transform", "arguments"}


def without_empty(value: Any) -> Any:
    """`value` with null, {} and [] left out at every level (Hasura's export omits defaults)."""
    if isinstance(value, dict):
        cleaned = {key: without_empty(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if item not in (None, {}, [])}
    if isinstance(value, list):
        return [without_empty(item) for item in value]
    return value


def canonical(value: Any, *, ordered: bool = False) -> Any:
    """A form that compares equal when only list order differs where it does not matter."""
    if isinstance(value, dict):
        return tuple(
            sorted((str(k), canonical(v, ordered=ordered or k in ORDERED_KEYS)) for k, v in value.items())
        )
    if isinstance(value, list):
        items = [canonical(item, ordered=ordered) for item in value]
        return ("list", tuple(items if ordered else sorted(items, key=repr)))
    return value


def same_metadata(a: Any, b: Any) -> bool:
    """Whether two metadata values mean the same to Hasura: empty values count as absent, and the
    order of lists counts only where Hasura uses it (payloads, transforms, action arguments)."""
    return bool(canonical(without_empty(a) or None) == canonical(without_empty(b) or None))
