"""What only the double can show: injected faults, older server versions, its own life cycle.

Faults prove the client's retry rule over real HTTP: a request that reached the server is never
sent twice (the SQL ran once), a connection that never opened is retried.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from kedge_hasura.errors import (
    HasuraAPIError,
    HasuraAuthError,
    HasuraBadResponse,
    HasuraPostgresError,
    HasuraUnreachable,
    HasuraUnsupported,
)
from kedge_hasura.hasura import HasuraClient, QualifiedTable

from ..hasura_double import HasuraDouble
from .conftest import StartDouble, exists

pytestmark = pytest.mark.pg

REPO = Path(__file__).resolve().parents[2]


def _client(double: HasuraDouble, **options: Any) -> HasuraClient:
    settings: dict[str, Any] = {
        "base_url": double.url,
        "admin_secret": double.admin_secret,
        "retry_backoff": 0.0,
    }
    settings.update(options)
    return HasuraClient(**settings)


def _count(hasura: HasuraClient, table: str) -> int:
    return int(hasura.run_sql(f"SELECT count(*) FROM {table}", read_only=True).rows[0][0] or 0)


def test_run_sql_is_not_resent_after_a_read_timeout_although_it_ran(hasura_double: HasuraDouble) -> None:
    with _client(hasura_double, timeout=0.3) as hasura:
        hasura.run_sql("CREATE TABLE hits (n int);")
        hasura_double.faults.delay("run_sql", 5.0)
        with pytest.raises(HasuraUnreachable) as caught:
            hasura.run_sql("INSERT INTO hits VALUES (1);")
        assert caught.value.may_have_reached_server is True
        assert "within 0.3 s" in caught.value.message
        assert _count(hasura, "hits") == 1  # applied once: the client did not send it again


def test_reset_after_commit_reports_that_the_sql_may_have_run(hasura_double: HasuraDouble) -> None:
    with _client(hasura_double) as hasura:
        hasura_double.faults.drop_connection_after("run_sql")
        with pytest.raises(HasuraUnreachable) as caught:
            hasura.run_sql("CREATE TABLE committed_anyway (id int);")
        assert caught.value.may_have_reached_server is True
        assert exists(hasura, "public.committed_anyway")  # the server committed before the reset


def test_a_refused_connection_is_retried_then_reported_as_not_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket is closed
    log: list[str] = []
    client = HasuraClient(base_url=f"http://127.0.0.1:{port}", retry_backoff=0.0, log=log.append)
    with client, pytest.raises(HasuraUnreachable) as caught:
        client.run_sql("SELECT 1")
    assert caught.value.may_have_reached_server is False
    assert "refused the connection" in caught.value.message
    assert len(log) == 3 and all(line.startswith("POST /v2/query no answer ") for line in log)


def test_injected_proxy_failure_on_the_state_write_leaves_the_state_unchanged(
    hasura_double: HasuraDouble,
) -> None:
    with _client(hasura_double) as hasura:
        hasura.set_catalog_state({"migrations": {"default": {"1": False}}})
        hasura_double.faults.fail(
            "set_catalog_state", status=502, body="<html><title>502 Bad Gateway</title></html>"
        )
        with pytest.raises(HasuraBadResponse) as caught:
            hasura.update_cli_state(lambda state: state.set_version("default", 2))
        assert caught.value.status == 502
        assert hasura.get_catalog_state().cli_state == {"migrations": {"default": {"1": False}}}


def test_fail_counts_requests_of_one_operation(hasura_double: HasuraDouble) -> None:
    with _client(hasura_double) as hasura:
        hasura_double.faults.fail("run_sql", status=500, nth=2)
        hasura.get_catalog_state()  # another operation: not counted
        hasura.run_sql("SELECT 1")
        with pytest.raises(HasuraAPIError, match="injected failure"):
            hasura.run_sql("SELECT 2")
        hasura.run_sql("SELECT 3")  # one-shot
    assert [fault.operation for fault in hasura_double.faults.fired] == ["run_sql"]


def test_a_non_admin_role_gets_400_access_denied(hasura_double: HasuraDouble) -> None:
    response = httpx.post(
        f"{hasura_double.url}/v1/metadata",
        json={"type": "export_metadata", "args": {}},
        headers={"X-Hasura-Admin-Secret": hasura_double.admin_secret or "", "X-Hasura-Role": "user"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "path": "$.args",
        "error": "restricted access : admin only",
        "code": "access-denied",
    }


def test_client_maps_the_non_admin_answer(hasura_double: HasuraDouble) -> None:
    class AsUser(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            request.headers["X-Hasura-Role"] = "user"
            return super().handle_request(request)

    with _client(hasura_double, transport=AsUser()) as hasura, pytest.raises(HasuraAuthError) as caught:
        hasura.export_metadata()
    assert caught.value.status == 400


def test_an_older_server_ignores_no_transaction_so_the_client_refuses_first(
    start_double: StartDouble,
) -> None:
    old = start_double(version="v2.44.0")
    with _client(old) as hasura, pytest.raises(HasuraUnsupported):
        hasura.run_sql("VACUUM", no_transaction=True)
    raw = httpx.post(
        f"{old.url}/v2/query",
        json={"type": "run_sql", "args": {"sql": "VACUUM", "no_transaction": True}},
        headers={"X-Hasura-Admin-Secret": old.admin_secret or ""},
    )
    assert raw.status_code == 400 and raw.json()["internal"]["error"]["status_code"] == "25001"


def test_no_transaction_commits_each_statement_until_one_fails(hasura_double: HasuraDouble) -> None:
    with _client(hasura_double) as hasura:
        with pytest.raises(HasuraPostgresError):
            hasura.run_sql("CREATE TABLE one (id int);\nCREATE TABLE one (id int);", no_transaction=True)
        assert exists(hasura, "public.one")


def test_source_tables_fall_back_to_run_sql_on_servers_without_the_call(start_double: StartDouble) -> None:
    old = start_double(unsupported_operations=frozenset({"pg_get_source_tables"}))
    with _client(old) as hasura:
        hasura.run_sql(
            "CREATE TABLE listed (id int); CREATE TABLE parted (d int) PARTITION BY RANGE (d);"
            "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (1) TO (2);"
        )
        tables = hasura.pg_get_source_tables()
    assert QualifiedTable(schema_name="public", name="listed") in tables
    assert QualifiedTable(schema_name="public", name="parted_1") not in tables  # partitions are left out
    assert all(t.schema_name != "hdb_catalog" for t in tables)


def test_bulk_tracking_on_servers_before_pg_track_tables(start_double: StartDouble) -> None:
    old = start_double(version="v2.20.0")
    with _client(old) as hasura:
        hasura.run_sql("CREATE TABLE a (id int); CREATE TABLE b (id int);")
        hasura.pg_track_tables([("public", "a"), ("public", "b")])
        with pytest.raises(HasuraAPIError) as caught:
            hasura.pg_track_tables([("public", "nope"), ("public", "b")])
        names = [t["table"]["name"] for t in hasura.export_metadata().metadata["sources"][0]["tables"]]
    assert names == ["a", "b"]  # the failing bulk changed nothing
    assert (caught.value.item_index, caught.value.code) == (0, "not-exists")


def test_an_old_reload_answer_leaves_consistency_unknown(start_double: StartDouble) -> None:
    old = start_double(legacy_reload_response=True)
    with _client(old) as hasura:
        assert hasura.reload_metadata().is_consistent is None


def test_the_double_leaves_no_thread_behind(start_double: StartDouble) -> None:
    double = start_double()
    double.stop()
    double.stop()  # idempotent
    assert not double.is_running
    assert not [t for t in threading.enumerate() if t.name == f"hasura-double-{double.url.rsplit(':', 1)[1]}"]


@pytest.mark.skipif(bool(os.environ.get("KEDGE_TEST_PG_URL")), reason="starts its own scratch PostgreSQL")
def test_the_double_runs_on_its_own() -> None:
    argv = ["--port", "0", "--admin-secret", "standalone", "--version", "v2.30.1"]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.hasura_double", *argv],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        ready, _, _ = select.select([process.stdout], [], [], 60)  # it prints its URL once it serves
        url = process.stdout.readline().strip() if ready else ""
        assert url.startswith("http://127.0.0.1:"), f"no URL within 60 s; exit code {process.poll()}"
        with HasuraClient(base_url=url, admin_secret="standalone") as hasura:
            assert str(hasura.server_version()) == "v2.30.1"
            assert hasura.run_sql("SELECT 1 AS one").as_dicts() == [{"one": "1"}]
    finally:
        process.terminate()  # SIGTERM: the double stops and removes its scratch server
        exit_code = process.wait(timeout=30)
    assert exit_code == 0, process.stderr.read() if process.stderr else ""


def test_protocol_edges_are_shaped_like_hasura(hasura_double: HasuraDouble) -> None:
    headers = {"X-Hasura-Admin-Secret": hasura_double.admin_secret or ""}
    with httpx.Client(base_url=hasura_double.url, headers=headers) as raw:
        invalid = raw.post("/v2/query", content=b"{not json")
        untyped = raw.post("/v1/metadata", json={"args": {}})
        unknown = raw.post("/v1/metadata", json={"type": "no_such_call", "args": {}})
        missing = raw.get("/v1/nothing")
        version = httpx.get(f"{hasura_double.url}/v1/version")  # no secret needed
        health = httpx.get(f"{hasura_double.url}/hasura/healthz")
    assert (invalid.status_code, invalid.json()["code"]) == (400, "invalid-json")
    assert (untyped.status_code, untyped.json()["code"]) == (400, "parse-failed")
    assert (unknown.status_code, unknown.json()["code"]) == (400, "parse-failed")
    assert missing.status_code == 404 and missing.json()["code"] == "not-found"
    assert version.json() == {"version": "v2.48.5"}
    assert (health.status_code, health.text) == (200, "OK")


def test_replace_metadata_version_1(hasura_double: HasuraDouble) -> None:
    headers = {"X-Hasura-Admin-Secret": hasura_double.admin_secret or ""}
    ghost = {
        "version": 3,
        "sources": [{"name": "default", "kind": "postgres", "tables": [{"table": "ghost"}]}],
    }
    with httpx.Client(base_url=hasura_double.url, headers=headers) as raw:
        refused = raw.post("/v1/metadata", json={"type": "replace_metadata", "args": ghost})
        empty = {"version": 3, "sources": [{"name": "default", "kind": "postgres", "tables": []}]}
        accepted = raw.post("/v1/metadata", json={"type": "replace_metadata", "args": empty})
    assert refused.status_code == 400
    assert refused.json()["error"] == "cannot continue due to inconsistent metadata"
    assert refused.json()["internal"][0]["definition"] == "ghost"
    assert (accepted.status_code, accepted.json()) == (200, {"message": "success"})


def test_a_table_missing_before_the_sql_is_not_a_dependency_error(hasura_double: HasuraDouble) -> None:
    with _client(hasura_double) as hasura:
        ghost = {
            "name": "default",
            "kind": "postgres",
            "tables": [{"table": {"schema": "public", "name": "ghost"}}],
        }
        hasura.replace_metadata({"version": 3, "sources": [ghost]}, allow_inconsistent=True)
        hasura.run_sql("CREATE TABLE other (id int); DROP TABLE other;", check_metadata_consistency=True)
        assert hasura.get_inconsistent_metadata().inconsistent_objects[0].definition["name"] == "ghost"
