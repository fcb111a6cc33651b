"""Answers that never end: a server that trickles bytes hits one overall deadline per request, and
a body larger than the cap is refused without being buffered whole. Real HTTP on loopback, from a
socket server that misbehaves on purpose."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator

import httpx
import pytest

from kedge_hasura.errors import HasuraBadResponse, HasuraError, HasuraUnreachable
from kedge_hasura.hasura import HasuraClient
from kedge_hasura.render.output import Output

Behaviour = Callable[[socket.socket, threading.Event], None]


def _serve(behaviour: Behaviour) -> Iterator[str]:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def run() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            with contextlib.suppress(OSError):  # the client gave up and closed: the point of the test
                behaviour(connection, stop)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    stop.set()
    thread.join(timeout=30)
    listener.close()


def _trickle(connection: socket.socket, stop: threading.Event) -> None:
    # Each byte comes well within the read timeout; the whole answer would take 8 s.
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n")
    for _ in range(400):
        if stop.is_set():
            return
        connection.sendall(b" ")
        time.sleep(0.02)


def _endless(connection: socket.socket, stop: threading.Event) -> None:
    connection.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 65536
    for _ in range(128):  # 8 MiB, far over the client's cap of 1 MiB below
        if stop.is_set():
            return
        connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    connection.sendall(b"0\r\n\r\n")


@pytest.fixture
def trickling() -> Iterator[str]:
    yield from _serve(_trickle)


@pytest.fixture
def endless() -> Iterator[str]:
    yield from _serve(_endless)


def test_a_trickling_answer_hits_the_overall_deadline(trickling: str) -> None:
    with (
        HasuraClient(base_url=trickling, admin_secret="bounds-secret-1", timeout=1.0) as hasura,
        pytest.raises(HasuraUnreachable) as caught,
    ):
        hasura.run_sql("SELECT 1")
    assert caught.value.may_have_reached_server
    assert "did not answer run_sql within 1 s" in caught.value.message


def test_an_answer_over_the_size_cap_is_refused(endless: str) -> None:
    with (
        HasuraClient(
            base_url=endless, admin_secret="bounds-secret-1", max_response_bytes=1024 * 1024
        ) as hasura,
        pytest.raises(HasuraBadResponse) as caught,
    ):
        hasura.run_sql("SELECT 1")
    assert "larger than 1 MiB" in caught.value.message
    assert "may have been applied" in caught.value.message
    assert caught.value.details["may_have_reached_server"] is True


def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    def declared(connection: socket.socket, stop: threading.Event) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n{")

    server = _serve(declared)
    url = next(server)
    try:
        with (
            HasuraClient(base_url=url, max_response_bytes=1024) as hasura,
            pytest.raises(HasuraBadResponse, match="larger than"),
        ):
            hasura.run_sql("SELECT 1")
    finally:
        next(server, None)


def test_the_library_cuts_a_trailing_line_break_and_refuses_an_unsendable_secret() -> None:
    from kedge_hasura.errors import UsageError

    with HasuraClient(base_url="http://127.0.0.1:9", admin_secret="lib-secret-1234\r\n") as hasura:
        assert hasura._session.secret == "lib-secret-1234"
    with pytest.raises(UsageError, match="non-ASCII character at position 4") as caught:
        HasuraClient(base_url="http://127.0.0.1:9", admin_secret="lib\u00e9-secret")
    assert "lib" not in caught.value.message


ECHO_SECRET = "proxy-echo-secret/+9f3a"
ENCODED_ECHOES = {
    "base64-basic-auth": "Authorization: Basic " + base64.b64encode(f"admin:{ECHO_SECRET}".encode()).decode(),
    "base64url": "token=" + base64.urlsafe_b64encode(ECHO_SECRET.encode()).decode(),
    "url-encoded": "GET /login?secret=" + urllib.parse.quote(ECHO_SECRET, safe=""),
    "url-encoded-lower": "secret=" + urllib.parse.quote(ECHO_SECRET, safe="").lower(),
}


@pytest.mark.parametrize("echo", list(ENCODED_ECHOES.values()), ids=list(ENCODED_ECHOES))
@pytest.mark.parametrize("shape", ["proxy-page", "hasura-error"])
def test_a_proxy_echoing_the_secret_encoded_never_gets_it_printed(echo: str, shape: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if shape == "proxy-page":
            return httpx.Response(
                502, text=f"{echo}\n<html>bad gateway</html>", headers={"content-type": "text/html"}
            )
        return httpx.Response(401, json={"path": "$", "error": f"denied: {echo}", "code": "access-denied"})

    with (
        HasuraClient(
            base_url="http://hasura.test", admin_secret=ECHO_SECRET, transport=httpx.MockTransport(answer)
        ) as hasura,
        pytest.raises(HasuraError) as caught,
    ):
        hasura.run_sql("SELECT 1")
    rendered = io.StringIO()
    Output(stdout=io.StringIO(), stderr=rendered, secrets=(ECHO_SECRET,)).error("run", caught.value)
    visible = "\n".join(
        [caught.value.message, caught.value.hint or "", json.dumps(caught.value.details), rendered.getvalue()]
    )
    assert "***" in visible
    assert ECHO_SECRET not in visible
    assert urllib.parse.quote(ECHO_SECRET, safe="") not in visible
    assert urllib.parse.quote(ECHO_SECRET, safe="").lower() not in visible
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        assert encode(ECHO_SECRET.encode()).decode()[2:-4] not in visible
