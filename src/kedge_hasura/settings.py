"""Settings and their precedence: flag > environment > .env > hasura/config.yaml > default.

This module only merges layers of raw values that the CLI collected (flags, `os.environ`, the
project's `.env`, `config.yaml`); it reads no files itself, so the precedence rules are a pure,
tested function. The admin secret and any URL carrying a password are `SecretStr`: their value is
never printed, logged or placed in JSON (`redact()` masks them wherever text could carry them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator

from kedge_hasura.errors import UsageError


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    GITHUB = "github"  # GitHub Actions workflow commands (check only)
    JUNIT = "junit"  # JUnit XML (check only)
    SARIF = "sarif"  # SARIF 2.1.0 for GitHub code scanning (check only)
    GITLAB = "gitlab"  # GitLab Code Quality JSON (check only)


# Environment variables per setting, most specific first. The HASURA_GRAPHQL_* names are the
# official CLI's (viper prefix), so one environment serves both tools.
ENVIRONMENT_VARIABLES: dict[str, tuple[str, ...]] = {
    "endpoint": ("HASURA_GRAPHQL_ENDPOINT",),
    "admin_secret": ("HASURA_GRAPHQL_ADMIN_SECRET", "HASURA_GRAPHQL_ACCESS_KEY"),
    "insecure_skip_tls_verify": ("HASURA_GRAPHQL_INSECURE_SKIP_TLS_VERIFY",),
    "certificate_authority": ("HASURA_GRAPHQL_CERTIFICATE_AUTHORITY",),
    "project_dir": ("KEDGE_PROJECT",),
    "database": ("KEDGE_DATABASE",),
    "output": ("KEDGE_OUTPUT",),
    "scratch_url": ("KEDGE_SCRATCH_URL",),
    "pg_version": ("KEDGE_PG_VERSION",),
    "pg_bindir": ("KEDGE_PG_BINDIR",),
    "hasura_preconditions": ("KEDGE_HASURA_PRECONDITIONS",),
    "timeout": ("KEDGE_TIMEOUT",),
    "no_color": ("KEDGE_NO_COLOR", "NO_COLOR"),
}


class Verbosity(IntEnum):
    """How much a run says on stderr; the one policy `Output` asks (`shows(...)`)."""

    QUIET = -1  # -q: results and errors only
    NORMAL = 0
    VERBOSE = 1  # -v: details and timings
    DEBUG = 2  # -vv

    @classmethod
    def from_flags(cls, *, verbose: int, quiet: bool) -> Verbosity:
        """-q wins over -v; more than two -v are -vv."""
        return cls.QUIET if quiet else cls(min(verbose, cls.DEBUG))

    def shows(self, level: Verbosity) -> bool:
        """Whether a message of `level` is shown at this verbosity."""
        return self >= level


_TRUE = {"1", "true", "yes", "on", "t", "y"}
_FALSE = {"0", "false", "no", "off", "f", "n", ""}


class Settings(BaseModel):
    """Resolved settings for one invocation. Immutable; `origin` says where each value came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project_dir: Path | None = None
    endpoint: str = "http://localhost:8080"  # as given: the client normalises a trailing `/`, once
    admin_secret: SecretStr | None = None
    database: str | None = None
    output: OutputFormat = OutputFormat.TEXT
    verbosity: Verbosity = Verbosity.NORMAL
    no_color: bool = False
    scratch_url: SecretStr | None = None
    pg_version: int | None = None
    pg_bindir: Path | None = None
    hasura_preconditions: bool = True
    timeout: float = 60.0
    insecure_skip_tls_verify: bool = False
    certificate_authority: Path | None = None
    api_paths: dict[str, str] = {}
    origin: dict[str, str] = {}

    @field_validator("no_color", "hasura_preconditions", "insecure_skip_tls_verify", mode="before")
    @classmethod
    def _parse_bool(cls, value: Any) -> Any:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
            raise ValueError(f"expected true or false, got {value!r}")
        return value


@dataclass(frozen=True)
class SettingsLayer:
    """Raw values from one source (flags, environment, .env, config.yaml), named for messages."""

    label: str
    values: Mapping[str, Any] = field(default_factory=dict)


def layer_from_environment(label: str, environ: Mapping[str, str]) -> SettingsLayer:
    """Pick our settings out of an environment mapping (the process's, or a parsed `.env`)."""
    values: dict[str, Any] = {}
    for name, variables in ENVIRONMENT_VARIABLES.items():
        for variable in variables:
            if variable not in environ:
                continue
            if variable == "NO_COLOR":
                # no-color.org: present and non-empty means "no colour"; empty means unset.
                if environ[variable] == "":
                    continue
                values[name] = True
            else:
                values[name] = environ[variable]
            break
    return SettingsLayer(label=label, values=values)


def resolve_settings(layers: list[SettingsLayer]) -> Settings:
    """Merge layers, first layer wins, into validated `Settings`.

    Raises:
        UsageError: a value does not fit its setting (names the source and the setting).
    """
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for layer in layers:
        for name, value in layer.values.items():
            if value is None or name in merged:
                continue
            merged[name] = value
            origin[name] = layer.label
    try:
        return Settings(**merged, origin=origin)
    except ValidationError as exc:
        problem = exc.errors()[0]
        name = str(problem["loc"][0]) if problem["loc"] else "?"
        source = origin.get(name, "default")
        raise UsageError(
            f"invalid value for {name} (from {source}): {problem['msg']}",
            hint=_hint_for(name),
        ) from None


def _hint_for(name: str) -> str | None:
    variables = ENVIRONMENT_VARIABLES.get(name)
    if not variables:
        return None
    return f"check the --{name.replace('_', '-')} option and the {variables[0]} variable"


_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.I)
_KEYWORD_PASSWORD = re.compile(r"(?P<key>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.I)
_SECRET_HEADER = re.compile(
    r"(?P<key>x-hasura-(?:admin-secret|access-key)['\"]?\s*[:=]\s*['\"]?)(?P<value>[^'\"\s,}]+)", re.I
)


def redact_url(url: str) -> str:
    """`postgresql://u:secret@h/db` → `postgresql://u:***@h/db`; other URLs unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    if parts.password is None:
        return redact(url)
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def redact(text: str, *secrets: str | None) -> str:
    """Mask URL passwords, `password=` conninfo keywords and the given secret values in text."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    text = _SECRET_HEADER.sub(lambda m: f"{m['key']}***", text)
    return _KEYWORD_PASSWORD.sub(lambda m: f"{m['key']}***", text)
