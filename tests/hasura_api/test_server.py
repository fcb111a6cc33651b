"""GET /v1/version (parsing, order, gates) and GET /healthz (plain text)."""

from __future__ import annotations

import pytest

from kedge_hasura.errors import HasuraBadResponse
from kedge_hasura.hasura import HealthStatus, ServerVersion

from .conftest import Harness

PROXY_502 = "<html><head><title>502 Bad Gateway</title></head></html>"


@pytest.mark.parametrize(
    ("text", "parts", "is_release"),
    [
        ("v2.36.0", (2, 36, 0), True),
        ("2.36.0", (2, 36, 0), True),
        ("v2.48.5-ce", (2, 48, 5), True),
        ("v2.48.5-ee", (2, 48, 5), True),
        ("v2.40.0-cloud.1", (2, 40, 0), True),
        ("v2.40.0-pro", (2, 40, 0), True),
        ("v2.0.0-beta.3", (2, 0, 0), False),
        ("v2.0.0-alpha.10", (2, 0, 0), False),
        ("v2.45.3-rc.1", (2, 45, 3), False),
        ("v2.45.3+build.7", (2, 45, 3), True),
        (" v2.1.0 \n", (2, 1, 0), True),
    ],
)
def test_version_parsing(text: str, parts: tuple[int, int, int], is_release: bool) -> None:
    version = ServerVersion.parse(text)
    assert (version.major, version.minor, version.patch) == parts
    assert version.is_release is is_release
    assert str(version) == text.strip()


@pytest.mark.parametrize("text", ["", "v2", "v2.x.0", "dev-1a2b3c4", "12345abcde", "v2.1.0 beta"])
def test_unparseable_versions(text: str) -> None:
    with pytest.raises(ValueError, match="not a Hasura server version"):
        ServerVersion.parse(text)


def test_version_order() -> None:
    ordered = [
        "v1.3.3",
        "v2.0.0-alpha.1",
        "v2.0.0-beta.3",
        "v2.0.0",
        "v2.9.0",
        "v2.10.0",
        "v2.45.2",
        "v2.45.3",
    ]
    versions = [ServerVersion.parse(text) for text in ordered]
    assert sorted(reversed(versions)) == versions
    assert ServerVersion.parse("v2.48.5-ce") == ServerVersion.parse("v2.48.5")  # an edition, same release


@pytest.mark.parametrize(
    ("text", "no_transaction", "track_tables"),
    [
        ("v2.25.9", False, False),
        ("v2.26.0", False, True),
        ("v2.44.0", False, True),  # accepted the flag but ignored it (#10707)
        ("v2.45.3-beta.1", False, True),
        ("v2.45.3", True, True),
        ("v2.48.5-cloud", True, True),
    ],
)
def test_feature_gates(text: str, no_transaction: bool, track_tables: bool) -> None:
    version = ServerVersion.parse(text)
    assert (version.supports_no_transaction, version.supports_pg_track_tables) == (
        no_transaction,
        track_tables,
    )


def test_version_endpoint_tolerates_unknown_fields(hasura: Harness) -> None:
    route = hasura.router.get("/v1/version").respond(
        200, json={"version": "v2.48.5-ce", "server_type": "ce", "x": 1}
    )
    info = hasura.client.version()
    assert info.version == "v2.48.5-ce" and info.parsed == ServerVersion(2, 48, 5)
    assert hasura.client.supports_no_transaction() and hasura.client.supports_pg_track_tables()
    assert route.call_count == 1


def test_development_build_has_no_parsed_version(hasura: Harness) -> None:
    hasura.router.get("/v1/version").respond(200, json={"version": "8d2b5f1"})
    assert hasura.client.server_version() is None
    assert not hasura.client.supports_pg_track_tables()


def test_version_endpoint_behind_a_broken_proxy(hasura: Harness) -> None:
    hasura.router.get("/v1/version").respond(502, text=PROXY_502, headers={"content-type": "text/html"})
    with pytest.raises(HasuraBadResponse, match="HTTP 502"):
        hasura.client.version()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, "OK", HealthStatus.OK),
        (200, "WARN: inconsistent objects in schema", HealthStatus.WARN),
        (500, "ERROR: inconsistent objects in schema", HealthStatus.ERROR),
        (500, "ERROR", HealthStatus.ERROR),
    ],
    ids=["ok", "warn", "error-inconsistent", "error"],
)
def test_healthz_plain_text(hasura: Harness, status: int, body: str, expected: HealthStatus) -> None:
    route = hasura.router.get("/healthz").respond(status, text=body)
    report = hasura.client.healthz()
    assert (report.status, report.message, report.http_status) == (expected, body, status)
    assert report.is_healthy is (expected is HealthStatus.OK)
    assert "x-hasura-admin-secret" not in route.calls.last.request.headers


def test_healthz_strict_asks_with_the_query_parameter(hasura: Harness) -> None:
    route = hasura.router.get("/healthz", params={"strict": "true"}).respond(
        500, text="ERROR: inconsistent objects in schema"
    )
    assert hasura.client.healthz(strict=True).status is HealthStatus.ERROR
    assert route.calls.last.request.url.query == b"strict=true"
    assert hasura.log[-1].startswith("GET /healthz 500 ")


@pytest.mark.parametrize(
    ("status", "body"), [(502, PROXY_502), (200, "<html>hello</html>")], ids=["proxy-502", "not-hasura"]
)
def test_healthz_answers_that_are_not_hasura(hasura: Harness, status: int, body: str) -> None:
    hasura.router.get("/healthz").respond(status, text=body, headers={"content-type": "text/html"})
    with pytest.raises(HasuraBadResponse):
        hasura.client.healthz()
