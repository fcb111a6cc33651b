"""Settings and their precedence: flag > environment > .env > hasura/config.yaml > default.

This module only merges layers of raw values that the CLI collected (flags, `os.environ`, the
project's `.env`, `config.yaml`); it reads no files itself, so the precedence rules are a pure,
tested function. The admin secret and any URL carrying a password are `SecretStr`: their value is
never printed, logged or placed in JSON (`redact()` masks them wherever text could carry them).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator, model_validator

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
    origin_variable: dict[str, str] = {}  # setting → the environment variable that supplied it
    notices: tuple[str, ...] = ()  # things the CLI should tell the user (on stderr) about these values

    @model_validator(mode="before")
    @classmethod
    def _clean_admin_secret(cls, data: Any) -> Any:
        # Done here, before any request exists: a secret that cannot travel in a header must fail
        # as a usage error that names its source, never as an HTTP error that echoes it.
        if not isinstance(data, dict) or data.get("admin_secret") is None:
            return data
        raw = data["admin_secret"]
        value = raw.get_secret_value() if isinstance(raw, SecretStr) else str(raw)
        try:
            cleaned, stripped = clean_admin_secret(value)
        except ValueError:
            return data  # `_check_admin_secret` reports it, with the setting's name
        data = {**data, "admin_secret": SecretStr(cleaned) if cleaned else None}
        if stripped:
            source = data.get("origin", {}).get("admin_secret", "its source")
            data["notices"] = (*data.get("notices", ()), f"{LINE_BREAK_NOTICE} (from {source})")
        return data

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

    @field_validator("endpoint")
    @classmethod
    def _check_endpoint(cls, value: str) -> str:
        check_endpoint(value)
        return value

    @field_validator("timeout")
    @classmethod
    def _check_timeout(cls, value: float) -> float:
        # nan would never expire and a negative timeout means nothing to httpx: both end deep in
        # the HTTP stack as internal errors unless refused here.
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"expected a number of seconds above 0, got {value}")
        return value

    @field_validator("admin_secret", mode="before")
    @classmethod
    def _check_admin_secret(cls, value: Any) -> Any:
        if isinstance(value, str):
            clean_admin_secret(value)
        return value


@dataclass(frozen=True)
class SettingsLayer:
    """Raw values from one source (flags, environment, .env, config.yaml), named for messages."""

    label: str
    values: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)  # setting → variable (env layers)


def layer_from_environment(label: str, environ: Mapping[str, str]) -> SettingsLayer:
    """Pick our settings out of an environment mapping (the process's, or a parsed `.env`)."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
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
            sources[name] = variable
            break
    return SettingsLayer(label=label, values=values, variables=sources)


def resolve_settings(layers: list[SettingsLayer]) -> Settings:
    """Merge layers, first layer wins, into validated `Settings`.

    Raises:
        UsageError: a value does not fit its setting (names the source and the setting).
    """
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    variables: dict[str, str] = {}
    for layer in layers:
        for name, value in layer.values.items():
            if value is None or name in merged:
                continue
            merged[name] = value
            origin[name] = layer.label
            if name in layer.variables:
                variables[name] = layer.variables[name]
    try:
        return Settings(**merged, origin=origin, origin_variable=variables)
    except ValidationError as exc:
        problem = exc.errors()[0]
        name = str(problem["loc"][0]) if problem["loc"] else "?"
        source = origin.get(name, "default")
        message = str(problem["msg"]).removeprefix("Value error, ")
        raise UsageError(
            f"invalid value for {name} (from {source}): {message}",
            hint=_hint_for(name),
        ) from None


class SettingSource(BaseModel):
    """One setting of `status -v`: its value (secrets masked) and where it came from."""

    name: str
    value: str  # `***` for a secret that is set; URLs with their password masked, host visible
    source: str  # command line, environment, .env (or the --envfile path), config.yaml, default
    variable: str | None = None  # the environment variable, for environment and .env sources


class SettingsReport(BaseModel):
    """Which files supplied which settings (`status -v`)."""

    files: dict[str, str]  # source label → the file read, or "not found"
    settings: list[SettingSource]


# The settings `status -v` lists, in the order of the README's table.
_LISTED = (
    "project_dir", "endpoint", "admin_secret", "database", "output", "no_color", "scratch_url",
    "pg_version", "pg_bindir", "hasura_preconditions", "timeout", "insecure_skip_tls_verify",
    "certificate_authority",
)  # fmt: skip


def settings_report(settings: Settings, *, files: Mapping[str, str], project: str | None) -> SettingsReport:
    """Each setting's masked value and its source; `files` names the files behind the labels,
    `project` the project folder found (when no option or variable named it)."""
    rows = []
    for name in _LISTED:
        if name == "project_dir" and settings.project_dir is None and project is not None:
            rows.append(SettingSource(name=name, value=project, source="found from the current folder"))
            continue
        rows.append(
            SettingSource(
                name=name,
                value=_shown(name, getattr(settings, name)),
                source=settings.origin.get(name, "default"),
                variable=settings.origin_variable.get(name),
            )
        )
    return SettingsReport(files=dict(files), settings=rows)


def _shown(name: str, value: Any) -> str:
    """A setting's value as `status -v` prints it: secrets masked, URLs with their host."""
    if value is None:
        return "-"
    if name == "admin_secret":
        return "***"  # whatever it looks like: never a part of it
    if isinstance(value, SecretStr):  # a database URL or conninfo: its password masked
        secret = value.get_secret_value()
        return redact_url(secret) if "://" in secret else redact(secret)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, float):
        return f"{value:g}"
    return redact_url(str(value)) if "://" in str(value) else str(value)


LINE_BREAK_NOTICE = (
    "the admin secret ended in a line break, as a secret read from a file or a Kubernetes secret "
    "does; it was removed before use"
)


def clean_admin_secret(value: str) -> tuple[str, bool]:
    """The secret ready for the `X-Hasura-Admin-Secret` header, and whether a line break was cut.

    One trailing `\\n` or `\\r\\n` is removed (the usual shape of `$(cat file)` and of mounted
    Kubernetes secrets). Anything else that a header cannot carry (another control character,
    a non-ASCII character) is refused; the message gives the position, never the value.

    Raises:
        ValueError: the secret holds a character a header cannot carry.
    """
    stripped = False
    for ending in ("\r\n", "\n"):
        if value.endswith(ending):
            value, stripped = value[: -len(ending)], True
            break
    for position, char in enumerate(value, start=1):
        if not 0x20 <= ord(char) < 0x7F:
            kind = "a control character" if ord(char) < 0x20 or ord(char) == 0x7F else "a non-ASCII character"
            raise ValueError(
                f"the admin secret holds {kind} at position {position} of {len(value)}, which an HTTP "
                "header cannot carry; nothing was sent"
            )
    return value, stripped


# The paths of Hasura's APIs: an endpoint ending in one was copied from the console or a client
# config, and every request would go to `<endpoint>/v1/metadata` below it and fail with a 404.
_API_PATHS = ("/v1/graphql", "/v1beta1/relay", "/v1/query", "/v2/query", "/v1/metadata", "/v1/version")


def check_endpoint(value: str) -> None:
    """Refuse an endpoint that cannot be Hasura's base URL, saying what to write instead.

    The messages never repeat the value: it may carry `?admin_secret=`.

    Raises:
        ValueError: no http(s) scheme, no host, a malformed IPv6 address or port, or an API path.
    """
    if "://" not in value:
        raise ValueError(
            "the endpoint has no scheme: add http:// or https:// (for example http://localhost:8080)"
        )
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - parses the port, which raises ValueError when it is malformed
    except ValueError as exc:
        raise ValueError(
            f"the endpoint is not a valid URL ({exc}); write IPv6 hosts as http://[::1]:8080"
        ) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"the endpoint's scheme must be http or https, not {parts.scheme}")
    if not parts.hostname:
        raise ValueError("the endpoint has no host")
    path = parts.path.rstrip("/")
    for api_path in _API_PATHS:
        if path.lower().endswith(api_path):
            base = urlunsplit((parts.scheme, parts.netloc, path[: -len(api_path)], "", ""))
            raise ValueError(
                f"the endpoint ends in the API path {api_path}: use the base URL ({redact_url(base)})"
            )


def _hint_for(name: str) -> str | None:
    variables = ENVIRONMENT_VARIABLES.get(name)
    if not variables:
        return None
    return f"check the --{name.replace('_', '-')} option and the {variables[0]} variable"


# Our own words are masked only for secrets at least this long: masking a secret such as "a" or
# "the" everywhere would garble every message. Text that came from elsewhere (a server's answer,
# an exception's text) is masked whatever the secret's length (`echoed=True`).
MIN_MASKED_SECRET = 8

_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.I)
_KEYWORD_PASSWORD = re.compile(r"(?P<key>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|\S+)", re.I)
_SECRET_HEADER = re.compile(
    r"(?P<key>x-hasura-(?:admin-secret|access-key)['\"]?\s*[:=]\s*['\"]?)(?P<value>[^'\"\s,}]+)", re.I
)
# `?admin_secret=...` (and the legacy access_key) in an endpoint or an echoed URL.
_SECRET_PARAMETER = re.compile(r"(?P<key>\b(?:admin[_-]?secret|access[_-]?key)=)(?P<value>[^&#\s'\"]+)", re.I)


def redact_url(url: str) -> str:
    """`postgresql://u:secret@h/db` → `postgresql://u:***@h/db`; `?admin_secret=x` → `?admin_secret=***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    if parts.password is None:
        return redact(url)
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return redact(urlunsplit(parts._replace(netloc=netloc)))


def redact(text: str, *secrets: str | None, echoed: bool = False) -> str:
    """Mask URL passwords, `password=` conninfo keywords, secret headers and parameters, and the
    given secret values in text, also in the base64 and URL encodings a proxy might echo.

    A secret shorter than `MIN_MASKED_SECRET` is masked only when `echoed` (text that did not come
    from us), and only as itself: its encodings are too short to tell from ordinary text.
    """
    for secret in secrets:
        if not secret or (len(secret) < MIN_MASKED_SECRET and not echoed):
            continue
        text = text.replace(secret, "***")
        if len(secret) >= MIN_MASKED_SECRET:
            for form in _encoded_forms(secret):
                text = text.replace(form, "***")
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:***@", text)
    text = _SECRET_HEADER.sub(lambda m: f"{m['key']}***", text)
    text = _SECRET_PARAMETER.sub(lambda m: f"{m['key']}***", text)
    return _KEYWORD_PASSWORD.sub(lambda m: f"{m['key']}***", text)


def _encoded_forms(secret: str) -> Iterator[str]:
    """The URL encodings of the secret, and the base64 characters it alone decides.

    Base64 of a longer value that holds the secret (`Basic base64(user:secret)`) depends on where
    the secret starts modulo 3; for each of the three offsets, the characters whose 6 bits all come
    from the secret are the same whatever surrounds it, so masking them hides the secret.
    """
    quoted = quote(secret, safe="")
    lower_hex = re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), quoted)
    for form in (quoted, quote_plus(secret, safe=""), lower_hex):
        if form != secret:
            yield form
    raw = secret.encode()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        first = -(-8 * offset // 6)  # the first character without bits of the prefix
        last = 8 * (offset + len(raw)) // 6  # characters up to here hold only the secret's bits
        core = encoded[first:last]
        yield core
        yield core.translate(str.maketrans("+/", "-_"))
