"""A server older than the oldest version we support (Hasura v1) is refused with a clear message
before anything but `GET /v1/version` is sent to it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.errors import HasuraUnsupported
from kedge_hasura.hasura import HasuraClient

RunCli = Callable[..., Any]


class _Server(ThreadingHTTPServer):
    version = "v1.3.3"
    seen: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _answer(self) -> None:
        self.server.seen.append(f"{self.command} {self.path}")
        body = json.dumps({"version": self.server.version}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer  # noqa: N815 - http.server's naming
    do_POST = _answer  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def old_server() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.mark.parametrize("version", ["v1.3.3", "v1.0.0-beta.10", "v2.0.0-alpha.1"])
def test_the_cli_refuses_a_server_older_than_v2(
    run_cli: RunCli, kedge_project: Path, old_server: _Server, version: str
) -> None:
    old_server.version = version
    result = run_cli("status", "--server", "--project", str(kedge_project), "--endpoint", _url(old_server))

    assert result.exit_code == 3
    assert f"Hasura {version} is older than v2.0.0" in result.stderr
    assert old_server.seen == ["GET /v1/version"]


def test_the_library_refuses_only_when_asked(old_server: _Server) -> None:
    with (
        HasuraClient(base_url=_url(old_server), require_supported=True) as hasura,
        pytest.raises(HasuraUnsupported, match="older than"),
    ):
        hasura.run_sql("SELECT 1")
    assert old_server.seen == ["GET /v1/version"]
    with HasuraClient(base_url=_url(old_server)) as hasura:
        assert hasura.version().version == "v1.3.3"


@pytest.mark.parametrize("version", ["v2.0.0", "v2.48.5-ce", "dev-4f2a9c1"])
def test_supported_and_development_servers_pass(old_server: _Server, version: str) -> None:
    old_server.version = version
    with HasuraClient(base_url=_url(old_server), require_supported=True) as hasura:
        assert hasura.version().version == version
