"""cli: options as the Hasura CLI's users type them (issue 12 item 4).

Global options after the command must not change what the command means, a command's own
option wins over a global one of the same name, and every malformed value is a usage error
(exit 2) in our words, never an internal error or a silent exit 0.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura import __version__
from kedge_hasura.cli import hoist_global_options

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
