"""/v1/metadata calls: exact envelopes and decoded answers, including 200-with-inconsistency (§7)."""

from __future__ import annotations

from typing import Any

import pytest

from kedge_hasura.errors import HasuraAPIError, HasuraBadResponse
from kedge_hasura.hasura import SOURCE_TABLES_SQL, QualifiedTable

from .conftest import Harness, assert_api_request, qerr, sent_json

METADATA: dict[str, Any] = {"version": 3, "sources": [{"name": "default", "kind": "postgres", "tables": []}]}
MISSING_TABLE = {
    "definition": {"schema": "public", "name": "article"},
    "name": "table public.article in source default",
    "reason": 'Inconsistent object: no such table/view exists in source: "public.article"',
    "type": "table",
}


def test_export_metadata_v2_returns_resource_version_and_metadata(hasura: Harness) -> None:
    route = hasura.router.post("/v1/metadata").respond(
        200, json={"resource_version": 12, "metadata": METADATA}
    )
    exported = hasura.client.export_metadata()
    assert_api_request(route)
    assert sent_json(route) == {"type": "export_metadata", "version": 2, "args": {}}
    assert (exported.resource_version, exported.metadata) == (12, METADATA)


def test_export_metadata_v1_returns_the_bare_object(hasura: Harness) -> None:
    route = hasura.router.post("/v1/metadata").respond(200, json=METADATA)
    assert hasura.client.export_metadata_v1() == METADATA
    assert sent_json(route) == {"type": "export_metadata", "args": {}}


def test_export_metadata_v1_rejects_a_non_object(hasura: Harness) -> None:
    hasura.router.post("/v1/metadata").respond(200, json=[1])
    with pytest.raises(HasuraBadResponse):
        hasura.client.export_metadata_v1()


def test_replace_metadata_envelope(hasura: Harness) -> None:
    route = hasura.router.post("/v1/metadata").respond(
        200, json={"is_consistent": True, "inconsistent_objects": []}
    )
    result = hasura.client.replace_metadata(METADATA, allow_inconsistent=True, resource_version=7)
    assert sent_json(route) == {
        "type": "replace_metadata",
        "version": 2,
        "resource_version": 7,
        "args": {"allow_inconsistent_metadata": True, "metadata": METADATA},
    }
    assert result.is_consistent is True


def test_replace_metadata_sends_allow_warnings_only_when_false(hasura: Harness) -> None:
    route = hasura.router.post("/v1/metadata").respond(200, json={"is_consistent": True})
    hasura.client.replace_metadata(METADATA, allow_warnings=False)
    assert sent_json(route) == {
        "type": "replace_metadata",
        "version": 2,
        "args": {"allow_inconsistent_metadata": False, "metadata": METADATA, "allow_warnings": False},
    }


def test_replace_metadata_200_with_inconsistency_and_warnings(hasura: Harness) -> None:
    warning = {
        "message": "bad name",
        "type": "event_trigger",
        "name": "x",
        "code": "illegal-event-trigger-name",
    }
    hasura.router.post("/v1/metadata").respond(
        200,
        json={
            "is_consistent": False,
            "inconsistent_objects": [MISSING_TABLE],
            "warnings": [warning],
            "new": 1,
        },
    )
    result = hasura.client.replace_metadata(METADATA, allow_inconsistent=True)
    assert result.is_consistent is False
    (obj,) = result.inconsistent_objects
    assert (obj.type, obj.definition) == ("table", {"schema": "public", "name": "article"})
    assert result.warnings[0].code == "illegal-event-trigger-name"
    assert result.model_extra == {"new": 1}  # unknown keys are kept


def test_reload_metadata_sends_every_option(hasura: Harness) -> None:
    route = hasura.router.post("/v1/metadata").respond(
        200, json={"message": "success", "is_consistent": True}
    )
    result = hasura.client.reload_metadata(reload_sources=["default"])
    assert sent_json(route) == {
        "type": "reload_metadata",
        "args": {
            "reload_remote_schemas": True,
            "reload_sources": ["default"],
            "recreate_event_triggers": False,
            "reload_data_connectors": True,
        },
    }
    assert (result.is_consistent, result.inconsistent_objects) == (True, [])


def test_reload_metadata_200_with_inconsistency(hasura: Harness) -> None:
    remote = {
        "type": "remote_schema",
        "name": "remote_schema my_remote",
        "reason": "Inconsistent object: down",
        "definition": {"name": "my_remote"},
    }
    hasura.router.post("/v1/metadata").respond(
        200, json={"message": "success", "is_consistent": False, "inconsistent_objects": [remote]}
    )
    result = hasura.client.reload_metadata()
    assert result.is_consistent is False and result.inconsistent_objects[0].type == "remote_schema"


def test_reload_metadata_on_an_old_server_leaves_consistency_unknown(hasura: Harness) -> None:
    hasura.router.post("/v1/metadata").respond(200, json={"message": "success"})
    result = hasura.client.reload_metadata()
    assert result.is_consistent is None and result.inconsistent_objects == []


def test_get_inconsistent_metadata(hasura: Harness) -> None:
    conflicting = {"type": "table", "reason": "Conflicting objects: x", "objects": [{}, {}]}
    route = hasura.router.post("/v1/metadata").respond(
        200, json={"is_consistent": False, "inconsistent_objects": [MISSING_TABLE, conflicting]}
    )
    report = hasura.client.get_inconsistent_metadata()
    assert sent_json(route) == {"type": "get_inconsistent_metadata", "args": {}}
    assert report.is_consistent is False
    assert report.inconsistent_objects[1].name is None
    assert report.inconsistent_objects[1].model_extra == {"objects": [{}, {}]}


def test_generic_metadata_call(hasura: Harness) -> None:
    route = hasura.router.post("/v1/metadata").respond(200, json={"message": "success"})
    assert hasura.client.metadata("drop_inconsistent_metadata", {}) == {"message": "success"}
    assert sent_json(route) == {"type": "drop_inconsistent_metadata", "args": {}}


# -- tables ----------------------------------------------------------------------------------------


def test_pg_get_source_tables(hasura: Harness) -> None:
    route = hasura.router.post("/v1/metadata").respond(
        200, json=[{"schema": "public", "name": "author"}, {"schema": "public", "name": "article"}]
    )
    tables = hasura.client.pg_get_source_tables("default")
    assert sent_json(route) == {"type": "pg_get_source_tables", "args": {"source": "default"}}
    assert [str(t) for t in tables] == ["public.author", "public.article"]


@pytest.mark.parametrize("code", ["not-supported", "parse-failed"])
def test_pg_get_source_tables_falls_back_to_a_read_only_query(hasura: Harness, code: str) -> None:
    hasura.router.post("/v1/metadata").mock(
        return_value=qerr(400, code, 'unknown metadata command "pg_get_source_tables"', path="$")
    )
    query = hasura.router.post("/v2/query").respond(
        200,
        json={"result_type": "TuplesOk", "result": [["table_schema", "table_name"], ["public", "author"]]},
    )
    assert hasura.client.pg_get_source_tables("default") == [
        QualifiedTable(schema_name="public", name="author")
    ]
    assert sent_json(query) == {
        "type": "run_sql",
        "args": {"source": "default", "sql": SOURCE_TABLES_SQL, "cascade": False, "read_only": True},
    }


def test_pg_get_source_tables_does_not_hide_other_errors(hasura: Harness) -> None:
    hasura.router.post("/v1/metadata").mock(
        return_value=qerr(400, "not-exists", 'source with name "x" does not exist')
    )
    with pytest.raises(HasuraAPIError, match="not-exists"):
        hasura.client.pg_get_source_tables("x")


def test_pg_track_table(hasura: Harness) -> None:
    route = hasura.router.post("/v1/metadata").respond(200, json={"message": "success"})
    hasura.client.pg_track_table(("public", "author"), configuration={"custom_name": "authors"})
    assert sent_json(route) == {
        "type": "pg_track_table",
        "args": {
            "table": {"schema": "public", "name": "author"},
            "source": "default",
            "configuration": {"custom_name": "authors"},
        },
    }


def test_pg_track_table_already_tracked(hasura: Harness) -> None:
    hasura.router.post("/v1/metadata").mock(
        return_value=qerr(400, "already-tracked", 'view/table already tracked: "author"')
    )
    with pytest.raises(HasuraAPIError) as caught:
        hasura.client.pg_track_table({"schema": "public", "name": "author"})
    assert caught.value.code == "already-tracked"


def test_pg_track_tables_on_new_servers(hasura: Harness) -> None:
    hasura.router.get("/v1/version").respond(200, json={"version": "v2.26.0"})
    warning = {
        "type": "table",
        "name": "table public.b in source default",
        "code": "track-table-failed",
        "message": "no",
    }
    route = hasura.router.post("/v1/metadata").respond(
        200, json={"message": "success", "warnings": [warning]}
    )
    result = hasura.client.pg_track_tables([("public", "a"), ("public", "b")], allow_warnings=True)
    assert sent_json(route) == {
        "type": "pg_track_tables",
        "args": {
            "tables": [
                {"table": {"schema": "public", "name": "a"}, "source": "default"},
                {"table": {"schema": "public", "name": "b"}, "source": "default"},
            ],
            "allow_warnings": True,
        },
    }
    assert result.warnings[0].code == "track-table-failed"


def test_pg_track_tables_on_old_servers_is_a_metadata_bulk(hasura: Harness) -> None:
    hasura.router.get("/v1/version").respond(200, json={"version": "v2.25.1"})
    route = hasura.router.post("/v1/metadata").respond(
        200, json=[{"message": "success"}, {"message": "success"}]
    )
    result = hasura.client.pg_track_tables([("public", "a"), ("s", "b")], source="db2")
    assert sent_json(route) == {
        "type": "bulk",
        "args": [
            {"type": "pg_track_table", "args": {"table": {"schema": "public", "name": "a"}, "source": "db2"}},
            {"type": "pg_track_table", "args": {"table": {"schema": "s", "name": "b"}, "source": "db2"}},
        ],
    }
    assert result.warnings == []


def test_pg_track_tables_bulk_failure_names_the_table(hasura: Harness) -> None:
    hasura.router.get("/v1/version").respond(200, json={"version": "v2.10.0"})
    hasura.router.post("/v1/metadata").mock(
        return_value=qerr(400, "already-tracked", 'view/table already tracked: "b"', path="$.args[1].args")
    )
    with pytest.raises(HasuraAPIError) as caught:
        hasura.client.pg_track_tables([("public", "a"), ("public", "b")])
    assert caught.value.item_index == 1
    assert caught.value.message.startswith("Hasura rejected bulk item 2 of 2 (already-tracked)")


def test_pg_track_tables_with_nothing_to_track_sends_nothing(hasura: Harness) -> None:
    assert hasura.client.pg_track_tables([]).warnings == []
