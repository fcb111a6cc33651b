"""Causes: each change names the metadata file and line, and the migration, that made it.

Projects are written to tmp (YAML and SQL files, no PostgreSQL): the surfaces come from catalogs
built in Python, the causes from the loaded metadata's line numbers and the migrations' text.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from factory import blog, catalog

from kedge_hasura.actions.impact.run import Cause, causes_of
from kedge_hasura.actions.impact.sides import Side, load_side
from kedge_hasura.graphql.changes import SurfaceChange, compare_surfaces
from kedge_hasura.graphql.surface import build_surface
from kedge_hasura.project.layout import open_project
from kedge_hasura.project.metadata import dump_yaml

Project = tuple[Any, ...]
TABLES = "metadata/databases/default/tables"


def _write(root: Path, project: Project, migrations: dict[str, str]) -> Side:
    relations, tables, rows, functions = project
    (root / TABLES).mkdir(parents=True)
    (root / "config.yaml").write_text("version: 3\n")
    (root / "metadata" / "version.yaml").write_text("version: 3\n")
    (root / "metadata" / "databases" / "databases.yaml").write_text(
        "- name: default\n  kind: postgres\n  configuration:\n    connection_info:\n      database_url:\n"
        '        from_env: DB\n  tables: "!include default/tables/tables.yaml"\n'
    )
    names = []
    for table in tables:
        name = f"{table['table']['schema']}_{table['table']['name']}.yaml"
        (root / TABLES / name).write_text(dump_yaml(table))
        names.append(f'- "!include {name}"')
    (root / TABLES / "tables.yaml").write_text("\n".join(names) + "\n")
    for folder, sql in migrations.items():
        (root / "migrations" / "default" / folder).mkdir(parents=True)
        (root / "migrations" / "default" / folder / "up.sql").write_text(sql)
    side = load_side(root.name, open_project(root), "default")
    side.surface = build_surface(
        side.metadata.metadata, catalog(*relations, enum_rows=rows, functions=tuple(functions))
    )
    return side


FIRST = {"1000_init": "CREATE TABLE public.authors (id int);\n"}


def _causes(
    tmp_path: Path, edit: Callable[[Project, dict[str, str]], None]
) -> list[tuple[SurfaceChange, list[Cause]]]:
    base_project, head_project = blog(), blog()
    head_migrations = dict(FIRST)
    edit(head_project, head_migrations)
    base = _write(tmp_path / "base", base_project, FIRST)
    head = _write(tmp_path / "head", head_project, head_migrations)
    assert base.surface is not None and head.surface is not None
    roles = compare_surfaces(base.surface, head.surface)
    return [(c, causes_of(c, base, head)) for role in roles for c in role.changes]


def _line(path: Path, text: str) -> int:
    return path.read_text().splitlines().index(text) + 1


def test_a_permission_change_names_the_permissions_file_and_line(tmp_path: Path) -> None:
    def edit(project: Project, _: dict[str, str]) -> None:
        project[1][0]["select_permissions"][0]["permission"]["columns"].remove("bio")

    found = _causes(tmp_path, edit)
    causes = next(k for c, k in found if c.coordinate == "authors.bio: String")
    path = tmp_path / "head" / TABLES / "public_authors.yaml"
    assert [(k.path, k.line, k.side) for k in causes] == [
        (f"{TABLES}/public_authors.yaml", _line(path, "  - role: user"), "head")
    ]
    assert causes[0].note == "select permission of user changed"


def test_a_renamed_relationship_names_both_sides(tmp_path: Path) -> None:
    def edit(project: Project, _: dict[str, str]) -> None:
        project[1][1]["object_relationships"][0]["name"] = "writer"

    found = _causes(tmp_path, edit)
    _, causes = next(
        (c, k) for c, k in found if c.role == "user" and c.coordinate == "articles.author: authors!"
    )
    base_file = tmp_path / "base" / TABLES / "public_articles.yaml"
    head_file = tmp_path / "head" / TABLES / "public_articles.yaml"
    assert {(k.note, k.line, k.side) for k in causes} == {
        (
            "relationship author removed; the line is on the base side",
            _line(base_file, "  - name: author"),
            "base",
        ),
        ("relationship writer added", _line(head_file, "  - name: writer"), "head"),
    }


def test_an_enum_row_removed_by_a_migration_names_the_migration_line(tmp_path: Path) -> None:
    def edit(project: Project, migrations: dict[str, str]) -> None:
        project[2][("public", "status")].remove("archived")
        migrations["2000_retire_archived"] = (
            "-- archived is gone\nDELETE FROM public.status WHERE value = 'archived';\n"
        )

    found = _causes(tmp_path, edit)
    causes = next(k for c, k in found if c.role == "user" and c.coordinate == "status_enum.archived")
    assert [(k.path, k.line, k.note) for k in causes] == [
        ("migrations/default/2000_retire_archived/up.sql", 2, "new migration mentioning status")
    ]


def test_a_metadata_only_change_names_no_migration_that_mentions_the_table(tmp_path: Path) -> None:
    def edit(project: Project, migrations: dict[str, str]) -> None:
        project[1][0]["select_permissions"][0]["permission"]["columns"].remove("bio")
        migrations["2000_index"] = "CREATE INDEX authors_name ON public.authors (name);\n"

    found = _causes(tmp_path, edit)
    causes = next(k for c, k in found if c.coordinate == "authors.bio: String")
    assert [k.path for k in causes] == [f"{TABLES}/public_authors.yaml"]


def test_an_untracked_table_names_the_base_entry(tmp_path: Path) -> None:
    def edit(project: Project, _: dict[str, str]) -> None:
        project[1].pop()  # article_stats

    found = _causes(tmp_path, edit)
    causes = next(
        k for c, k in found if c.role == "editor" and c.coordinate.startswith("query_root.article_stats")
    )
    assert {(k.path, k.side) for k in causes} >= {(f"{TABLES}/public_article_stats.yaml", "base")}


def test_a_removed_role_is_one_finding_naming_every_base_line_that_gave_it_access(tmp_path: Path) -> None:
    def edit(project: Project, _: dict[str, str]) -> None:
        for table in project[1]:
            for kind in ("insert", "select", "update", "delete"):
                kept = [p for p in table.get(f"{kind}_permissions", []) if p["role"] != "editor"]
                table[f"{kind}_permissions"] = kept

    found = _causes(tmp_path, edit)
    ((change, causes),) = [(c, k) for c, k in found if c.role == "editor"]
    assert (change.code, change.coordinate) == ("ROLE_REMOVED", "role editor")
    assert "root fields are gone (" in change.description
    expected = set()
    for path in sorted((tmp_path / "base" / TABLES).glob("public_*.yaml")):
        text = path.read_text().splitlines()
        expected |= {
            (f"{TABLES}/{path.name}", n + 1) for n, line in enumerate(text) if line == "  - role: editor"
        }
    assert expected and {(k.path, k.line) for k in causes} == expected
    assert {k.side for k in causes} == {"base"}
    assert all(k.note.endswith("permission of editor removed; the line is on the base side") for k in causes)
