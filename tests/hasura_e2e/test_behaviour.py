"""The behaviour kedge-hasura relies on, written once, checked on the double and on a live Hasura.

Every assertion goes through HasuraClient over HTTP, so the same test judges both targets: when
the live run disagrees with the double, the double (or the contract) is wrong.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from kedge_hasura.errors import (
    HasuraAPIError,
    HasuraAuthError,
    HasuraConflict,
    HasuraPostgresError,
)
from kedge_hasura.hasura import HasuraClient, HealthStatus, ResultType, RunSQLArgs
from kedge_hasura.hasura.models import HasuraInconsistentMetadata

from .conftest import Target, exists

# -- run_sql ----------------------------------------------------------------------------------------


def test_ddl_answers_command_ok(hasura: HasuraClient, schema: str) -> None:
    result = hasura.run_sql(f"CREATE TABLE {schema}.author (id serial PRIMARY KEY, name text);")
    assert result.result_type is ResultType.COMMAND_OK and result.result is None


def test_rows_come_back_as_text_with_a_header_from_the_last_statement(hasura: HasuraClient) -> None:
    result = hasura.run_sql(
        "SELECT 1 AS ignored;\n"
        "SELECT 42 AS answer, true AS yes, NULL::text AS nothing, 'héllo' AS word, 1.50::numeric AS price"
    )
    assert result.result_type is ResultType.TUPLES_OK
    assert result.columns == ["answer", "yes", "nothing", "word", "price"]
    assert result.rows == [["42", "t", None, "héllo", "1.50"]]


def test_a_query_without_rows_still_has_its_header(hasura: HasuraClient) -> None:
    result = hasura.run_sql("SELECT 1 AS one WHERE false", read_only=True)
    assert (result.columns, result.rows) == (["one"], [])


def test_postgres_error_shape(hasura: HasuraClient, schema: str) -> None:
    sql = f"CREATE TABLE {schema}.author (id int, name text);\nALTER TABLE {schema}.author ADD name text;"
    with pytest.raises(HasuraPostgresError) as caught:
        hasura.run_sql(sql)
    error = caught.value
    assert (error.status, error.code, error.error, error.path) == (
        400,
        "postgres-error",
        "query execution failed",
        "$.args",
    )
    assert error.sqlstate == "42701"
    assert error.pg_message == 'column "name" of relation "author" already exists'
    assert error.statement == sql  # the whole string sent, not the failing statement (§2.6)


def test_the_whole_string_is_one_transaction(hasura: HasuraClient, schema: str) -> None:
    with pytest.raises(HasuraPostgresError) as caught:
        hasura.run_sql(f"CREATE TABLE {schema}.kept (id int);\nCREATE TABLE {schema}.kept (id int);")
    assert caught.value.sqlstate == "42P07"
    assert not exists(hasura, f"{schema}.kept")  # rolled back with the failing statement


def test_read_only_rejects_writes(hasura: HasuraClient, schema: str) -> None:
    with pytest.raises(HasuraPostgresError) as caught:
        hasura.run_sql(f"CREATE TABLE {schema}.nope (id int)", read_only=True)
    assert caught.value.sqlstate == "25006"


def test_create_index_concurrently_fails_inside_the_transaction(hasura: HasuraClient, schema: str) -> None:
    hasura.run_sql(f"CREATE TABLE {schema}.t (x int);")
    with pytest.raises(HasuraPostgresError) as caught:
        hasura.run_sql(f"CREATE INDEX CONCURRENTLY t_x ON {schema}.t (x);")
    assert caught.value.sqlstate == "25001"
    assert caught.value.pg_message == "CREATE INDEX CONCURRENTLY cannot run inside a transaction block"


def test_no_transaction_runs_concurrent_index_builds(hasura: HasuraClient, schema: str) -> None:
    if not hasura.supports_no_transaction():
        pytest.skip(f"Hasura {hasura.version().version} has no no_transaction")
    hasura.run_sql(f"CREATE TABLE {schema}.t (x int);")
    hasura.run_sql(
        f"CREATE INDEX CONCURRENTLY t_x ON {schema}.t (x);\nVACUUM {schema}.t;", no_transaction=True
    )
    assert exists(hasura, f"{schema}.t_x")


def test_bulk_partial_failure_keeps_earlier_items_and_names_the_failing_one(
    hasura: HasuraClient, schema: str
) -> None:
    items = [
        RunSQLArgs(sql=f"CREATE TABLE {schema}.first (id int);"),
        RunSQLArgs(sql=f"CREATE TABLE {schema}.first (id int);"),
        RunSQLArgs(sql=f"CREATE TABLE {schema}.never (id int);"),
    ]
    with pytest.raises(HasuraPostgresError) as caught:
        hasura.bulk(items)
    assert caught.value.item_index == 1
    assert caught.value.path.startswith("$.args[1]")
    assert exists(hasura, f"{schema}.first")  # not atomic: item 0 stays committed (§3.1)
    assert not exists(hasura, f"{schema}.never")


def test_bulk_returns_one_result_per_item(hasura: HasuraClient) -> None:
    results = hasura.bulk(
        [RunSQLArgs(sql="SELECT 1 AS a", read_only=True), RunSQLArgs(sql="SELECT 2 AS b", read_only=True)]
    )
    assert [r.as_dicts() for r in results] == [[{"a": "1"}], [{"b": "2"}]]


# -- catalog state ----------------------------------------------------------------------------------


@pytest.fixture
def cli_state_restored(hasura: HasuraClient) -> Iterator[None]:
    original = hasura.get_catalog_state().cli_state
    yield
    hasura.set_catalog_state(original)


@pytest.mark.usefixtures("cli_state_restored")
def test_set_catalog_state_replaces_the_whole_value(hasura: HasuraClient) -> None:
    hasura.set_catalog_state({"migrations": {"default": {"1": False}}, "someKey": [1]})
    hasura.set_catalog_state({"settings": {"migration_mode": "true"}})
    assert hasura.get_catalog_state().cli_state == {"settings": {"migration_mode": "true"}}


@pytest.mark.usefixtures("cli_state_restored")
def test_update_cli_state_keeps_other_databases_and_unknown_keys(hasura: HasuraClient) -> None:
    before = {
        "isStateCopyCompleted": True,
        "migrations": {"analytics": {"1620000000000": False}, "default": {}},
        "settings": {"migration_mode": "true"},
        "kedgeUnknown": {"x": 1},
    }
    hasura.set_catalog_state(before)
    hasura.update_cli_state(lambda state: state.set_version("default", 1616826329751))
    after = hasura.get_catalog_state()
    expected = copy.deepcopy(before)
    expected["migrations"]["default"] = {"1616826329751": False}
    assert after.cli_state == expected
    assert after.id  # the metadata database's hasura_uuid


# -- metadata and inconsistency ---------------------------------------------------------------------


@pytest.fixture
def metadata_restored(hasura: HasuraClient, schema: str) -> Iterator[dict[str, Any]]:
    """The metadata as it was; put back before `schema` is dropped."""
    original = hasura.export_metadata().metadata
    yield original
    hasura.replace_metadata(original, allow_inconsistent=True)


@pytest.fixture
def tables(hasura: HasuraClient, schema: str) -> str:
    hasura.run_sql(
        f"CREATE TABLE {schema}.author (id int PRIMARY KEY, name text);\n"
        f"CREATE TABLE {schema}.article (id int PRIMARY KEY, author_id int REFERENCES {schema}.author);\n"
        f"CREATE TABLE {schema}.note (id int PRIMARY KEY, author_id int);"
    )
    return schema


def _with_tables(metadata: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    result = copy.deepcopy(metadata)
    source = next(s for s in result["sources"] if s["name"] == "default")
    source.setdefault("tables", []).extend(entries)
    return result


def _consistent_entries(schema: str) -> list[dict[str, Any]]:
    author, article = {"schema": schema, "name": "author"}, {"schema": schema, "name": "article"}
    return [
        {
            "table": author,
            "array_relationships": [
                {
                    "name": "articles",
                    "using": {"foreign_key_constraint_on": {"table": article, "column": "author_id"}},
                }
            ],
            "select_permissions": [{"role": "user", "permission": {"columns": ["id", "name"], "filter": {}}}],
        },
        {
            "table": article,
            "object_relationships": [{"name": "author", "using": {"foreign_key_constraint_on": "author_id"}}],
        },
    ]


def _broken_entries(schema: str) -> list[dict[str, Any]]:
    entries = _consistent_entries(schema)
    entries[0]["select_permissions"][0]["permission"]["columns"] = ["id", "nosuch"]
    entries[0]["insert_permissions"] = [{"role": "admin", "permission": {"check": {}, "columns": ["name"]}}]
    entries[1]["object_relationships"].append(
        {"name": "writer", "using": {"foreign_key_constraint_on": "writer_id"}}
    )
    entries.append(
        {
            "table": {"schema": schema, "name": "note"},
            "object_relationships": [{"name": "author", "using": {"foreign_key_constraint_on": "author_id"}}],
        }
    )
    entries.append({"table": {"schema": schema, "name": "ghost"}})
    return entries


def _kinds(objects: list[Any], schema: str) -> set[tuple[str, str]]:
    """(type, what) for the objects in our schema: keyed on type + definition (§11)."""
    found = set()
    for obj in objects:
        definition = obj.definition if isinstance(obj.definition, dict) else {}
        table = definition.get("table", definition)
        if not isinstance(table, dict) or table.get("schema") != schema:
            continue
        label = definition.get("name") if "table" in definition else table.get("name")
        found.add((obj.type, f"{table.get('name')}.{definition.get('role', label)}"))
    return found


EXPECTED_PROBLEMS = {
    ("table", "ghost.ghost"),  # a tracked table that does not exist
    ("object_relation", "article.writer"),  # a relationship on a missing column
    ("object_relation", "note.author"),  # a relationship without a foreign key
    ("select_permission", "author.user"),  # a permission naming a missing column
    ("insert_permission", "author.admin"),  # a permission for the admin role
}


@pytest.mark.usefixtures("tables")
def test_consistent_metadata_is_reported_consistent(
    hasura: HasuraClient, schema: str, metadata_restored: dict[str, Any]
) -> None:
    result = hasura.replace_metadata(_with_tables(metadata_restored, _consistent_entries(schema)))
    assert _kinds(result.inconsistent_objects, schema) == set()
    assert _kinds(hasura.get_inconsistent_metadata().inconsistent_objects, schema) == set()


@pytest.mark.usefixtures("tables")
def test_each_kind_of_inconsistency_is_reported(
    hasura: HasuraClient, schema: str, metadata_restored: dict[str, Any]
) -> None:
    result = hasura.replace_metadata(
        _with_tables(metadata_restored, _broken_entries(schema)), allow_inconsistent=True
    )
    assert result.is_consistent is False
    assert _kinds(result.inconsistent_objects, schema) == EXPECTED_PROBLEMS
    report = hasura.get_inconsistent_metadata()
    assert report.is_consistent is False and _kinds(report.inconsistent_objects, schema) == EXPECTED_PROBLEMS
    reloaded = hasura.reload_metadata()
    assert reloaded.is_consistent in (False, None)  # None: a server from before #8129
    ghost = next(
        o for o in report.inconsistent_objects if o.type == "table" and o.definition.get("name") == "ghost"
    )
    assert ghost.reason is not None and ghost.reason.startswith("Inconsistent object: ")


@pytest.mark.usefixtures("tables")
def test_disallowed_inconsistency_is_refused_and_changes_nothing(
    hasura: HasuraClient, schema: str, metadata_restored: dict[str, Any]
) -> None:
    before = hasura.export_metadata()
    with pytest.raises(HasuraInconsistentMetadata) as caught:
        hasura.replace_metadata(_with_tables(metadata_restored, _broken_entries(schema)))
    assert caught.value.status == 400
    assert _kinds(list(caught.value.inconsistent_objects), schema) == EXPECTED_PROBLEMS
    after = hasura.export_metadata()
    assert (after.metadata, after.resource_version) == (before.metadata, before.resource_version)


@pytest.mark.usefixtures("tables")
def test_healthz_warns_on_inconsistency_and_strict_makes_it_an_error(
    hasura: HasuraClient, schema: str, metadata_restored: dict[str, Any]
) -> None:
    hasura.replace_metadata(
        _with_tables(metadata_restored, [{"table": {"schema": schema, "name": "ghost"}}]),
        allow_inconsistent=True,
    )
    assert hasura.healthz().status is HealthStatus.WARN
    strict = hasura.healthz(strict=True)
    assert (strict.status, strict.http_status) == (HealthStatus.ERROR, 500)


def test_both_export_forms_agree(hasura: HasuraClient) -> None:
    v2 = hasura.export_metadata()
    assert hasura.export_metadata_v1() == v2.metadata
    assert v2.metadata["version"] == 3 and any(s["name"] == "default" for s in v2.metadata["sources"])


@pytest.mark.usefixtures("metadata_restored")
def test_stale_resource_version_is_a_conflict(hasura: HasuraClient) -> None:
    exported = hasura.export_metadata()
    hasura.replace_metadata(exported.metadata, resource_version=exported.resource_version)
    with pytest.raises(HasuraConflict) as caught:
        hasura.replace_metadata(exported.metadata, resource_version=exported.resource_version)
    assert (caught.value.status, caught.value.code) == (409, "conflict")


@pytest.mark.usefixtures("tables", "metadata_restored")
def test_source_tables_and_tracking(hasura: HasuraClient, schema: str) -> None:
    listed = {t.name for t in hasura.pg_get_source_tables("default") if t.schema_name == schema}
    assert listed == {"author", "article", "note"}
    hasura.pg_track_table((schema, "author"))
    hasura.pg_track_tables([(schema, "article"), (schema, "note")])
    tracked = {
        entry["table"]["name"]
        for source in hasura.export_metadata().metadata["sources"]
        for entry in source.get("tables", [])
        if isinstance(entry.get("table"), dict) and entry["table"].get("schema") == schema
    }
    assert tracked == {"author", "article", "note"}
    with pytest.raises(HasuraAPIError) as caught:
        hasura.pg_track_table((schema, "author"))
    assert (caught.value.status, caught.value.code) == (400, "already-tracked")


# -- authentication, version, health ----------------------------------------------------------------


def test_wrong_admin_secret_is_a_401(target: Target) -> None:
    if target.admin_secret is None:
        pytest.skip("the target has no admin secret")
    with (
        target.client(admin_secret=f"wrong-{secrets.token_hex(4)}") as client,
        pytest.raises(HasuraAuthError) as caught,
    ):
        client.run_sql("SELECT 1")
    assert (caught.value.status, caught.value.path, caught.value.code) == (401, "$", "access-denied")
    assert caught.value.error == "invalid x-hasura-admin-secret/x-hasura-access-key"


def test_missing_admin_secret_is_a_401(target: Target) -> None:
    if target.admin_secret is None:
        pytest.skip("the target has no admin secret")
    with target.client(admin_secret=None) as client, pytest.raises(HasuraAuthError) as caught:
        client.get_catalog_state()
    assert caught.value.status == 401
    assert caught.value.error == "x-hasura-admin-secret/x-hasura-access-key required, but not found"


def test_version_parses_and_healthz_answers(hasura: HasuraClient) -> None:
    parsed = hasura.server_version()
    assert parsed is not None and parsed.major == 2
    assert hasura.healthz().status in (HealthStatus.OK, HealthStatus.WARN)
