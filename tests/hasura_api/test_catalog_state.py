"""Catalog state: get/set envelopes, and the read-modify-write that keeps what it does not own (§4.2/4.3)."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from kedge_hasura.errors import HasuraBadResponse
from kedge_hasura.hasura import CliState

from .conftest import Harness, assert_api_request, sent_json

STATE: dict[str, Any] = {
    "id": "3f1c0a2e-5d7b-4c4a-9d2e-6b8f7e1a2c3d",
    "cli_state": {
        "isStateCopyCompleted": True,
        "migrations": {
            "default": {"1616826329751": False, "1616826400012": False},
            "analytics": {"1620000000000": False},
        },
        "settings": {"migration_mode": "true", "future_setting": "x"},
        "someFutureKey": {"nested": [1, 2]},
    },
    "console_state": {"console_notifications": {}, "telemetryNotificationShown": True},
}


def test_get_catalog_state(hasura: Harness) -> None:
    route = hasura.router.post("/v1/metadata").respond(200, json=STATE)
    state = hasura.client.get_catalog_state()
    assert_api_request(route)
    assert sent_json(route) == {"type": "get_catalog_state", "args": {}}
    assert state.id == STATE["id"] and state.cli_state == STATE["cli_state"]


def test_fresh_server_state_may_be_empty_or_null(hasura: Harness) -> None:
    hasura.router.post("/v1/metadata").respond(200, json={"id": "u", "cli_state": None, "console_state": {}})
    assert hasura.client.get_catalog_state().cli_state == {}


def test_set_catalog_state_replaces_the_whole_value(hasura: Harness) -> None:
    route = hasura.router.post("/v1/metadata").respond(200, json={"message": "success"})
    hasura.client.set_catalog_state({"migrations": {}}, type="cli")
    assert sent_json(route) == {
        "type": "set_catalog_state",
        "args": {"type": "cli", "state": {"migrations": {}}},
    }


def test_update_cli_state_keeps_every_key_it_does_not_own(hasura: Harness) -> None:
    route = hasura.router.post("/v1/metadata")
    route.side_effect = [httpx.Response(200, json=STATE), httpx.Response(200, json={"message": "success"})]
    original = copy.deepcopy(STATE)

    def record(state: CliState) -> None:
        state.set_version("default", 1616826500000)
        state.remove_version("default", 1616826329751)

    hasura.client.update_cli_state(record)
    assert sent_json(route, 0) == {"type": "get_catalog_state", "args": {}}
    written = sent_json(route, 1)
    assert written["type"] == "set_catalog_state" and written["args"]["type"] == "cli"
    expected = copy.deepcopy(original["cli_state"])
    expected["migrations"]["default"] = {"1616826400012": False, "1616826500000": False}
    assert written["args"]["state"] == expected
    assert original == STATE  # the answer was not edited in place


def test_update_cli_state_on_a_fresh_server_writes_default_settings(hasura: Harness) -> None:
    route = hasura.router.post("/v1/metadata")
    route.side_effect = [
        httpx.Response(200, json={"id": "u", "cli_state": {}, "console_state": {}}),
        httpx.Response(200, json={"message": "success"}),
    ]
    hasura.client.update_cli_state(lambda state: state.set_version("default", 1, dirty=True))
    assert sent_json(route, 1)["args"]["state"] == {
        "settings": {"migration_mode": "true"},
        "migrations": {"default": {"1": True}},
    }


def test_existing_migration_mode_is_kept() -> None:
    state = CliState({"settings": {"migration_mode": "false"}})
    state.ensure_default_settings()
    assert state.migration_mode == "false"


@pytest.mark.parametrize(
    ("cli_state", "expected"),
    [
        ({}, {}),
        ({"migrations": {}}, {}),
        ({"migrations": {"default": {}}}, {}),
        ({"migrations": {"default": None}}, {}),
        ({"migrations": {"other": {"5": False}}}, {}),
        ({"migrations": {"default": {"1616826329751": False, "2": True}}}, {1616826329751: False, 2: True}),
    ],
    ids=["empty", "no-databases", "empty-database", "null-database", "other-database-only", "versions"],
)
def test_versions_of_a_database(cli_state: dict[str, Any], expected: dict[int, bool]) -> None:
    assert CliState(cli_state).versions("default") == expected


@pytest.mark.parametrize(
    "cli_state",
    [
        {"migrations": {"default": {"1": "false"}}},
        {"migrations": {"default": {"01x": False}}},
        {"migrations": {"default": {"": False}}},
        {"migrations": {"default": ["1"]}},
        {"migrations": ["default"]},
    ],
    ids=["dirty-not-bool", "key-not-decimal", "empty-key", "database-not-object", "migrations-not-object"],
)
def test_malformed_state_is_reported_not_guessed(cli_state: dict[str, Any]) -> None:
    with pytest.raises(HasuraBadResponse, match="malformed"):
        CliState(cli_state).versions("default")


def test_version_keys_are_unpadded_decimal_strings() -> None:
    state = CliState()
    state.set_version("default", 42)
    state.set_version("default", 2**64 - 1)
    assert state.data == {"migrations": {"default": {"42": False, "18446744073709551615": False}}}
    with pytest.raises(ValueError, match="unsigned 64-bit"):
        state.set_version("default", -1)


def test_removing_the_last_version_leaves_an_empty_database() -> None:
    state = CliState({"migrations": {"default": {"1": False}}})
    state.remove_version("default", 1)
    state.remove_version("missing", 1)
    assert state.data == {"migrations": {"default": {}}}
    assert state.databases() == ["default"]


def test_state_copy_flag() -> None:
    state = CliState({"isStateCopyCompleted": False})
    assert not state.is_state_copy_completed
    state.mark_state_copy_completed()
    assert state.is_state_copy_completed and state.data["isStateCopyCompleted"] is True
