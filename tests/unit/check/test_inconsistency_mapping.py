"""Each inconsistent object Hasura reports (contract §7.5) maps back to the local file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from kedge_hasura.actions.check.codes import FindingSink
from kedge_hasura.actions.check.online import check_server_consistency
from kedge_hasura.hasura import HasuraClient
from kedge_hasura.project.metadata_model import load_metadata_model

BASE = Path(__file__).resolve().parents[2] / "fixtures" / "check" / "_base" / "metadata"
TABLES = "databases/default/tables"
POSTS = {"source": "default", "table": {"schema": "app", "name": "posts"}}


def _inconsistent(*objects: dict[str, Any]) -> HasuraClient:
    def answer(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["type"] == "get_inconsistent_metadata"
        return httpx.Response(200, json={"is_consistent": False, "inconsistent_objects": list(objects)})

    return HasuraClient(base_url="http://hasura.test", transport=httpx.MockTransport(answer))


@pytest.mark.parametrize(
    ("item", "where"),
    [
        (
            {"type": "table", "name": "table app.posts in source default", "reason": "Inconsistent object: x",
             "definition": {"schema": "app", "name": "posts"}},
            f"{TABLES}/app_posts.yaml:1",
        ),
        (
            {"type": "table", "name": "table app.users in source default", "reason": "Inconsistent object: x",
             "definition": {"table": {"schema": "app", "name": "users"}, "is_enum": False}},
            f"{TABLES}/app_users.yaml:1",
        ),
        (
            {"type": "table", "name": "table app.comments in source default",
             "reason": "Inconsistent object: x"},
            f"{TABLES}/app_comments.yaml:1",
        ),
        (
            {"type": "object_relation", "name": "object_relation author in table app.posts in source default",
             "reason": "Inconsistent object: x",
             "definition": {**POSTS, "name": "author", "using": {"foreign_key_constraint_on": "author_id"}}},
            f"{TABLES}/app_posts.yaml:5",
        ),
        (
            {"type": "array_relation", "name": "array_relation comments in table app.posts in source default",
             "reason": "Inconsistent object: x", "definition": {"name": "comments"}},
            f"{TABLES}/app_posts.yaml:12",
        ),
        (
            {"type": "insert_permission", "name": "insert_permission user in table app.posts",
             "reason": "Inconsistent object: x", "definition": {**POSTS, "role": "user"}},
            f"{TABLES}/app_posts.yaml:61",
        ),
        (
            {"type": "computed_field", "name": "computed_field excerpt in table app.posts in source default",
             "reason": "Inconsistent object: x",
             "definition": {**POSTS, "name": "excerpt"}},
            f"{TABLES}/app_posts.yaml:21",
        ),
        (
            {"type": "function", "name": "function app.search_posts in source default",
             "reason": "Inconsistent object: x", "definition": {"schema": "app", "name": "search_posts"}},
            "databases/default/functions/app_search_posts.yaml:1",
        ),
        (
            {"type": "source", "name": "source default", "reason": "Inconsistent object: connection error",
             "definition": {"name": "default", "kind": "postgres"}},
            "databases/databases.yaml:1",
        ),
    ],
    ids=["table", "table-entry", "table-by-name-text", "object-relation", "relation-by-name-text",
         "permission", "computed-field", "function", "source"],
)  # fmt: skip
def test_an_inconsistent_object_points_at_its_definition(item: dict[str, Any], where: str) -> None:
    project = load_metadata_model(BASE)
    sink = FindingSink(project)
    with _inconsistent(item) as client:
        check_server_consistency(client, project, sink)
    (finding,) = sink.findings
    assert (finding.code, f"{finding.path}:{finding.line}") == ("inconsistent-metadata", f"{BASE}/{where}")
    assert item["reason"] in finding.message


def test_an_object_the_project_does_not_have_points_at_the_metadata_folder() -> None:
    project = load_metadata_model(BASE)
    sink = FindingSink(project)
    item = {"type": "remote_schema", "name": "remote_schema countries", "reason": "Inconsistent object: x",
            "definition": {"name": "countries"}}  # fmt: skip
    with _inconsistent(item) as client:
        check_server_consistency(client, project, sink)
    assert [(f.path, f.line) for f in sink.findings] == [(BASE, None)]
