"""settings: precedence flag > environment > .env > config.yaml > default; variables; redact()."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.cli.context import AppContext, GlobalOptions
from kedge_hasura.errors import UsageError
from kedge_hasura.settings import (
    LINE_BREAK_NOTICE,
    OutputFormat,
    Settings,
    SettingsLayer,
    clean_admin_secret,
    layer_from_environment,
    redact,
    redact_url,
    resolve_settings,
    settings_report,
)

BuildTree = Callable[..., Path]  # fixture make_project (tests/unit/conftest.py)

SECRET = "s3cr3t-value"
LAYERS = ["command line", "environment", ".env", "config.yaml", "default"]


def _settings_from(layers: dict[str, dict[str, str]]) -> Settings:
    """Resolve settings from raw environment-style layers, highest first."""
    return resolve_settings([layer_from_environment(label, values) for label, values in layers.items()])


# -- precedence through the real layers (flags, os.environ, .env file, config.yaml) -----------------

PRECEDENCE = {
    # setting: (flag value, env variables, .env variables, config.yaml line, expected per top layer)
    "endpoint": (
        "http://flag:1",
        {"HASURA_GRAPHQL_ENDPOINT": "http://env:2"},
        "HASURA_GRAPHQL_ENDPOINT=http://dotenv:3\n",
        "endpoint: http://config:4\n",
        ["http://flag:1", "http://env:2", "http://dotenv:3", "http://config:4", "http://localhost:8080"],
    ),
    "admin_secret": (
        "flag-secret",
        {"HASURA_GRAPHQL_ADMIN_SECRET": "env-secret"},
        "HASURA_GRAPHQL_ADMIN_SECRET=dotenv-secret\n",
        "admin_secret: config-secret\n",
        ["flag-secret", "env-secret", "dotenv-secret", "config-secret", None],
    ),
    "insecure_skip_tls_verify": (
        True,
        {"HASURA_GRAPHQL_INSECURE_SKIP_TLS_VERIFY": "false"},
        "HASURA_GRAPHQL_INSECURE_SKIP_TLS_VERIFY=true\n",
        "insecure_skip_tls_verify: false\n",
        [True, False, True, False, False],
    ),
}


def _value(settings: Settings, name: str) -> Any:
    value = getattr(settings, name)
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


@pytest.mark.parametrize("top", range(len(LAYERS)), ids=LAYERS)
@pytest.mark.parametrize("name", list(PRECEDENCE), ids=list(PRECEDENCE))
def test_highest_layer_wins(make_project: BuildTree, name: str, top: int) -> None:
    flag, environ, dotenv, config_line, expected = PRECEDENCE[name]
    files: dict[str, str | None] = {"config.yaml": "version: 3\n" + (config_line if top <= 3 else "")}
    if top <= 2:
        files[".env"] = dotenv
    root = make_project(files)
    flags: dict[str, Any] = {"project_dir": root}
    if top == 0:
        flags[name] = flag
    context = AppContext.create(GlobalOptions(**flags), environ=dict(environ) if top <= 1 else {})
    context.project()

    settings = context.settings()

    assert _value(settings, name) == expected[top]
    assert settings.origin.get(name, "default") == LAYERS[top]


def test_first_layer_wins_and_none_is_skipped() -> None:
    settings = resolve_settings(
        [
            SettingsLayer("command line", {"database": None, "timeout": 5}),
            SettingsLayer("environment", {"database": "analytics", "timeout": "9"}),
        ]
    )

    assert (settings.database, settings.origin["database"]) == ("analytics", "environment")
    assert (settings.timeout, settings.origin["timeout"]) == (5.0, "command line")


def test_defaults_have_no_origin() -> None:
    settings = resolve_settings([])

    assert settings.endpoint == "http://localhost:8080"
    assert settings.output is OutputFormat.TEXT
    assert settings.origin == {}


# -- environment variables ----------------------------------------------------------------------------


ENVIRONMENT_CASES = [
    ("HASURA_GRAPHQL_ENDPOINT", "https://h.example.com", "endpoint", "https://h.example.com"),
    ("HASURA_GRAPHQL_ADMIN_SECRET", SECRET, "admin_secret", SECRET),
    ("HASURA_GRAPHQL_ACCESS_KEY", SECRET, "admin_secret", SECRET),
    ("HASURA_GRAPHQL_INSECURE_SKIP_TLS_VERIFY", "true", "insecure_skip_tls_verify", True),
    ("HASURA_GRAPHQL_CERTIFICATE_AUTHORITY", "/etc/ca.pem", "certificate_authority", Path("/etc/ca.pem")),
    ("KEDGE_PROJECT", "/srv/app/hasura", "project_dir", Path("/srv/app/hasura")),
    ("KEDGE_DATABASE", "analytics", "database", "analytics"),
    ("KEDGE_OUTPUT", "json", "output", OutputFormat.JSON),
    ("KEDGE_SCRATCH_URL", "postgresql://u:pw@h/db", "scratch_url", "postgresql://u:pw@h/db"),
    ("KEDGE_PG_VERSION", "16", "pg_version", 16),
    ("KEDGE_PG_BINDIR", "/usr/lib/postgresql/16/bin", "pg_bindir", Path("/usr/lib/postgresql/16/bin")),
    ("KEDGE_HASURA_PRECONDITIONS", "false", "hasura_preconditions", False),
    ("KEDGE_TIMEOUT", "2.5", "timeout", 2.5),
    ("KEDGE_NO_COLOR", "1", "no_color", True),
]


@pytest.mark.parametrize(
    ("variable", "value", "name", "expected"), ENVIRONMENT_CASES, ids=[row[0] for row in ENVIRONMENT_CASES]
)
def test_environment_variable(variable: str, value: str, name: str, expected: Any) -> None:
    settings = _settings_from({"environment": {variable: value}})

    assert _value(settings, name) == expected
    assert settings.origin[name] == "environment"


@pytest.mark.parametrize(
    "variable",
    [
        "HASURA_GRAPHQL_ENDPOINT_URL",
        "HASURA_ENDPOINT",
        "KEDGE_ENDPOINT",
        "hasura_graphql_endpoint",
        "GRAPHQL_ENDPOINT",
    ],
)
def test_look_alike_variables_are_ignored(variable: str) -> None:
    settings = _settings_from({"environment": {variable: "http://wrong:1"}})

    assert settings.endpoint == "http://localhost:8080"


def test_admin_secret_beats_legacy_access_key() -> None:
    settings = _settings_from(
        {"environment": {"HASURA_GRAPHQL_ACCESS_KEY": "legacy", "HASURA_GRAPHQL_ADMIN_SECRET": "current"}}
    )

    assert settings.admin_secret is not None
    assert settings.admin_secret.get_secret_value() == "current"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, False),
        ({"NO_COLOR": "1"}, True),
        ({"NO_COLOR": "0"}, True),
        ({"NO_COLOR": "false"}, True),
        ({"NO_COLOR": "anything"}, True),
        ({"NO_COLOR": ""}, False),
        ({"KEDGE_NO_COLOR": "1"}, True),
        pytest.param(
            {"NO_COLOR": "", "KEDGE_NO_COLOR": "1"},
            True,
        ),
    ],
    ids=["unset", "one", "zero", "false", "any-text", "empty", "kedge-no-color", "empty-no-color-then-kedge"],
)
def test_no_color_means_present_and_non_empty(environ: dict[str, str], expected: bool) -> None:
    assert _settings_from({"environment": environ}).no_color is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("1", True),
        ("t", True),
        ("y", True),
        ("false", False),
        ("Off", False),
        ("no", False),
        ("0", False),
        ("", False),
    ],
    ids=["true", "TRUE", "yes-padded", "on", "1", "t", "y", "false", "Off", "no", "0", "empty"],
)
def test_bool_values(value: str, expected: bool) -> None:
    settings = _settings_from({"environment": {"KEDGE_HASURA_PRECONDITIONS": value}})

    assert settings.hasura_preconditions is expected


@pytest.mark.parametrize(
    ("label", "variable", "value", "name"),
    [
        ("environment", "KEDGE_HASURA_PRECONDITIONS", "maybe", "hasura_preconditions"),
        (".env", "HASURA_GRAPHQL_INSECURE_SKIP_TLS_VERIFY", "2", "insecure_skip_tls_verify"),
        ("environment", "KEDGE_TIMEOUT", "soon", "timeout"),
        (".env", "KEDGE_PG_VERSION", "sixteen", "pg_version"),
        ("environment", "KEDGE_PG_VERSION", "16.1", "pg_version"),
        ("environment", "KEDGE_OUTPUT", "yaml", "output"),
    ],
    ids=[
        "bad-bool-env",
        "bad-bool-dotenv",
        "bad-float-env",
        "bad-int-dotenv",
        "fractional-int-env",
        "bad-choice",
    ],
)
def test_bad_value_names_setting_and_source(label: str, variable: str, value: str, name: str) -> None:
    with pytest.raises(UsageError) as caught:
        _settings_from({label: {variable: value}})

    assert caught.value.message.startswith(f"invalid value for {name} (from {label}): ")
    assert caught.value.hint is not None
    assert variable in caught.value.hint


def test_bad_flag_value_names_the_command_line() -> None:
    with pytest.raises(UsageError, match=r"invalid value for timeout \(from command line\)"):
        resolve_settings([SettingsLayer("command line", {"timeout": "forever"})])


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://localhost:8080///", "http://localhost:8080"),
        ("https://h.example.com/hasura/", "https://h.example.com/hasura"),
        ("http://localhost:8080", "http://localhost:8080"),
    ],
    ids=["one-slash", "several-slashes", "with-path", "no-slash"],
)
def test_endpoint_trailing_slash_is_stripped(tmp_path: Path, endpoint: str, expected: str) -> None:
    context = AppContext.create(GlobalOptions(endpoint=endpoint), environ={})
    context.cwd = tmp_path  # no project: flags and environment alone

    try:
        assert context.hasura().endpoint == expected
    finally:
        context.close()


# -- secrets ------------------------------------------------------------------------------------------


@pytest.fixture
def secret_settings() -> Settings:
    return _settings_from(
        {
            "environment": {
                "HASURA_GRAPHQL_ADMIN_SECRET": SECRET,
                "KEDGE_SCRATCH_URL": "postgresql://u:pw-9x@h/db",
            }
        }
    )


def test_secret_not_in_repr(secret_settings: Settings) -> None:
    assert SECRET not in repr(secret_settings)
    assert SECRET not in str(secret_settings)


def test_secret_not_in_json(secret_settings: Settings) -> None:
    dumped = secret_settings.model_dump_json()

    assert SECRET not in dumped
    assert "pw-9x" not in dumped


def test_secret_still_usable(secret_settings: Settings) -> None:
    assert secret_settings.admin_secret is not None
    assert secret_settings.admin_secret.get_secret_value() == SECRET


# -- redact() -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        ("postgresql://app:hunter2@db:5432/app", (), "postgresql://app:***@db:5432/app"),
        ("failed: postgres://u:p%40ss@h/db refused", (), "failed: postgres://u:***@h/db refused"),
        ("host=db password=hunter2 user=app", (), "host=db password=*** user=app"),
        ("host=db PASSWORD = 'two words' user=app", (), "host=db PASSWORD = *** user=app"),
        (f"header value {SECRET} sent", (SECRET,), "header value *** sent"),
        (f"{SECRET}{SECRET}", (SECRET,), "******"),
        ("nothing secret", (None, ""), "nothing secret"),
        ("http://localhost:8080/v1/metadata", (), "http://localhost:8080/v1/metadata"),
        ("http://user@host/db", (), "http://user@host/db"),
        ("passwordless=true", (), "passwordless=true"),
        ("the password is set", (), "the password is set"),
    ],
    ids=[
        "url-password",
        "url-password-in-sentence",
        "keyword-password",
        "keyword-quoted-password",
        "explicit-secret",
        "explicit-secret-twice",
        "empty-secrets-ignored",
        "url-without-credentials",
        "url-with-user-only",
        "passwordless-keyword",
        "the-word-password",
    ],
)
def test_redact(text: str, secrets: tuple[str | None, ...], expected: str) -> None:
    assert redact(text, *secrets) == expected


def test_redact_masks_admin_secret_header() -> None:
    assert "abc123" not in redact("X-Hasura-Admin-Secret: abc123")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://app:hunter2@db:5432/app", "postgresql://app:***@db:5432/app"),
        ("postgresql://db:5432/app", "postgresql://db:5432/app"),
        ("http://localhost:8080", "http://localhost:8080"),
    ],
    ids=["with-password", "without-credentials", "http"],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


# -- masking the secret's encodings, and not garbling our own words ------------------------------------

ECHO_SECRET = "proxy-echo-s3cr3t/+?"


@pytest.mark.parametrize(
    "echo",
    [
        base64.b64encode(ECHO_SECRET.encode()).decode(),
        base64.urlsafe_b64encode(ECHO_SECRET.encode()).decode(),
        "Basic " + base64.b64encode(f"admin:{ECHO_SECRET}".encode()).decode(),
        base64.b64encode(f"xy{ECHO_SECRET}z".encode()).decode(),
        urllib.parse.quote(ECHO_SECRET, safe=""),
        urllib.parse.quote(ECHO_SECRET, safe="").lower(),
        urllib.parse.quote_plus(f"a {ECHO_SECRET}", safe=""),
    ],
    ids=["base64", "base64url", "basic-auth", "base64-offset-2", "url", "url-lower-hex", "url-plus"],
)
def test_redact_masks_encoded_echoes(echo: str) -> None:
    masked = redact(f"upstream said: {echo}", ECHO_SECRET)

    assert "***" in masked
    for form in (ECHO_SECRET, urllib.parse.quote(ECHO_SECRET, safe="")):
        assert form not in masked
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        assert encode(ECHO_SECRET.encode()).decode().rstrip("=")[1:-1] not in masked


@pytest.mark.parametrize("secret", ["a", "the", "secret7"])
def test_short_secrets_do_not_garble_our_words(secret: str) -> None:
    text = "the deploy applied 3 migrations; a secret is never printed"

    assert redact(text, secret) == text
    assert redact(f"[{secret}]", secret, echoed=True) == "[***]"  # in a server's text, any length


@pytest.mark.parametrize(
    "url",
    [
        "http://h:8080/?admin_secret=qs-value",
        "http://h:8080/?x=1&access_key=qs-value#f",
        "http://h/?Admin-Secret=qs-value",
    ],
)
def test_redact_masks_secret_query_parameters(url: str) -> None:
    assert "qs-value" not in redact_url(url)
    assert "qs-value" not in redact(f"cannot reach {url}")


@pytest.mark.parametrize(
    ("value", "expected", "stripped"),
    [("abc\n", "abc", True), ("abc\r\n", "abc", True), ("abc", "abc", False), ("a b", "a b", False)],
)
def test_clean_admin_secret(value: str, expected: str, stripped: bool) -> None:
    assert clean_admin_secret(value) == (expected, stripped)


@pytest.mark.parametrize("value", ["abc\n\n", "a\rb", "a\tb", "caf\u00e9", "\x00"])
def test_clean_admin_secret_refuses_without_echoing(value: str) -> None:
    with pytest.raises(ValueError, match="nothing was sent") as caught:
        clean_admin_secret(value)
    assert repr(value)[1:-1] not in str(caught.value)


def test_a_secret_with_a_line_break_gets_a_notice_naming_its_source() -> None:
    settings = resolve_settings([SettingsLayer("environment", {"admin_secret": "abc-secret\n"})])

    assert settings.admin_secret is not None
    assert settings.admin_secret.get_secret_value() == "abc-secret"
    assert settings.notices == (f"{LINE_BREAK_NOTICE} (from environment)",)


def test_a_bad_secret_is_a_usage_error_naming_its_source() -> None:
    with pytest.raises(UsageError, match=r"admin_secret \(from \.env\): the admin secret holds") as caught:
        resolve_settings([SettingsLayer(".env", {"admin_secret": "abc\u00e9-secret"})])
    assert "abc" not in caught.value.message


@pytest.mark.parametrize(
    ("layers", "name", "shown"),
    [
        ({"admin_secret": "a"}, "admin_secret", "***"),
        ({"admin_secret": "http://u:p@host"}, "admin_secret", "***"),
        ({"scratch_url": "postgresql://kedge:pa%40ss@db.example.com:5432/x"}, "scratch_url",
         "postgresql://kedge:***@db.example.com:5432/x"),
        ({"scratch_url": "host=db.example.com password=hunter2 user=k"}, "scratch_url",
         "host=db.example.com password=*** user=k"),
        ({"endpoint": "https://h.example.com/?admin_secret=abc"}, "endpoint",
         "https://h.example.com/?admin_secret=***"),
        ({}, "admin_secret", "-"),
    ],
    ids=["one-letter-secret", "url-like-secret", "url-password", "conninfo-password", "endpoint-parameter",
         "unset"],
)  # fmt: skip
def test_settings_report_masks_secrets_and_keeps_hosts(layers: dict[str, str], name: str, shown: str) -> None:
    settings = resolve_settings([SettingsLayer(".env", layers)])

    report = settings_report(settings, files={}, project=None)

    (row,) = [row for row in report.settings if row.name == name]
    assert row.value == shown
    assert row.source == (".env" if layers else "default")


def test_settings_report_names_the_variable_and_the_winning_layer() -> None:
    environment = layer_from_environment("environment", {"KEDGE_DATABASE": "env_db", "NO_COLOR": "1"})
    dotenv = layer_from_environment(".env", {"KEDGE_DATABASE": "dotenv_db", "KEDGE_TIMEOUT": "5"})
    settings = resolve_settings([SettingsLayer("command line", {"timeout": 9}), environment, dotenv])

    rows = {row.name: row for row in settings_report(settings, files={}, project="/p").settings}

    assert (rows["database"].value, rows["database"].source, rows["database"].variable) == (
        "env_db", "environment", "KEDGE_DATABASE",
    )  # fmt: skip
    assert (rows["timeout"].value, rows["timeout"].source, rows["timeout"].variable) == (
        "9",
        "command line",
        None,
    )
    assert (rows["no_color"].source, rows["no_color"].variable) == ("environment", "NO_COLOR")
    assert (rows["project_dir"].value, rows["project_dir"].source) == ("/p", "found from the current folder")


@pytest.mark.parametrize(
    ("dotenv", "environ", "fmt", "no_color"),
    [
        ("KEDGE_OUTPUT=json\nNO_COLOR=1\n", {}, OutputFormat.JSON, True),
        ("KEDGE_OUTPUT=json\n", {"KEDGE_OUTPUT": "text"}, OutputFormat.TEXT, False),
        ("", {}, OutputFormat.TEXT, False),
    ],
    ids=["dotenv-honoured", "environment-wins", "neither"],
)
def test_output_and_no_color_in_dotenv_apply_once_settings_resolve(
    make_project: BuildTree, dotenv: str, environ: dict[str, str], fmt: OutputFormat, no_color: bool
) -> None:
    root = make_project({"config.yaml": "version: 3\n", ".env": dotenv})
    context = AppContext.create(GlobalOptions(project_dir=root), environ=environ)

    context.settings()

    assert context.output.format is fmt
    assert context.output.out.no_color is no_color and context.output.err.no_color is no_color
