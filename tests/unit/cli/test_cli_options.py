"""cli: options as the Hasura CLI's users type them (issue 12 item 4).

Global options after the command must not change what the command means, a command's own
option wins over a global one of the same name, and every malformed value is a usage error
(exit 2) in our words, never an internal error or a silent exit 0.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura import __version__
from kedge_hasura.cli import hoist_global_options

from ..conftest import BuildTree

RunCli = Callable[..., Any]  # tests/conftest.py run_cli: (*args, cwd=, env=) -> CliResult

GLOBALS = {"--project": True, "--endpoint": True, "--version": False, "-v": False}


def test_version_before_the_command_prints_the_version(run_cli: RunCli) -> None:
    result = run_cli("--version")

    assert (result.exit_code, result.stdout) == (0, f"kedge-hasura {__version__}\n")


@pytest.mark.parametrize("command", [("status",), ("verify",), ("state", "show"), ("rollback",)])
def test_version_after_a_command_without_it_is_a_usage_error(
    run_cli: RunCli, kedge_project: Path, command: tuple[str, ...]
) -> None:
    result = run_cli(*command, "--version", "--project", str(kedge_project))

    assert result.exit_code == 2
    assert __version__ not in result.stdout
    assert "--version" in result.stderr


def test_missing_value_of_a_global_option_after_the_command(run_cli: RunCli, kedge_project: Path) -> None:
    result = run_cli("--project", str(kedge_project), "status", "--endpoint")

    assert result.exit_code == 2
    assert "--endpoint requires a value" in result.stderr
    assert "Missing command" not in result.stderr


def test_unknown_option_after_the_command_is_an_error(run_cli: RunCli, kedge_project: Path) -> None:
    result = run_cli("status", "--no-such-option", "--project", str(kedge_project))

    assert result.exit_code == 2
    assert "--no-such-option" in result.stderr


@pytest.mark.parametrize(
    ("argv", "own", "expected"),
    [
        (["deploy", "--version", "7"], {"--version": True}, ["deploy", "--version", "7"]),
        (["status", "--version"], {}, ["status", "--version"]),
        (["x", "--endpoint", "e"], {"--endpoint": True}, ["x", "--endpoint", "e"]),
        (["x", "--endpoint", "--project", "p"], {"--endpoint": True}, ["x", "--endpoint", "--project", "p"]),
        (
            ["x", "--project", "p", "--version", "7"],
            {"--version": True},
            ["--project", "p", "x", "--version", "7"],
        ),
    ],
    ids=["own-version", "root-only-version-stays", "own-wins", "own-value-not-hoisted", "mixed"],
)
def test_hoisting_leaves_the_commands_own_options(
    argv: list[str], own: dict[str, bool], expected: list[str]
) -> None:
    assert hoist_global_options(argv, GLOBALS, own) == expected


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--timeout", "-1"), "above 0"),
        (("--timeout", "nan"), "above 0"),
        (("--timeout", "0"), "above 0"),
        (("--endpoint", "http://[::1"), "IPv6"),
        (("--endpoint", "http://host:99999"), "not a valid URL"),
        (("--endpoint", "https://hasura.example.com/v1/graphql"), "use the base URL (https://hasura.example.com)"),
        (("--endpoint", "hasura.example.com:8080"), "add http:// or https://"),
        (("--endpoint", "ftp://hasura.example.com"), "http or https"),
    ],
    ids=["timeout-negative", "timeout-nan", "timeout-zero", "ipv6-unclosed", "port", "graphql-url",
         "no-scheme", "other-scheme"],
)  # fmt: skip
def test_bad_values_are_usage_errors(
    run_cli: RunCli, kedge_project: Path, args: tuple[str, ...], words: str
) -> None:
    result = run_cli("status", "--server", "--project", str(kedge_project), *args)

    assert result.exit_code == 2, result.stderr
    assert words in result.stderr
    assert "internal error" not in result.stderr


def test_endpoint_errors_never_echo_the_admin_secret_in_the_query(
    run_cli: RunCli, kedge_project: Path
) -> None:
    secret = "query-secret-value"
    result = run_cli(
        "status", "--server", "--project", str(kedge_project),
        "--endpoint", f"https://h/v1/graphql?admin_secret={secret}",
    )  # fmt: skip

    assert result.exit_code == 2
    assert secret not in result.stderr + result.stdout


def test_a_config_v2_deploy_is_refused_before_any_request(run_cli: RunCli, tmp_path: Path) -> None:
    project = tmp_path / "v2" / "hasura"
    shutil.copytree(Path(__file__).resolve().parents[2] / "fixtures" / "projects" / "config_v2", project)

    # Port 9 (discard) on loopback: nothing answers, so any request would end in a connection error.
    result = run_cli(
        "deploy", "--project", str(project), "--endpoint", "http://127.0.0.1:9", "--timeout", "2"
    )

    assert result.exit_code == 3, result.stderr
    assert "hasura scripts update-project-v3" in result.stderr
    assert "nothing was sent" in result.stderr


# -- the Hasura CLI's spellings ------------------------------------------------------------------------

TWO_DATABASES = (
    "- name: default\n  kind: postgres\n  tables: []\n- name: analytics\n  kind: postgres\n  tables: []\n"
)
CLOSED_PORT = "http://127.0.0.1:9"


@pytest.fixture
def two_databases(make_project: BuildTree) -> Path:
    """`default` and `analytics`, one migration each; `.env` names `default` and a closed port."""
    files = {
        "metadata/databases/databases.yaml": TWO_DATABASES,
        ".env": f"KEDGE_DATABASE=default\nHASURA_GRAPHQL_ENDPOINT={CLOSED_PORT}\n",
        "other.env": "KEDGE_DATABASE=fromenvfile\n",
    }
    for database, version in (("default", 1000), ("analytics", 2000)):
        files[f"migrations/{database}/{version}_init/up.sql"] = "CREATE TABLE t (id int);\n"
    return make_project(files)


def test_envfile_replaces_the_projects_dotenv(run_cli: RunCli, two_databases: Path) -> None:
    result = run_cli("status", "--project", str(two_databases), "--envfile", "other.env")

    assert result.exit_code == 2, result.stderr
    assert "no migrations for database 'fromenvfile'" in result.stderr


def test_envfile_keeps_the_precedence_below_flags(run_cli: RunCli, two_databases: Path) -> None:
    result = run_cli(
        "status", "--project", str(two_databases), "--envfile", "other.env", "--database", "flag"
    )

    assert result.exit_code == 2, result.stderr
    assert "no migrations for database 'flag'" in result.stderr


def test_a_missing_envfile_is_a_usage_error(run_cli: RunCli, two_databases: Path) -> None:
    result = run_cli("status", "--project", str(two_databases), "--envfile", "nope.env")

    assert result.exit_code == 2, result.stderr
    assert "--envfile nope.env: no such file" in result.stderr


def test_database_name_is_database(run_cli: RunCli, two_databases: Path) -> None:
    result = run_cli("status", "--project", str(two_databases), "--database-name", "byname")

    assert result.exit_code == 2, result.stderr
    assert "no migrations for database 'byname'" in result.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--all-databases", "--database", "default"), "--all-databases and --database do not go together"),
        (("--up", "1", "--goto", "1000"), "--goto and --up do not go together"),
        (("--version", "1000", "--up", "1"), "--version and --up do not go together"),
        (("--skip-execution",), "--skip-execution needs --version V"),
        (("--version", "1000", "--skip-execution", "--dry-run"), "does not go with --dry-run"),
        (("--up", "1", "--rehearse"), "--rehearse rehearses every pending migration"),
        (("--up", "1", "--all-databases"), "work on one database"),
        (("--version", "abc"), "invalid value for '--version'"),
    ],
    ids=["all-and-one", "goto-and-up", "version-and-up", "skip-alone", "skip-dry-run", "rehearse-partial",
         "partial-all", "version-not-a-number"],
)  # fmt: skip
def test_deploy_option_combinations_that_mean_nothing_are_refused(
    run_cli: RunCli, two_databases: Path, args: tuple[str, ...], words: str
) -> None:
    result = run_cli("deploy", "--project", str(two_databases), *args)

    assert result.exit_code == 2, result.stderr
    assert words in result.stderr


def test_a_partial_deploy_needs_one_database(run_cli: RunCli, make_project: BuildTree) -> None:
    files = {"metadata/databases/databases.yaml": TWO_DATABASES}
    for database, version in (("default", 1000), ("analytics", 2000)):
        files[f"migrations/{database}/{version}_init/up.sql"] = "CREATE TABLE t (id int);\n"
    root = make_project(files)

    result = run_cli("deploy", "--project", str(root), "--up", "1", "--endpoint", CLOSED_PORT)

    assert result.exit_code == 2, result.stderr
    assert "several databases" in result.stderr


def test_deploy_help_says_where_we_differ_from_the_hasura_cli(run_cli: RunCli) -> None:
    result = run_cli("deploy", "--help")

    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for words in ("--goto V", "unlike the Hasura CLI", "--skip-execution", "--all-databases", "no metadata"):
        assert words in text


def test_missing_value_after_the_command_is_one_json_document_with_output_json(
    run_cli: RunCli, kedge_project: Path
) -> None:
    result = run_cli("-o", "json", "--project", str(kedge_project), "status", "--endpoint")

    document = json.loads(result.stdout)
    assert result.exit_code == 2
    assert (document["exit_code"], document["error"]["type"]) == (2, "UsageError")
    assert "--endpoint requires a value" in document["error"]["message"]
