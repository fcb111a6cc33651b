"""The admin secret's odd shapes: a trailing line break is cut with a notice, a character a header
cannot carry is a usage error before any request, and the secret is never printed in any output
mode. The endpoint is a closed loopback port, so a request, if one were made, fails at once."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.settings import LINE_BREAK_NOTICE

RunCli = Callable[..., Any]

SECRET = "k8s-mounted-secret-4f2a"
ENDINGS = {"lf": "\n", "crlf": "\r\n"}
# (global options, command): every output mode, each with a command that talks to the server.
MODES = {
    "text": ((), ("status", "--server")),
    "json": (("-o", "json"), ("status", "--server")),
    "junit": (("-o", "junit"), ("check", "--online")),
    "github": (("-o", "github"), ("check", "--online")),
}


@pytest.fixture(scope="module")
def closed_endpoint() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# Every ending and source in text and JSON; JUnit and GitHub (check --online replays offline first,
# which takes seconds) once each.
SHAPES = [
    *[
        (mode, ending, source)
        for mode in ("text", "json")
        for ending in ENDINGS
        for source in ("flag", "environment")
    ],
    ("junit", "crlf", "environment"),
    ("github", "lf", "flag"),
]


@pytest.mark.parametrize(("mode", "ending", "source"), SHAPES, ids=["-".join(shape) for shape in SHAPES])
def test_a_trailing_line_break_is_cut_with_a_notice_and_never_printed(
    run_cli: RunCli, kedge_project: Path, closed_endpoint: str, ending: str, mode: str, source: str
) -> None:
    options, command = MODES[mode]
    secret = SECRET + ENDINGS[ending]
    args = [*options, *command, "--project", str(kedge_project), "--endpoint", closed_endpoint]
    env = {}
    if source == "flag":
        args += ["--admin-secret", secret]
    else:
        env["HASURA_GRAPHQL_ADMIN_SECRET"] = secret
    result = run_cli(*args, env=env)

    everything = result.stdout + result.stderr
    assert SECRET not in everything
    assert SECRET.encode().hex() not in everything
    assert LINE_BREAK_NOTICE in result.stderr
    assert result.stderr.count(LINE_BREAK_NOTICE) == 1
    # The request was made with the cleaned secret and failed to connect (not a header error).
    assert "Illegal header" not in everything
    assert "refused the connection" in everything


@pytest.mark.parametrize(
    ("secret", "kind"),
    [
        (SECRET + "\tx", "a control character"),
        (SECRET[:4] + "\n" + SECRET[4:], "a control character"),
        (SECRET + "\n\n", "a control character"),
        (SECRET + "é", "a non-ASCII character"),
        (SECRET + "\x7f", "a control character"),
    ],
    ids=["tab", "inner-newline", "two-newlines", "non-ascii", "delete"],
)
@pytest.mark.parametrize("mode", ["text", "json"])
def test_a_secret_a_header_cannot_carry_is_a_usage_error(
    run_cli: RunCli, kedge_project: Path, closed_endpoint: str, secret: str, kind: str, mode: str
) -> None:
    options, command = MODES[mode]
    result = run_cli(
        *options,
        *command,
        "--project",
        str(kedge_project),
        "--endpoint",
        closed_endpoint,
        env={"HASURA_GRAPHQL_ADMIN_SECRET": secret},
    )

    assert result.exit_code == 2
    everything = result.stdout + result.stderr
    assert SECRET not in everything
    assert SECRET[:4] + "\\n" not in everything
    assert kind in everything
    assert "nothing was sent" in everything
    assert "may have reached" not in everything
    assert "refused the connection" not in everything  # refused before any request
    if mode == "json":
        envelope = json.loads(result.stdout)
        assert envelope["error"]["type"] == "UsageError"


def test_admin_secret_in_the_endpoint_query_is_masked(
    run_cli: RunCli, kedge_project: Path, closed_endpoint: str
) -> None:
    result = run_cli(
        "status",
        "--server",
        "--project",
        str(kedge_project),
        "--endpoint",
        f"{closed_endpoint}/?admin_secret=qs-{SECRET}",
    )

    assert result.exit_code == 3
    assert SECRET not in result.stdout + result.stderr
    assert "admin_secret=***" in result.stderr
