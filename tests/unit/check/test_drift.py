"""The semantic metadata diff behind `check --online`'s drift report."""

from __future__ import annotations

import copy
from typing import Any

from kedge_hasura.actions.check.drift import DriftItem, diff_metadata

LOCAL: dict[str, Any] = {
    "version": 3,
    "sources": [
        {
            "name": "default",
            "kind": "postgres",
            "tables": [
                {
                    "table": {"schema": "app", "name": "users"},
                    "configuration": {"custom_root_fields": {}, "column_config": {}},
                    "array_relationships": [
                        {"name": "posts", "using": {"foreign_key_constraint_on": {
                            "column": "author_id", "table": {"schema": "app", "name": "posts"},
                        }}},
                    ],
                    "select_permissions": [
                        {"role": "user", "permission": {
                            "columns": ["id", "name"], "filter": {"id": {"_eq": "X-Hasura-User-Id"}},
                        }},
                        {"role": "editor", "permission": {"columns": "*", "filter": {}}},
                    ],
                },
                {"table": {"schema": "app", "name": "posts"}},
            ],
        }
    ],
    "remote_schemas": [],
}  # fmt: skip


def test_order_and_empty_defaults_do_not_count() -> None:
    server = copy.deepcopy(LOCAL)
    source = server["sources"][0]
    source["tables"].reverse()
    users = source["tables"][1]
    users["select_permissions"].reverse()
    users["select_permissions"][1]["permission"]["columns"] = ["name", "id"]
    del users["configuration"]
    del server["remote_schemas"]
    assert diff_metadata(LOCAL, server) == []


def test_a_changed_permission_is_reported_on_the_permission_with_the_changed_field() -> None:
    server = copy.deepcopy(LOCAL)
    server["sources"][0]["tables"][0]["select_permissions"][0]["permission"]["columns"] = ["id"]
    assert diff_metadata(LOCAL, server) == [
        DriftItem(
            "changed",
            "select permission 'user' of table app.users of database 'default'",
            ("sources", 0, "tables", 0, "select_permissions", 0),
            ("permission",),
        )
    ]


def test_objects_on_one_side_only_are_added_or_removed() -> None:
    server = copy.deepcopy(LOCAL)
    tables = server["sources"][0]["tables"]
    del tables[1]  # app.posts is only local
    tables.append({"table": {"schema": "app", "name": "tags"}})  # only on the server
    tables[0]["array_relationships"] = []  # the relationship is only local
    tables[0]["object_relationships"] = [
        {"name": "profile", "using": {"foreign_key_constraint_on": "profile_id"}}
    ]
    assert diff_metadata(LOCAL, server) == [
        DriftItem(
            "added",
            "array relationship 'posts' of table app.users of database 'default'",
            ("sources", 0, "tables", 0, "array_relationships", 0),
        ),
        DriftItem(
            "removed",
            "object relationship 'profile' of table app.users of database 'default'",
            ("sources", 0, "tables", 0, "object_relationships"),
        ),
        DriftItem("added", "table app.posts of database 'default'", ("sources", 0, "tables", 1)),
        DriftItem("removed", "table app.tags of database 'default'", ("sources", 0, "tables")),
    ]


def test_a_bare_table_name_is_the_same_table_as_public() -> None:
    local = {"sources": [{"name": "default", "tables": [{"table": "authors"}]}]}
    server = {
        "sources": [{"name": "default", "tables": [{"table": {"schema": "public", "name": "authors"}}]}]
    }
    assert [item.change for item in diff_metadata(local, server)] == ["changed"]  # the spelling differs
    assert diff_metadata(local, copy.deepcopy(local)) == []


def test_top_level_sections_are_compared_too() -> None:
    local = {
        "version": 3,
        "api_limits": {"disabled": False, "rate_limit": {"global": {"max_reqs_per_min": 10}}},
    }
    server = {
        "version": 3,
        "api_limits": {"disabled": True, "rate_limit": {"global": {"max_reqs_per_min": 10}}},
    }
    assert diff_metadata(local, server) == [
        DriftItem("changed", "api_limits", ("api_limits",), ("disabled",))
    ]
    assert diff_metadata({"version": 3}, {"version": 3, "network": {"tls_allowlist": [{"host": "x"}]}}) == [
        DriftItem("removed", "network", ("network",))
    ]


def test_list_order_counts_inside_payloads() -> None:
    local = {"cron_triggers": [{"name": "nightly", "payload": {"steps": [1, 2]}}]}
    server = {"cron_triggers": [{"name": "nightly", "payload": {"steps": [2, 1]}}]}
    assert diff_metadata(local, server) == [
        DriftItem("changed", "cron trigger 'nightly'", ("cron_triggers", 0), ("payload",))
    ]
