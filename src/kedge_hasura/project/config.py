"""`hasura/config.yaml`: the keys the official CLI knows, validated with file and line.

The key list follows the CLI's `Config` struct and `readConfig` (cli/cli.go, contract §1.1). The CLI
reads config.yaml through viper and asks it for those keys only (`v.GetString("endpoint")`, ...), so
a key it does not know is ignored, and keys match whatever their case (viper lowercases them).
Projects use that room: Nhost keeps `services:` and more there. We do the same, but say so in a
warning (`config-unknown-key`), with a "did you mean" for a near miss, because a typo such as
`endpont:` silently points a deploy at the default endpoint. What the CLI refuses (a config version
it does not know) or cannot use (a list where it reads a string) stays an error.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedge_hasura.errors import ProjectError
from kedge_hasura.findings import Finding, Severity
from kedge_hasura.project.yamlfile import YamlDocument, read_yaml

UNKNOWN_KEY = "config-unknown-key"
# Keys we use, and keys the CLI accepts that we ignore.
_USED_KEYS = {
    "version",
    "endpoint",
    "admin_secret",
    "admin_secrets",
    "api_paths",
    "metadata_directory",
    "migrations_directory",
    "seeds_directory",
    "insecure_skip_tls_verify",
    "certificate_authority",
}
_IGNORED_KEYS = {"disable_interactive", "metadata_file", "actions", "access_key"}
# Our own key: the CLI ignores keys it does not know, so it is safe to keep ours there. Its
# sections are ours, so an unknown key inside it is an error, not a warning.
_KEDGE_KEY = "kedge"
_KEDGE_KEYS = {
    "check": {"ignore_untracked", "ignore"},
    "databases": set(),
    "graphql": {"experimental_features", "infer_function_permissions", "default_naming_convention"},
}
# Hasura's HASURA_GRAPHQL_EXPERIMENTAL_FEATURES values that change the GraphQL schema (Schema.hs
# buildSchemaOptions; RQL/DDL/Schema/Cache.hs for naming_convention). `impact` models the first three.
GRAPHQL_EXPERIMENTAL_FEATURES = (
    "hide_stream_fields", "hide_update_many_fields", "hide_aggregation_predicates",
    "naming_convention", "group_by_aggregations", "disable_postgres_arrays", "apollo_federation",
)  # fmt: skip
_PRECONDITION_KEYS = {"sql", "migrations"}
_API_PATH_KEYS = {"v1_query", "v2_query", "v1_metadata", "graphql", "config", "pg_dump", "version", "query"}
SUPPORTED_CONFIG_VERSIONS = (2, 3)


@dataclass(frozen=True)
class CheckConfig:
    """`kedge: {check: ...}`: tables that may stay untracked ("schema.table" globs), codes to drop."""

    ignore_untracked: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatabasePreconditions:
    """`kedge: {databases: {<db>: {preconditions: ...}}}`: what a database holds before its first
    migration, made by someone else (Nhost's `auth` and `storage` schemas). Every command that
    replays the migrations runs these first, and nothing generated or compared includes them.

    `sql` are paths relative to the project folder (the folder of config.yaml), checked to exist.
    """

    sql: tuple[Path, ...] = ()
    migrations: MigrationsUpTo | None = None


@dataclass(frozen=True)
class MigrationsUpTo:
    """`migrations: {database: db1, up_to: VERSION}`: another database's migrations, through
    VERSION, replayed after the SQL files (a database whose migrations need another's objects).
    Checked against the migrations when used; `where` is config.yaml's `path:line` for errors."""

    database: str
    up_to: int
    where: str


@dataclass(frozen=True)
class GraphQLConfig:
    """`kedge: {graphql: ...}`: what the server runs with that changes its GraphQL schema:
    `experimental_features` as HASURA_GRAPHQL_EXPERIMENTAL_FEATURES lists them (default: none), and
    `infer_function_permissions` as HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS (default: true),
    `default_naming_convention` as HASURA_GRAPHQL_DEFAULT_NAMING_CONVENTION (default:
    hasura-default; counts only with the naming_convention experimental feature)."""

    experimental_features: tuple[str, ...] = ()
    infer_function_permissions: bool = True
    default_naming_convention: str = "hasura-default"  # HASURA_GRAPHQL_DEFAULT_NAMING_CONVENTION


@dataclass(frozen=True)
class KedgeConfig:
    """The `kedge:` section of config.yaml: kedge-hasura's own settings."""

    check: CheckConfig = field(default_factory=CheckConfig)
    graphql: GraphQLConfig = field(default_factory=GraphQLConfig)
    preconditions: dict[str, DatabasePreconditions] = field(default_factory=dict)  # by database name

    def preconditions_for(self, database: str) -> DatabasePreconditions:
        return self.preconditions.get(database, DatabasePreconditions())


@dataclass(frozen=True)
class HasuraConfig:
    """The parsed config.yaml. Secrets are kept out of `repr`."""

    path: Path
    version: int
    endpoint: str | None = None
    admin_secret: str | None = field(default=None, repr=False)
    metadata_directory: str = "metadata"
    migrations_directory: str = "migrations"
    seeds_directory: str = "seeds"
    insecure_skip_tls_verify: bool | None = None
    certificate_authority: str | None = None
    api_paths: dict[str, str] = field(default_factory=dict)
    kedge: KedgeConfig = field(default_factory=KedgeConfig)
    findings: tuple[Finding, ...] = ()  # warnings: keys the Hasura CLI ignores

    def settings_values(self) -> dict[str, Any]:
        """The values this file contributes to `Settings` (lowest precedence before defaults)."""
        values: dict[str, Any] = {
            "endpoint": self.endpoint,
            "admin_secret": self.admin_secret,
            "insecure_skip_tls_verify": self.insecure_skip_tls_verify,
            "certificate_authority": (self.path.parent / self.certificate_authority)
            if self.certificate_authority
            else None,
        }
        if self.api_paths:
            values["api_paths"] = dict(self.api_paths)
        return {key: value for key, value in values.items() if value is not None}


def load_config(path: Path) -> HasuraConfig:
    """Read and validate config.yaml; keys the CLI ignores become warnings in `findings`.

    Raises:
        ProjectError: unreadable or invalid YAML, a wrong type, an unsupported version, or a key
            written twice in different case.
    """
    document = read_yaml(path)
    raw = document.value
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ProjectError("config.yaml must be a mapping of keys to values", path=path, line=1)
    findings: list[Finding] = []
    known = _USED_KEYS | _IGNORED_KEYS
    data, spelled = _fold_case(raw, known, document, ())
    for key in raw:
        if key != _KEDGE_KEY and str(key).lower() not in known:
            findings.append(_unknown_key(document, (key,), known | {_KEDGE_KEY}, "config.yaml"))

    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str | int | float):
            raise ProjectError(f"{key} must be a string", path=path, line=document.line_of((spelled[key],)))
        return str(value)

    version = data.get("version", 1)
    if not isinstance(version, int) or version not in SUPPORTED_CONFIG_VERSIONS:
        line = document.line_of((spelled["version"],)) if "version" in spelled else 1
        raise ProjectError(
            f"config version {version!r} is not supported",
            path=path,
            line=line,
            hint="kedge-hasura reads config v3 (and v2); run `hasura scripts update-project-v3` "
            "to upgrade a v1 project",
        )

    api_paths_raw = data.get("api_paths") or {}
    if not isinstance(api_paths_raw, dict):
        raise ProjectError(
            "api_paths must be a mapping", path=path, line=document.line_of((spelled["api_paths"],))
        )
    api_at = (spelled.get("api_paths", "api_paths"),)
    api_paths, api_spelled = _fold_case(api_paths_raw, _API_PATH_KEYS, document, api_at)
    for key in api_paths_raw:
        if str(key).lower() not in _API_PATH_KEYS:
            findings.append(_unknown_key(document, (*api_at, key), _API_PATH_KEYS, "api_paths"))
    for key, value in api_paths.items():
        if isinstance(value, dict | list):
            line = document.line_of((*api_at, api_spelled[key]))
            raise ProjectError(f"api_paths.{key} must be a string", path=path, line=line)

    admin_secret = text("admin_secret")
    secrets = data.get("admin_secrets")
    if admin_secret is None and isinstance(secrets, list) and secrets:
        admin_secret = str(secrets[0])  # the CLI uses the first of several rotating secrets
    elif secrets is not None and not isinstance(secrets, list):
        raise ProjectError(
            "admin_secrets must be a list",
            path=path,
            line=document.line_of((spelled["admin_secrets"],)),
            hint="write admin_secrets as a list (- secret), or use admin_secret for one value",
        )

    skip_tls = data.get("insecure_skip_tls_verify")
    if skip_tls is not None and not isinstance(skip_tls, bool):
        raise ProjectError(
            "insecure_skip_tls_verify must be true or false",
            path=path,
            line=document.line_of((spelled["insecure_skip_tls_verify"],)),
        )

    return HasuraConfig(
        path=path,
        version=version,
        endpoint=text("endpoint"),
        admin_secret=admin_secret,
        metadata_directory=text("metadata_directory") or "metadata",
        migrations_directory=text("migrations_directory") or "migrations",
        seeds_directory=text("seeds_directory") or "seeds",
        insecure_skip_tls_verify=skip_tls,
        certificate_authority=text("certificate_authority"),
        api_paths={str(k): str(v).lstrip("/") for k, v in api_paths.items()},
        kedge=_kedge_config(document, raw.get(_KEDGE_KEY)),
        findings=tuple(findings),
    )


def _fold_case(
    mapping: dict[Any, Any], known: set[str], document: YamlDocument, at: tuple[Any, ...]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The known keys of `mapping` under their lowercase names, as viper reads them, and how each
    was spelled in the file (for line numbers).

    Raises:
        ProjectError: a key written twice in different case (`endpoint:` and `Endpoint:`): viper
            would keep one of them, and which one is not something to rely on.
    """
    values: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for key, value in mapping.items():
        folded = str(key).lower()
        if folded not in known:
            continue
        if folded in spelled:
            raise ProjectError(
                f"{key!r} is {spelled[folded]!r} again "
                f"(line {document.line_of((*at, spelled[folded]))}); the Hasura CLI reads keys "
                "whatever their case, so both set the same value",
                path=document.path,
                line=document.line_of((*at, key)),
                hint="keep one of them",
            )
        values[folded] = value
        spelled[folded] = key
    return values, spelled


def _unknown_key(document: YamlDocument, at: tuple[Any, ...], known: set[str], where: str) -> Finding:
    """The warning for a key the Hasura CLI ignores, with a "did you mean" for a near miss."""
    key = str(at[-1])
    near = difflib.get_close_matches(key.lower(), sorted(known), n=1, cutoff=0.75)
    guess = f"; did you mean {near[0]!r}?" if near else ""
    return Finding(
        code=UNKNOWN_KEY,
        severity=Severity.WARNING,
        message=f"unknown key {key!r} in {where}: the Hasura CLI ignores it, and so does kedge-hasura{guess}",
        path=document.path,
        line=document.line_of(at),
        hint=f"rename it to {near[0]!r}"
        if near
        else "nothing to do if another tool reads it (Nhost does); otherwise delete it",
    )


def _kedge_config(document: YamlDocument, section: Any) -> KedgeConfig:
    """Parse `kedge: {check: {ignore_untracked: [...], ignore: [...]}}`.

    Raises:
        ProjectError: a key we do not know, or a value that is not a list of strings.
    """
    if section is None:
        return KedgeConfig()

    def mapping(value: Any, at: tuple[str, ...], known: set[str]) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ProjectError(
                f"{'.'.join(at)} must be a mapping", path=document.path, line=document.line_of(at)
            )
        for key in value:
            if key not in known:
                line = document.line_of((*at, key))
                raise ProjectError(
                    f"unknown key {key!r} under {'.'.join(at)}",
                    path=document.path,
                    line=line,
                    hint=f"known keys: {', '.join(sorted(known))}",
                )
        return value

    def strings(value: Any, at: tuple[str, ...]) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise ProjectError(
                f"{'.'.join(at)} must be a list of names", path=document.path, line=document.line_of(at)
            )
        return tuple(value)

    kedge = mapping(section, (_KEDGE_KEY,), set(_KEDGE_KEYS))
    check = mapping(kedge.get("check"), (_KEDGE_KEY, "check"), _KEDGE_KEYS["check"])
    untracked = strings(check.get("ignore_untracked"), (_KEDGE_KEY, "check", "ignore_untracked"))
    for index, pattern in enumerate(untracked):
        if "." not in pattern:
            raise ProjectError(
                f"{pattern!r} is not schema.table",
                path=document.path,
                line=document.line_of((_KEDGE_KEY, "check", "ignore_untracked", index)),
                hint='write "schema.table" or a glob such as "audit.*"',
            )
    graphql = mapping(kedge.get("graphql"), (_KEDGE_KEY, "graphql"), _KEDGE_KEYS["graphql"])
    at = (_KEDGE_KEY, "graphql", "experimental_features")
    features = strings(graphql.get("experimental_features"), at)
    for index, feature in enumerate(features):
        if feature not in GRAPHQL_EXPERIMENTAL_FEATURES:
            raise ProjectError(
                f"unknown experimental feature {feature!r}",
                path=document.path,
                line=document.line_of((*at, index)),
                hint=f"the ones that change the schema: {', '.join(GRAPHQL_EXPERIMENTAL_FEATURES)}",
            )
    infer = graphql.get("infer_function_permissions", True)
    if not isinstance(infer, bool):
        raise ProjectError(
            f"infer_function_permissions must be true or false, not {infer!r}",
            path=document.path,
            line=document.line_of((_KEDGE_KEY, "graphql", "infer_function_permissions")),
            hint="the value of HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS on your server (default true)",
        )
    convention = graphql.get("default_naming_convention", "hasura-default")
    if convention not in ("hasura-default", "graphql-default"):
        raise ProjectError(
            f"default_naming_convention must be hasura-default or graphql-default, not {convention!r}",
            path=document.path,
            line=document.line_of((_KEDGE_KEY, "graphql", "default_naming_convention")),
            hint="the value of HASURA_GRAPHQL_DEFAULT_NAMING_CONVENTION on your server",
        )
    return KedgeConfig(
        graphql=GraphQLConfig(
            experimental_features=features,
            infer_function_permissions=infer,
            default_naming_convention=convention,
        ),
        check=CheckConfig(
            ignore_untracked=untracked,
            ignore=strings(check.get("ignore"), (_KEDGE_KEY, "check", "ignore")),
        ),
        preconditions=_preconditions(document, kedge.get("databases"), mapping, strings),
    )


def _preconditions(
    document: YamlDocument,
    section: Any,
    mapping: Callable[[Any, tuple[str, ...], set[str]], dict[str, Any]],
    strings: Callable[[Any, tuple[str, ...]], tuple[str, ...]],
) -> dict[str, DatabasePreconditions]:
    """Parse `kedge: {databases: {<db>: {preconditions: {sql: [files]}}}}`.

    Raises:
        ProjectError: an unknown key, a wrong type, or a file that does not exist (with its line).
    """
    at: tuple[str, ...] = (_KEDGE_KEY, "databases")
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise ProjectError("kedge.databases must be a mapping", path=document.path, line=document.line_of(at))
    result: dict[str, DatabasePreconditions] = {}
    for database, settings in section.items():
        db_at = (*at, database)
        values = mapping(settings, db_at, {"preconditions"})
        pre_at = (*db_at, "preconditions")
        pre = mapping(values.get("preconditions"), pre_at, _PRECONDITION_KEYS)
        files: list[Path] = []
        for index, name in enumerate(strings(pre.get("sql"), (*pre_at, "sql"))):
            path = document.path.parent / name
            if not path.is_file():
                raise ProjectError(
                    f"precondition file {name!r} of database {database!r} does not exist ({path})",
                    path=document.path,
                    line=document.line_of((*pre_at, "sql", index)),
                    hint="write the path relative to the folder of config.yaml, or remove the entry",
                )
            files.append(path)
        result[str(database)] = DatabasePreconditions(
            sql=tuple(files),
            migrations=_migrations_up_to(document, pre.get("migrations"), (*pre_at, "migrations")),
        )
    return result


def _migrations_up_to(document: YamlDocument, value: Any, at: tuple[str, ...]) -> MigrationsUpTo | None:
    """Parse `migrations: {database: NAME, up_to: VERSION}`.

    Raises:
        ProjectError: not that mapping (with its line).
    """
    if value is None:
        return None
    where = f"{document.path}:{document.line_of(at)}"
    if (
        not isinstance(value, dict)
        or set(value) != {"database", "up_to"}
        or not isinstance(value["database"], str)
        or isinstance(value["up_to"], bool)
        or not isinstance(value["up_to"], int)
    ):
        raise ProjectError(
            f"{'.'.join(at)} must be {{database: NAME, up_to: VERSION}}",
            path=document.path,
            line=document.line_of(at),
            hint="for example migrations: {database: default, up_to: 1700000000000}",
        )
    return MigrationsUpTo(database=value["database"], up_to=value["up_to"], where=where)


def parse_dotenv(text: str) -> dict[str, str]:
    """Parse a `.env` file as godotenv does for the common forms.

    `KEY=value`, `export KEY=value`, `# comments`, single quotes (literal), double quotes (with
    `\\n` and `\\"` escapes), and unquoted values with trailing ` # comments`.
    """
    values: dict[str, str] = {}
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            continue
        value = value.strip()
        if value[:1] in ("'", '"'):
            quote = value[0]
            closing = value.find(quote, 1)
            while quote == '"' and closing > 0 and value[closing - 1] == "\\":
                closing = value.find(quote, closing + 1)
            if closing > 0:  # anything after the closing quote (a comment) is dropped
                inner = value[1:closing]
                value = inner if quote == "'" else inner.replace("\\n", "\n").replace('\\"', '"')
        else:
            value = value.split(" #", 1)[0].strip()
        values[key] = value
    return values
