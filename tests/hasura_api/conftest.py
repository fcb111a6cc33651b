"""Contract tests of HasuraClient against respx: exact requests, decoded answers, mapped errors.

The `hasura` fixture gives a respx router (every route must be called) and a client whose
transport is that router, with a distinctive admin secret and a captured `-v` log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx

from kedge_hasura.hasura import HasuraClient

BASE_URL = "http://hasura.test:8080"
SECRET = "respx-admin-secret-7d1f0c9b"


@dataclass
class Harness:
    router: respx.MockRouter
    log: list[str] = field(default_factory=list)
    client: HasuraClient = field(init=False)

    def client_with(self, **options: Any) -> HasuraClient:
        """Another client on the same router (different secret, paths, retries, ...)."""
        settings: dict[str, Any] = {
            "base_url": BASE_URL,
            "admin_secret": SECRET,
            "transport": httpx.MockTransport(self.router.handler),
            "log": self.log.append,
            "retry_backoff": 0.0,
        }
        settings.update(options)
        return HasuraClient(**settings)


@pytest.fixture
def hasura() -> Iterator[Harness]:
    with respx.mock(base_url=BASE_URL, assert_all_called=True, assert_all_mocked=True) as router:
        harness = Harness(router=router)
        harness.client = harness.client_with()
        with harness.client:
            yield harness


def qerr(status: int, code: str, error: str, *, path: str = "$.args", internal: Any = None) -> httpx.Response:
    """Hasura's error JSON (contract §1.4) as a response."""
    body: dict[str, Any] = {"path": path, "error": error, "code": code}
    if internal is not None:
        body["internal"] = internal
    return httpx.Response(status, json=body)


def sent_json(route: respx.Route, call: int = -1) -> Any:
    """The JSON body of a call to `route` (the last one by default)."""
    return json.loads(route.calls[call].request.content)


def assert_api_request(route: respx.Route, *, secret: str | None = SECRET) -> None:
    """POST with JSON content type and the admin secret header (contract §1.2)."""
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/json"
    if secret is None:
        assert "x-hasura-admin-secret" not in request.headers
    else:
        assert request.headers["x-hasura-admin-secret"] == secret


def pg_error_internal(
    sql: str, message: str, sqlstate: str, *, hint: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """`internal` of a postgres-error as RunSQL.hs shapes it (contract §2.6)."""
    return {
        "statement": sql,
        "prepared": False,
        "arguments": [],
        "error": {
            "exec_status": "FatalError",
            "message": message,
            "status_code": sqlstate,
            "hint": hint,
            "description": description,
        },
    }
