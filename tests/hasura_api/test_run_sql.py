"""run_sql and bulk on /v2/query: exact requests, typed results, Postgres errors, version gates."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kedge_hasura.errors import HasuraAPIError, HasuraBadResponse, HasuraPostgresError, HasuraUnsupported
from kedge_hasura.hasura import ResultType, RunSQLArgs

from .conftest import Harness, assert_api_request, pg_error_internal, qerr, sent_json

COMMAND_OK = {"result_type": "CommandOk", "result": None}


def test_run_sql_sends_what_the_cli_sends_for_a_migration(hasura: Harness) -> None:
    route = hasura.router.post("/v2/query").respond(200, json=COMMAND_OK)
    hasura.client.run_sql("CREATE TABLE author (id serial PRIMARY KEY);")
    assert_api_request(route)
    assert sent_json(route) == {
        "type": "run_sql",
        "args": {
            "source": "default",
            "sql": "CREATE TABLE author (id serial PRIMARY KEY);",
            "cascade": False,
            "check_metadata_consistency": False,
        },
    }


@pytest.mark.parametrize(
    ("options", "expected_args"),
    [
        ({"read_only": True}, {"read_only": True, "check_metadata_consistency": False}),
        ({"check_metadata_consistency": None}, {}),
        (
            {"check_metadata_consistency": True, "cascade": True},
            {"check_metadata_consistency": True, "cascade": True},
        ),
        ({"source": "analytics"}, {"source": "analytics", "check_metadata_consistency": False}),
        ({"no_transaction": False}, {"check_metadata_consistency": False}),
    ],
    ids=[
        "read-only",
        "heuristic-left-to-server",
        "checked-cascade",
        "other-source",
        "no-transaction-false-omitted",
    ],
)
def test_run_sql_optional_arguments(
    hasura: Harness, options: dict[str, Any], expected_args: dict[str, object]
) -> None:
    route = hasura.router.post("/v2/query").respond(200, json=COMMAND_OK)
    hasura.client.run_sql("SELECT 1", **options)
    expected = {"source": "default", "sql": "SELECT 1", "cascade": False, **expected_args}
    assert sent_json(route)["args"] == expected


def test_command_ok_has_no_rows(hasura: Harness) -> None:
    hasura.router.post("/v2/query").respond(200, json=COMMAND_OK)
    result = hasura.client.run_sql("CREATE TABLE t (id int)")
    assert result.result_type is ResultType.COMMAND_OK
    assert (result.columns, result.rows, result.as_dicts()) == ([], [], [])


def test_tuples_ok_rows_are_text_with_null(hasura: Harness) -> None:
    body = {
        "result_type": "TuplesOk",
        "result": [["id", "name", "active"], ["1", "Ann", "t"], ["2", None, "f"]],
    }
    hasura.router.post("/v2/query").respond(200, json=body)
    result = hasura.client.run_sql("SELECT id, name, active FROM author")
    assert result.columns == ["id", "name", "active"]
    assert result.rows == [["1", "Ann", "t"], ["2", None, "f"]]
    assert result.as_dicts()[1] == {"id": "2", "name": None, "active": "f"}


def test_unknown_result_type_is_a_bad_response(hasura: Harness) -> None:
    hasura.router.post("/v2/query").respond(200, json={"result_type": "Surprise", "result": 3})
    with pytest.raises(HasuraBadResponse, match="unexpected shape"):
        hasura.client.run_sql("SELECT 1")


def test_postgres_error_with_internal_gives_sqlstate_message_and_statement(hasura: Harness) -> None:
    sql = "CREATE TABLE author (id int);\nALTER TABLE author ADD COLUMN name text;"
    internal = pg_error_internal(
        sql,
        'column "name" of relation "author" already exists',
        "42701",
        hint="drop it first",
        description="d",
    )
    hasura.router.post("/v2/query").mock(
        return_value=qerr(400, "postgres-error", "query execution failed", internal=internal)
    )
    with pytest.raises(HasuraPostgresError) as caught:
        hasura.client.run_sql(sql)
    error = caught.value
    assert (error.status, error.code, error.path) == (400, "postgres-error", "$.args")
    assert (error.sqlstate, error.pg_hint, error.pg_detail) == ("42701", "drop it first", "d")
    assert error.pg_message == 'column "name" of relation "author" already exists'
    assert error.statement == sql  # the whole text, as the server sends it
    assert (
        error.message
        == 'Hasura rejected run_sql (postgres-error 42701): column "name" of relation "author" already exists'
    )
    assert error.details["sqlstate"] == "42701" and error.hint == "drop it first"


def test_postgres_error_without_internal_still_names_the_code(hasura: Harness) -> None:
    hasura.router.post("/v2/query").mock(return_value=qerr(400, "postgres-error", "query execution failed"))
    with pytest.raises(HasuraPostgresError) as caught:
        hasura.client.run_sql("SELECT nosuch")
    error = caught.value
    assert (error.sqlstate, error.pg_message, error.statement, error.internal) == (None, None, None, None)
    assert error.message == "Hasura rejected run_sql (postgres-error): query execution failed"
    assert error.hint is not None and "HASURA_GRAPHQL_ADMIN_INTERNAL_ERRORS" in error.hint


def test_postgres_error_with_an_odd_internal_is_still_a_postgres_error(hasura: Harness) -> None:
    hasura.router.post("/v2/query").mock(
        return_value=qerr(400, "postgres-error", "query execution failed", internal={"statement": 3})
    )
    with pytest.raises(HasuraPostgresError) as caught:
        hasura.client.run_sql("SELECT 1")
    assert caught.value.sqlstate is None


def test_bulk_sends_one_run_sql_per_item_and_returns_each_result(hasura: Harness) -> None:
    route = hasura.router.post("/v2/query").respond(
        200, json=[COMMAND_OK, {"result_type": "TuplesOk", "result": [["n"], ["1"]]}]
    )
    results = hasura.client.bulk(
        [RunSQLArgs(sql="CREATE TABLE a (id int);"), RunSQLArgs(sql="SELECT 1 AS n", read_only=True)]
    )
    common = {"source": "default", "cascade": False, "check_metadata_consistency": False}
    assert sent_json(route) == {
        "type": "bulk",
        "args": [
            {"type": "run_sql", "args": {**common, "sql": "CREATE TABLE a (id int);"}},
            {"type": "run_sql", "args": {**common, "sql": "SELECT 1 AS n", "read_only": True}},
        ],
    }
    assert [r.result_type for r in results] == [ResultType.COMMAND_OK, ResultType.TUPLES_OK]
    assert results[1].as_dicts() == [{"n": "1"}]


def test_bulk_failure_names_the_failing_item(hasura: Harness) -> None:
    internal = pg_error_internal("CREATE TABLE a (id int);", 'relation "a" already exists', "42P07")
    hasura.router.post("/v2/query").mock(
        return_value=qerr(
            400, "postgres-error", "query execution failed", path="$.args[2].args", internal=internal
        )
    )
    items = [RunSQLArgs(sql=f"SELECT {n}") for n in range(3)] + [RunSQLArgs(sql="SELECT 4")]
    with pytest.raises(HasuraPostgresError) as caught:
        hasura.client.bulk(items)
    assert caught.value.item_index == 2
    assert caught.value.message.startswith("Hasura rejected bulk item 3 of 4 (postgres-error 42P07)")
    assert caught.value.details["item_index"] == 2


def test_bulk_error_with_a_bare_item_path(hasura: Harness) -> None:
    hasura.router.post("/v2/query").mock(return_value=qerr(400, "not-supported", "nope", path="$.args[0]"))
    with pytest.raises(HasuraAPIError) as caught:
        hasura.client.bulk([RunSQLArgs(sql="SELECT 1")])
    assert caught.value.item_index == 0
    assert caught.value.message == "Hasura rejected bulk item 1 of 1 (not-supported): nope"


def test_empty_bulk_sends_nothing(hasura: Harness) -> None:
    assert hasura.client.bulk([]) == []


def test_bulk_with_the_wrong_number_of_results_is_a_bad_response(hasura: Harness) -> None:
    hasura.router.post("/v2/query").respond(200, json=[COMMAND_OK])
    with pytest.raises(HasuraBadResponse):
        hasura.client.bulk([RunSQLArgs(sql="SELECT 1"), RunSQLArgs(sql="SELECT 2")])


@pytest.mark.parametrize("server", ["v2.45.3", "v2.48.5-ce", "v2.46.0-cloud.1", "v3.0.0"])
def test_no_transaction_is_sent_to_servers_that_support_it(hasura: Harness, server: str) -> None:
    version = hasura.router.get("/v1/version").respond(200, json={"version": server})
    route = hasura.router.post("/v2/query").respond(200, json=COMMAND_OK)
    hasura.client.run_sql("CREATE INDEX CONCURRENTLY i ON t (x)", no_transaction=True)
    hasura.client.run_sql("VACUUM t", no_transaction=True)
    assert sent_json(route)["args"]["no_transaction"] is True
    assert version.call_count == 1  # asked once, remembered
    assert "x-hasura-admin-secret" not in version.calls.last.request.headers


@pytest.mark.parametrize("server", ["v2.44.0", "v2.45.2", "v2.45.3-beta.1", "v1.3.3", "dev-1a2b3c4"])
def test_no_transaction_on_older_or_unknown_servers_fails_before_sending(
    hasura: Harness, server: str
) -> None:
    hasura.router.get("/v1/version").respond(200, json={"version": server})
    with pytest.raises(HasuraUnsupported) as caught:
        hasura.client.run_sql("CREATE INDEX CONCURRENTLY i ON t (x)", no_transaction=True)
    assert caught.value.required == "v2.45.3"
    assert caught.value.server_version == server
    assert "nothing was sent" in caught.value.message


def test_no_transaction_in_a_bulk_item_is_gated_too(hasura: Harness) -> None:
    hasura.router.get("/v1/version").respond(200, json={"version": "v2.40.0"})
    with pytest.raises(HasuraUnsupported):
        hasura.client.bulk([RunSQLArgs(sql="SELECT 1"), RunSQLArgs(sql="VACUUM", no_transaction=True)])


def test_api_paths_from_config_yaml_are_used(hasura: Harness) -> None:
    route = hasura.router.post("/custom/query").respond(200, json=COMMAND_OK)
    with hasura.client_with(api_paths={"v2_query": "/custom/query/"}) as client:
        client.run_sql("SELECT 1")
    assert route.called


def test_endpoint_with_a_path_prefix(hasura: Harness) -> None:
    route = hasura.router.post("/hasura/v2/query").respond(200, json=COMMAND_OK)
    with hasura.client_with(base_url="http://hasura.test:8080/hasura/") as client:
        client.run_sql("SELECT 1")
    assert route.calls.last.request.url == httpx.URL("http://hasura.test:8080/hasura/v2/query")
