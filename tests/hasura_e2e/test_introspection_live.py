"""`impact`'s GraphQL model checked against a real Hasura's introspection, role by role.

The live test (marked `hasura_live`, skipped unless KEDGE_TEST_HASURA_URL names a server) applies
a project to the server, asks `/v1/graphql` for the introspection of `admin` and of every role the
metadata names (admin secret plus `x-hasura-role`), and compares each answer with the schema
`impact` derives offline from the same project (introspection.py says what is compared).

Throwaway-server rules (conftest.py): each project is a copy whose schema is renamed to a fresh
`kedge_e2e_<random>`, so nothing on the server is touched; its tables and functions are added to
the server's `default` source, and the metadata as it was is put back, then the schema dropped.
It is not deployed with `kedge-hasura deploy`, which would leave catalog state and a ledger behind.
The server must run without experimental features, as the projects' config.yaml files declare none.

The `pg` twin runs everywhere: the same copies, derived and compared with their own introspection
through the same filter, so the live test's preparation is proven before a server is ever named.
"""

from __future__ import annotations

import copy
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query, introspection_from_schema

from kedge_hasura.actions.impact.sides import load_side, replay_side
from kedge_hasura.graphql.surface import Surface
from kedge_hasura.hasura import HasuraClient
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.project.layout import open_project
from kedge_hasura.project.metadata import load_metadata
from kedge_hasura.project.migrations import Migration

from .conftest import Target
from .introspection import compare_with_introspection

REPO = Path(__file__).resolve().parents[2]
# project folder, the schema its migrations and metadata use
CASES = {
    "shipped": (REPO / "hasura", "kedge_practice"),
    "check_base": (REPO / "tests" / "fixtures" / "check" / "_base", "app"),
}


class Renamed:
    """A copy of a case's project with its schema renamed, and what `impact` derives from it."""

    def __init__(self, case: str, root: Path, cluster: ScratchCluster):
        source, old = CASES[case]
        self.schema = f"kedge_e2e_{secrets.token_hex(4)}"
        # The squash archive (squashed_*/) is left behind: its MANIFEST pins the old text, and
        # nothing replays it (the squashed migration stands for it).
        shutil.copytree(source, root, ignore=shutil.ignore_patterns("squashed_*"))
        word = re.compile(rf"\b{old}\b")  # `app.posts`, `schema: app`; not `app_posts.yaml`
        for path in [*root.rglob("*.sql"), *root.rglob("*.yaml")]:
            path.write_text(word.sub(self.schema, path.read_text()))
        project = open_project(root)
        side = load_side(case, project, "default")
        self.surface: Surface = replay_side(side, cluster, "default")
        self.migrations: tuple[Migration, ...] = side.migrations
        self.metadata: dict[str, Any] = load_metadata(project.metadata_dir).value

    def source(self) -> dict[str, Any]:
        return next(s for s in self.metadata["sources"] if s["name"] == "default")

    def keep(self, name: str) -> bool:
        """Whether a root field comes from this project: every table and tracked function field
        carries the schema's random name (`<schema>_<table>`, `<schema>_<function>`)."""
        return self.schema in name


@pytest.fixture(params=sorted(CASES))
def renamed(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Renamed]:
    """Built on demand, so the live test can skip before a scratch PostgreSQL is started."""
    return lambda: Renamed(request.param, tmp_path / "hasura", request.getfixturevalue("pg_cluster"))


@pytest.mark.pg
def test_the_derived_schemas_survive_the_round_trip_and_the_filter_covers_them(
    renamed: Callable[[], Renamed],
) -> None:
    project = renamed()
    assert set(project.surface.roles) > {"admin"}
    assert project.surface.notes == []  # nothing of these projects is left out of the model
    for role, derived in project.surface.roles.items():
        schema = derived.schema
        roots = [t for t in (schema.query_type, schema.mutation_type, schema.subscription_type) if t]
        names = [name for root in roots for name in root.fields]
        assert [n for n in names if not project.keep(n)] == [], role  # the filter hides none of ours
        assert compare_with_introspection(schema, introspection_from_schema(schema), keep=project.keep) == []


@pytest.fixture
def live() -> Target:
    url = os.environ.get("KEDGE_TEST_HASURA_URL")
    if not url:
        pytest.skip("KEDGE_TEST_HASURA_URL is not set (the opt-in live Hasura suite)")
    return Target("live", url, os.environ.get("KEDGE_TEST_HASURA_ADMIN_SECRET") or None)


@pytest.mark.hasura_live
def test_each_roles_derived_schema_matches_the_live_servers_introspection(
    live: Target, renamed: Callable[[], Renamed]
) -> None:
    project = renamed()
    found: dict[str, list[str]] = {}
    with live.client() as hasura, _applied(hasura, project):
        for role, derived in project.surface.roles.items():
            server = _introspect(live, role)
            differences = compare_with_introspection(derived.schema, server, keep=project.keep)
            if differences:
                found[role] = differences
    report = "\n\n".join(f"== role {role}\n" + "\n".join(d) for role, d in found.items())
    assert not found, f"the model differs from Hasura's introspection (schema {project.schema}):\n{report}"


@contextmanager
def _applied(hasura: HasuraClient, project: Renamed) -> Iterator[None]:
    """The project's migrations run and its tables and functions tracked; everything put back after."""
    original = hasura.export_metadata().metadata
    try:
        for migration in project.migrations:
            if migration.up is not None:
                hasura.run_sql(migration.up.text, check_metadata_consistency=False)
        metadata = copy.deepcopy(original)
        default = next(s for s in metadata["sources"] if s["name"] == "default")
        for key in ("tables", "functions"):
            default[key] = [*(default.get(key) or []), *(project.source().get(key) or [])]
        metadata["inherited_roles"] = [
            *(metadata.get("inherited_roles") or []),
            *(project.metadata.get("inherited_roles") or []),
        ]
        result = hasura.replace_metadata(metadata, allow_inconsistent=True)
        assert result.is_consistent, f"the project's metadata is inconsistent on the server: {result}"
        yield
    finally:
        hasura.replace_metadata(original, allow_inconsistent=True)  # before the schema goes
        hasura.run_sql(f"DROP SCHEMA IF EXISTS {project.schema} CASCADE;")


def _introspect(live: Target, role: str) -> dict[str, Any]:
    """The standard introspection query's `data`, as `role` sees the schema."""
    headers = {"x-hasura-role": role}
    if live.admin_secret:
        headers["x-hasura-admin-secret"] = live.admin_secret
    response = httpx.post(
        f"{live.url.rstrip('/')}/v1/graphql",
        json={"query": get_introspection_query()},
        headers=headers,
        timeout=60.0,
    )
    response.raise_for_status()
    body = response.json()
    assert not body.get("errors"), f"introspection as {role} failed: {body['errors']}"
    data: dict[str, Any] = body["data"]
    return data
