"""`hasura/config.yaml`: the keys the official CLI knows, validated with file and line.

The key list follows the CLI's `Config` struct (cli/cli.go, contract §1.1). A key the CLI does
not know is an error rather than something to skip, because a typo there (`endpont:`) silently
points a deploy at the default endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedge_hasura.errors import ProjectError
from kedge_hasura.project.yamlfile import YamlDocument, read_yaml

# Keys we use, and keys the CLI accepts that we ignore.
_USED_KEYS = {
    "version",
    "endpoint",
    "admin_secret",
    "admin_secrets",
    "api_paths",
    "metadata_directory",
    "migrations_directory",
    "insecure_skip_tls_verify",
    "certificate_authority",
}
_IGNORED_KEYS = {"disable_interactive", "metadata_file", "seeds_directory", "actions", "access_key"}
# Our own key. The official CLI ignores keys it does not know, so it is safe to keep ours there.
_KEDGE_KEY = "kedge"
_KEDGE_KEYS = {"check": {"ignore_untracked", "ignore"}}
_API_PATH_KEYS = {"v1_query", "v2_query", "v1_metadata", "graphql", "config", "pg_dump", "version", "query"}
SUPPORTED_CONFIG_VERSIONS = (2, 3)


@dataclass(frozen=True)
class CheckConfig:
    """`kedge: {check: ...}`: tables that may stay untracked ("schema.table" globs), codes to drop."""

    ignore_untracked: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True)
class KedgeConfig:
    """The `kedge:` section of config.yaml: kedge-hasura's own settings."""

    check: CheckConfig = field(default_factory=CheckConfig)


@dataclass(frozen=True)
class HasuraConfig:
    """The parsed config.yaml. Secrets are kept out of `repr`."""

    path: Path
    version: int
    endpoint: str | None = None
    admin_secret: str | None = field(default=None, repr=False)
    metadata_directory: str = "metadata"
    migrations_directory: str = "migrations"
    insecure_skip_tls_verify: bool | None = None
    certificate_authority: str | None = None
    api_paths: dict[str, str] = field(default_factory=dict)
    kedge: KedgeConfig = field(default_factory=KedgeConfig)

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
    """Read and validate config.yaml.

    Raises:
        ProjectError: unreadable or invalid YAML, an unknown key, a wrong type or an unsupported version.
    """
    document = read_yaml(path)
    data = document.value
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProjectError(f"{path}:1: config.yaml must be a mapping of keys to values")

    for key in data:
        if key not in _USED_KEYS | _IGNORED_KEYS | {_KEDGE_KEY}:
            raise ProjectError(
                f"{path}:{document.line_of((key,))}: unknown key {key!r} in config.yaml",
                hint=f"known keys: {', '.join(sorted(_USED_KEYS | _IGNORED_KEYS | {_KEDGE_KEY}))}",
            )

    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str | int | float):
            raise ProjectError(f"{path}:{document.line_of((key,))}: {key} must be a string")
        return str(value)

    version = data.get("version", 1)
    if not isinstance(version, int) or version not in SUPPORTED_CONFIG_VERSIONS:
        raise ProjectError(
            f"{path}:{document.line_of(('version',)) or 1}: config version {version!r} is not supported",
            hint="kedge-hasura reads config v3 (and v2); run `hasura scripts update-project-v3` "
            "to upgrade a v1 project",
        )

    api_paths = data.get("api_paths") or {}
    if not isinstance(api_paths, dict):
        raise ProjectError(f"{path}:{document.line_of(('api_paths',))}: api_paths must be a mapping")
    for key in api_paths:
        if key not in _API_PATH_KEYS:
            raise ProjectError(
                f"{path}:{document.line_of(('api_paths', key))}: unknown key {key!r} under api_paths",
                hint=f"known keys: {', '.join(sorted(_API_PATH_KEYS))}",
            )

    admin_secret = text("admin_secret")
    secrets = data.get("admin_secrets")
    if admin_secret is None and isinstance(secrets, list) and secrets:
        admin_secret = str(secrets[0])  # the CLI uses the first of several rotating secrets
    elif secrets is not None and not isinstance(secrets, list):
        raise ProjectError(
            f"{path}:{document.line_of(('admin_secrets',))}: admin_secrets must be a list",
            hint="write admin_secrets as a list (- secret), or use admin_secret for one value",
        )

    skip_tls = data.get("insecure_skip_tls_verify")
    if skip_tls is not None and not isinstance(skip_tls, bool):
        raise ProjectError(
            f"{path}:{document.line_of(('insecure_skip_tls_verify',))}: "
            "insecure_skip_tls_verify must be true or false"
        )

    return HasuraConfig(
        path=path,
        version=version,
        endpoint=text("endpoint"),
        admin_secret=admin_secret,
        metadata_directory=text("metadata_directory") or "metadata",
        migrations_directory=text("migrations_directory") or "migrations",
        insecure_skip_tls_verify=skip_tls,
        certificate_authority=text("certificate_authority"),
        api_paths={str(k): str(v).lstrip("/") for k, v in api_paths.items()},
        kedge=_kedge_config(document, data.get(_KEDGE_KEY)),
    )


def _kedge_config(document: YamlDocument, section: Any) -> KedgeConfig:
    """Parse `kedge: {check: {ignore_untracked: [...], ignore: [...]}}`.

    Raises:
        ProjectError: a key we do not know, or a value that is not a list of strings.
    """
    if section is None:
        return KedgeConfig()

    def mapping(value: Any, at: tuple[str, ...], known: set[str]) -> dict[str, Any]:
        where = f"{document.path}:{document.line_of(at)}"
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ProjectError(f"{where}: {'.'.join(at)} must be a mapping")
        for key in value:
            if key not in known:
                line = document.line_of((*at, key))
                raise ProjectError(
                    f"{document.path}:{line}: unknown key {key!r} under {'.'.join(at)}",
                    hint=f"known keys: {', '.join(sorted(known))}",
                )
        return value

    def strings(value: Any, at: tuple[str, ...]) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise ProjectError(
                f"{document.path}:{document.line_of(at)}: {'.'.join(at)} must be a list of names"
            )
        return tuple(value)

    kedge = mapping(section, (_KEDGE_KEY,), set(_KEDGE_KEYS))
    check = mapping(kedge.get("check"), (_KEDGE_KEY, "check"), _KEDGE_KEYS["check"])
    untracked = strings(check.get("ignore_untracked"), (_KEDGE_KEY, "check", "ignore_untracked"))
    for index, pattern in enumerate(untracked):
        if "." not in pattern:
            raise ProjectError(
                f"{document.path}:{document.line_of((_KEDGE_KEY, 'check', 'ignore_untracked', index))}: "
                f"{pattern!r} is not schema.table",
                hint='write "schema.table" or a glob such as "audit.*"',
            )
    return KedgeConfig(
        check=CheckConfig(
            ignore_untracked=untracked,
            ignore=strings(check.get("ignore"), (_KEDGE_KEY, "check", "ignore")),
        )
    )


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
