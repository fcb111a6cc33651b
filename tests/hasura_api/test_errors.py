"""Every failure is mapped once: status/body → HasuraError subclass; transport errors → HasuraUnreachable.

Retries happen only when the request certainly did not leave (connect errors); a request that
may have reached the server (read timeout, reset, any answer) is never sent twice.
"""

from __future__ import annotations

import ssl

import httpx
import pytest

from kedge_hasura.errors import (
    HasuraAPIError,
    HasuraAuthError,
    HasuraBadResponse,
    HasuraConflict,
    HasuraError,
    HasuraUnreachable,
)
from kedge_hasura.hasura.models import HasuraInconsistentMetadata

from .conftest import Harness, qerr

WRONG_SECRET = {
    "path": "$",
    "error": "invalid x-hasura-admin-secret/x-hasura-access-key",
    "code": "access-denied",
}
MISSING_SECRET = {
    "path": "$",
    "error": "x-hasura-admin-secret/x-hasura-access-key required, but not found",
    "code": "access-denied",
}
NOT_ADMIN = {"path": "$.args", "error": "restricted access : admin only", "code": "access-denied"}
PROXY_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
    "<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def test_wrong_admin_secret_is_an_auth_error_with_the_hint(hasura: Harness) -> None:
    hasura.router.post("/v2/query").respond(401, json=WRONG_SECRET)
    with pytest.raises(HasuraAuthError) as caught:
        hasura.client.run_sql("SELECT 1")
    error = caught.value
    assert (error.status, error.code, error.path) == (401, "access-denied", "$")
    assert error.message == "Hasura refused run_sql: invalid x-hasura-admin-secret/x-hasura-access-key"
    assert error.hint == "admin secret missing or wrong; set HASURA_GRAPHQL_ADMIN_SECRET or --admin-secret"


def test_missing_admin_secret_sends_no_header_and_is_an_auth_error(hasura: Harness) -> None:
    route = hasura.router.post("/v1/metadata").respond(401, json=MISSING_SECRET)
    with hasura.client_with(admin_secret=None) as client, pytest.raises(HasuraAuthError) as caught:
        client.get_catalog_state()
    assert "x-hasura-admin-secret" not in route.calls.last.request.headers
    assert caught.value.error == MISSING_SECRET["error"]
    assert caught.value.hint is not None and "HASURA_GRAPHQL_ADMIN_SECRET" in caught.value.hint


def test_non_admin_role_is_a_400_auth_error(hasura: Harness) -> None:
    hasura.router.post("/v1/metadata").respond(400, json=NOT_ADMIN)
    with pytest.raises(HasuraAuthError) as caught:
        hasura.client.export_metadata()
    assert (caught.value.status, caught.value.path) == (400, "$.args")
    assert "not made as admin" in caught.value.message


def test_resource_version_conflict_is_a_conflict(hasura: Harness) -> None:
    error = "metadata resource version referenced (2) did not match current version"
    hasura.router.post("/v1/metadata").respond(409, json={"path": "$", "error": error, "code": "conflict"})
    with pytest.raises(HasuraConflict) as caught:
        hasura.client.replace_metadata({"version": 3, "sources": []}, resource_version=2)
    assert caught.value.status == 409 and caught.value.error == error
    assert caught.value.hint is not None and "export it again" in caught.value.hint


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, "unexpected internal error"),
        (500, "metadata cannot be modified in maintenance mode"),
        (400, "metadata cannot be modified in read-only mode"),
    ],
    ids=["internal", "maintenance-mode", "read-only-mode"],
)
def test_server_messages_pass_through(hasura: Harness, status: int, error: str) -> None:
    hasura.router.post("/v1/metadata").mock(return_value=qerr(status, "unexpected", error, path="$"))
    with pytest.raises(HasuraAPIError) as caught:
        hasura.client.reload_metadata()
    assert type(caught.value) is HasuraAPIError
    assert caught.value.message == f"Hasura rejected reload_metadata (unexpected): {error}"
    assert caught.value.status == status


def test_inconsistency_400_decodes_internal_into_typed_objects(hasura: Harness) -> None:
    internal = [
        {
            "type": "table",
            "name": "table public.article in source default",
            "reason": 'Inconsistent object: no such table/view exists in source: "public.article"',
            "definition": {"schema": "public", "name": "article"},
        }
    ]
    hasura.router.post("/v1/metadata").mock(
        return_value=qerr(
            400, "unexpected", "cannot continue due to inconsistent metadata", internal=internal
        )
    )
    with pytest.raises(HasuraInconsistentMetadata) as caught:
        hasura.client.replace_metadata({"version": 3, "sources": []})
    (obj,) = caught.value.inconsistent_objects
    assert (obj.type, obj.definition) == ("table", {"schema": "public", "name": "article"})
    assert caught.value.details["inconsistent_objects"] == [
        "table table public.article in source default: "
        'Inconsistent object: no such table/view exists in source: "public.article"'
    ]


def test_unknown_code_with_internal_keeps_it_in_details(hasura: Harness) -> None:
    hasura.router.post("/v1/metadata").mock(
        return_value=qerr(400, "brand-new-code", "something", internal={"x": 1})
    )
    with pytest.raises(HasuraAPIError) as caught:
        hasura.client.get_inconsistent_metadata()
    assert (caught.value.code, caught.value.internal, caught.value.details["internal"]) == (
        "brand-new-code",
        {"x": 1},
        {"x": 1},
    )


def test_html_from_a_proxy_quotes_status_and_first_line(hasura: Harness) -> None:
    hasura.router.post("/v2/query").respond(502, text=PROXY_502, headers={"content-type": "text/html"})
    with pytest.raises(HasuraBadResponse) as caught:
        hasura.client.run_sql("SELECT 1")
    error = caught.value
    assert error.status == 502
    assert error.message == (
        "run_sql got HTTP 502 Bad Gateway with a body that is not Hasura's JSON (text/html): "
        '"<html>" (title "502 Bad Gateway")'
    )
    assert error.hint is not None and error.hint.startswith("a proxy or load balancer answered")


def test_request_too_large_names_the_proxy_limit(hasura: Harness) -> None:
    hasura.router.post("/v2/query").respond(
        413, text="<html><head><title>413 Request Entity Too Large</title>"
    )
    with pytest.raises(HasuraBadResponse) as caught:
        hasura.client.run_sql("SELECT 1")
    assert "request too large" in caught.value.message
    assert caught.value.hint is not None and "client_max_body_size" in caught.value.hint


@pytest.mark.parametrize(
    ("status", "content", "expected"),
    [
        (200, b"", "run_sql with HTTP 200 and an empty body"),
        (503, b"", "run_sql got HTTP 503 Service Unavailable with an empty body"),
        (200, b'{"result_type": "CommandOk", ', "with invalid JSON"),
        (200, b"\xff\xfe not utf-8", "with invalid JSON"),
        (
            400,
            b'{"message": "not Hasura"}',
            'is not Hasura\'s JSON (no content type): "{"message": "not Hasura"}"',
        ),
        (400, b'{"error": "e", "code": "c", "path": 7}', "is not Hasura's JSON"),
    ],
    ids=["empty-200", "empty-503", "truncated-json", "not-utf8", "foreign-json-error", "odd-error-json"],
)
def test_bodies_that_are_not_hasura_answers(
    hasura: Harness, status: int, content: bytes, expected: str
) -> None:
    hasura.router.post("/v2/query").respond(status, content=content)
    with pytest.raises(HasuraBadResponse) as caught:
        hasura.client.run_sql("SELECT 1")
    assert expected in caught.value.message
    assert caught.value.status == status


def test_a_redirect_is_not_followed(hasura: Harness) -> None:
    hasura.router.post("/v2/query").respond(301, headers={"location": "https://hasura.test/v2/query"})
    with pytest.raises(HasuraBadResponse, match=r"redirected \(HTTP 301\) to https://hasura.test/v2/query"):
        hasura.client.run_sql("SELECT 1")


def test_404_from_hasura_points_at_the_endpoint(hasura: Harness) -> None:
    hasura.router.post("/v2/query").mock(
        return_value=qerr(404, "not-found", "resource does not exist", path="$")
    )
    with pytest.raises(HasuraAPIError) as caught:
        hasura.client.run_sql("SELECT 1")
    assert caught.value.hint is not None and "api_paths" in caught.value.hint


# -- transport failures and retries ----------------------------------------------------------------


def test_connect_error_is_retried_then_succeeds(hasura: Harness) -> None:
    route = hasura.router.post("/v2/query").mock(
        side_effect=[
            httpx.ConnectError("[Errno 111] Connection refused"),
            httpx.Response(200, json={"result_type": "CommandOk", "result": None}),
        ]
    )
    hasura.client.run_sql("CREATE TABLE t (id int)")
    assert route.call_count == 2
    assert hasura.log[0].startswith("POST /v2/query no answer ")
    assert hasura.log[1].startswith("POST /v2/query 200 ")


@pytest.mark.parametrize(
    ("exception", "expected"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "refused the connection"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "cannot resolve the host"),
        (httpx.ConnectTimeout("timed out"), "could not connect to Hasura at http://hasura.test:8080 in time"),
        (httpx.PoolTimeout("pool"), "no free connection"),
    ],
    ids=["refused", "dns", "connect-timeout", "pool-timeout"],
)
def test_failures_before_sending_are_retried_and_say_nothing_was_sent(
    hasura: Harness, exception: Exception, expected: str
) -> None:
    route = hasura.router.post("/v2/query").mock(side_effect=exception)
    with pytest.raises(HasuraUnreachable) as caught:
        hasura.client.run_sql("SELECT 1")
    assert route.call_count == 3  # the first try and connect_retries=2
    assert expected in caught.value.message and "(the request was not sent)" in caught.value.message
    assert caught.value.may_have_reached_server is False
    assert caught.value.details["may_have_reached_server"] is False
    assert isinstance(caught.value.__cause__, type(exception))


def test_tls_verification_failure_is_not_retried_and_names_the_options(hasura: Harness) -> None:
    failure = httpx.ConnectError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"
    )
    route = hasura.router.post("/v1/metadata").mock(side_effect=failure)
    with pytest.raises(HasuraUnreachable) as caught:
        hasura.client.get_catalog_state()
    assert route.call_count == 1
    assert caught.value.message.startswith("the TLS handshake with http://hasura.test:8080 failed")
    assert caught.value.hint is not None
    assert (
        "--certificate-authority" in caught.value.hint and "--insecure-skip-tls-verify" in caught.value.hint
    )


@pytest.mark.parametrize(
    ("exception", "expected"),
    [
        (httpx.ReadTimeout("timed out"), "Hasura did not answer run_sql within 60 s"),
        (httpx.ReadError("[Errno 104] Connection reset by peer"), "Connection reset by peer"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), "Server disconnected"),
        (httpx.WriteTimeout("timed out"), "the connection to Hasura broke during run_sql"),
        (httpx.WriteError("[Errno 32] Broken pipe"), "Broken pipe"),
    ],
    ids=["read-timeout", "reset", "closed", "write-timeout", "broken-pipe"],
)
def test_run_sql_is_never_resent_once_it_may_have_reached_the_server(
    hasura: Harness, exception: Exception, expected: str
) -> None:
    route = hasura.router.post("/v2/query").mock(side_effect=exception)
    with pytest.raises(HasuraUnreachable) as caught:
        hasura.client.run_sql("INSERT INTO t VALUES (1)")
    assert route.call_count == 1
    assert expected in caught.value.message
    assert "may have been applied" in caught.value.message
    assert caught.value.may_have_reached_server is True
    assert caught.value.hint is not None and "before retrying" in caught.value.hint


def test_no_retry_after_any_answer(hasura: Harness) -> None:
    route = hasura.router.post("/v2/query").mock(return_value=qerr(500, "unexpected", "boom", path="$"))
    with pytest.raises(HasuraAPIError):
        hasura.client.run_sql("SELECT 1")
    assert route.call_count == 1


def test_unsupported_scheme_is_not_sent_nor_retried(hasura: Harness) -> None:
    failure = httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'.")
    route = hasura.router.post("/v2/query").mock(side_effect=failure)
    with pytest.raises(HasuraUnreachable) as caught:
        hasura.client.run_sql("SELECT 1")
    assert route.call_count == 1
    assert caught.value.may_have_reached_server is False


def test_unreadable_certificate_authority_is_reported(hasura: Harness) -> None:
    with pytest.raises(HasuraError, match="cannot use the certificate authority file"):
        hasura.client_with(verify="/nonexistent/ca.pem")


def test_certificate_authority_file_is_loaded(hasura: Harness) -> None:
    path = ssl.get_default_verify_paths().cafile
    if path is None:
        pytest.skip("no system CA bundle file to load")
    with hasura.client_with(verify=path):
        pass
