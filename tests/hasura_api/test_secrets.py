"""The admin secret never appears in anything a failing call produces: message, hint, details,
str/repr, the cause chain, the rendered error, the -v log lines, the client's repr.

Some answers below echo the secret on purpose (a proxy page that dumps request headers, a
server message quoting it): the client must mask it, not trust the server not to send it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import httpx
import pytest

from kedge_hasura.errors import HasuraError
from kedge_hasura.hasura import HasuraClient, RunSQLArgs
from kedge_hasura.render.output import Output

from .conftest import SECRET, Harness, pg_error_internal, qerr

FAILURES: dict[str, object] = {
    "401-wrong-secret": httpx.Response(
        401,
        json={
            "path": "$",
            "error": "invalid x-hasura-admin-secret/x-hasura-access-key",
            "code": "access-denied",
        },
    ),
    "401-server-echoes-secret": httpx.Response(
        401, json={"path": "$", "error": f"invalid secret {SECRET}", "code": "access-denied"}
    ),
    "postgres-error-echoing-secret": qerr(
        400,
        "postgres-error",
        "query execution failed",
        internal=pg_error_internal(f"SELECT '{SECRET}'", f"bad value {SECRET}", "22P02", hint=SECRET),
    ),
    "proxy-page-dumping-headers": httpx.Response(
        502,
        text=f"X-Hasura-Admin-Secret: {SECRET}\n<html>bad gateway</html>",
        headers={"content-type": "text/html"},
    ),
    "invalid-json-echo": httpx.Response(200, text=f"{{oops {SECRET}"),
    "inconsistency": qerr(
        400,
        "unexpected",
        "cannot continue due to inconsistent metadata",
        internal=[{"type": "table", "reason": SECRET}],
    ),
    "connect-error": httpx.ConnectError("[Errno 111] Connection refused"),
    "read-timeout": httpx.ReadTimeout("timed out"),
    "reset": httpx.ReadError("[Errno 104] Connection reset by peer"),
}


def _everything_visible(error: HasuraError, client: HasuraClient, log: list[str]) -> str:
    rendered = io.StringIO()
    Output(stdout=io.StringIO(), stderr=rendered, verbosity=2).error(
        "test", error
    )  # no secrets given to mask
    parts = [
        str(error),
        repr(error),
        error.message,
        error.hint or "",
        json.dumps(error.details, default=str),
        repr(error.__cause__),
        str(error.__cause__),
        repr(vars(error)),
        rendered.getvalue(),
        repr(client),
        *log,
    ]
    return "\n".join(parts)


@pytest.mark.parametrize("failure", list(FAILURES.values()), ids=list(FAILURES))
def test_no_failure_reveals_the_admin_secret(hasura: Harness, failure: object) -> None:
    if isinstance(failure, Exception):
        hasura.router.post("/v2/query").mock(side_effect=failure)
    else:
        hasura.router.post("/v2/query").mock(return_value=failure)
    with pytest.raises(HasuraError) as caught:
        hasura.client.bulk([RunSQLArgs(sql="SELECT 1")])
    visible = _everything_visible(caught.value, hasura.client, hasura.log)
    assert hasura.log, "the call should have been logged"
    assert SECRET not in visible


def test_a_secret_inside_a_transport_message_is_masked_in_ours(hasura: Harness) -> None:
    # httpx never puts header values in its messages; should one carry the secret anyway (a
    # proxy's CONNECT answer, say), our message and details still mask it.
    hasura.router.post("/v2/query").mock(side_effect=httpx.ReadError(f"reset by proxy that said {SECRET}"))
    with pytest.raises(HasuraError) as caught:
        hasura.client.run_sql("SELECT 1")
    ours = caught.value.message + json.dumps(caught.value.details) + (caught.value.hint or "")
    assert SECRET not in ours and "***" in caught.value.message


def test_the_secret_is_sent_only_in_its_header(hasura: Harness) -> None:
    route = hasura.router.post("/v2/query").respond(200, json={"result_type": "CommandOk", "result": None})
    hasura.client.run_sql("SELECT 1")
    request = route.calls.last.request
    assert request.headers["x-hasura-admin-secret"] == SECRET
    assert SECRET not in str(request.url) and SECRET.encode() not in request.content


def test_log_lines_hold_only_method_path_status_and_time(hasura: Harness) -> None:
    hasura.router.post("/v2/query").respond(200, json={"result_type": "CommandOk", "result": None})
    hasura.client.run_sql("SELECT 'a very recognisable statement'")
    (line,) = hasura.log
    method, path, status, elapsed = line.split(" ")
    assert (method, path, status) == ("POST", "/v2/query", "200")
    assert elapsed.endswith("s") and float(elapsed[:-1]) >= 0


def test_client_repr_hides_the_secret() -> None:
    with HasuraClient(base_url="http://user:pw@hasura.test", admin_secret=SECRET) as client:
        assert repr(client) == "HasuraClient(base_url='http://user:***@hasura.test')"


CALLS: dict[str, tuple[str, object, Callable[[HasuraClient], object]]] = {
    "run_sql": ("/v2/query", {"result_type": "CommandOk", "result": None}, lambda c: c.run_sql("SELECT 1")),
    "bulk": (
        "/v2/query",
        [{"result_type": "CommandOk", "result": None}],
        lambda c: c.bulk([RunSQLArgs(sql="SELECT 1")]),
    ),
    "export_metadata": (
        "/v1/metadata",
        {"resource_version": 1, "metadata": {}},
        lambda c: c.export_metadata(),
    ),
    "export_metadata_v1": ("/v1/metadata", {}, lambda c: c.export_metadata_v1()),
    "replace_metadata": ("/v1/metadata", {"is_consistent": True}, lambda c: c.replace_metadata({})),
    "reload_metadata": ("/v1/metadata", {"message": "success"}, lambda c: c.reload_metadata()),
    "get_inconsistent_metadata": (
        "/v1/metadata",
        {"is_consistent": True, "inconsistent_objects": []},
        lambda c: c.get_inconsistent_metadata(),
    ),
    "get_catalog_state": ("/v1/metadata", {"id": "u", "cli_state": {}}, lambda c: c.get_catalog_state()),
    "set_catalog_state": ("/v1/metadata", {"message": "success"}, lambda c: c.set_catalog_state({})),
    "pg_get_source_tables": ("/v1/metadata", [], lambda c: c.pg_get_source_tables()),
    "pg_track_table": ("/v1/metadata", {"message": "success"}, lambda c: c.pg_track_table(("public", "t"))),
    "metadata": ("/v1/metadata", {"message": "success"}, lambda c: c.metadata("clear_metadata", {})),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_every_api_call_is_a_json_post_with_the_secret_header(hasura: Harness, name: str) -> None:
    path, answer, call = CALLS[name]
    route = hasura.router.post(path).respond(200, json=answer)
    call(hasura.client)
    request = route.calls.last.request
    assert (request.method, request.headers["content-type"]) == ("POST", "application/json")
    assert request.headers["x-hasura-admin-secret"] == SECRET
    expected_type = "clear_metadata" if name == "metadata" else name.removesuffix("_v1")
    assert json.loads(request.content)["type"] == expected_type
