"""Planted changes on a small project built in Python: each is reported for the right role, at the
right coordinate, in the right class; safe changes give no breaking, dangerous or exposure finding."""

from __future__ import annotations

import copy
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from factory import Col, Rel, blog, surface

from kedge_hasura.graphql.changes import ChangeClass, SurfaceChange, compare_surfaces
from kedge_hasura.graphql.surface import Surface

Project = tuple[list[Rel], list[dict[str, Any]], dict[tuple[str, str], list[str]], list[Any]]
Edit = Callable[[Project], None]


def _rel(project: Project, name: str) -> Rel:
    return next(r for r in project[0] if r.name == name)


def _table(project: Project, name: str) -> dict[str, Any]:
    return next(t for t in project[1] if t["table"]["name"] == name)


def _perm(project: Project, table: str, kind: str, role: str) -> dict[str, Any]:
    return next(p for p in _table(project, table)[f"{kind}_permissions"] if p["role"] == role)["permission"]


@functools.cache
def _base_surface() -> Surface:
    return surface(*blog())  # built once: every case compares against the same base


def _changes(edit: Edit) -> list[SurfaceChange]:
    head = blog()
    edit(head)
    roles = compare_surfaces(_base_surface(), surface(*head))
    return [change for role in roles for change in role.changes]


def _drop_column_from_select(p: Project) -> None:
    _perm(p, "authors", "select", "user")["columns"].remove("bio")


def _rename_column(p: Project) -> None:
    _rel(p, "authors").columns[3].name = "biography"
    _perm(p, "authors", "select", "user")["columns"] = ["id", "name", "biography"]


def _widen_filter(p: Project) -> None:
    _perm(p, "articles", "select", "user")["filter"] = {}


def _add_column_to_permission(p: Project) -> None:
    _perm(p, "authors", "select", "user")["columns"].append("email")


def _remove_enum_row(p: Project) -> None:
    p[2][("public", "status")].remove("archived")


def _add_enum_row(p: Project) -> None:
    p[2][("public", "status")].append("retracted")


def _drop_view(p: Project) -> None:
    p[0].remove(_rel(p, "article_stats"))
    p[1].remove(_table(p, "article_stats"))


def _make_nullable(p: Project) -> None:
    _rel(p, "authors").columns[1].not_null = False


def _custom_name(p: Project) -> None:
    _table(p, "articles")["configuration"] = {"custom_name": "posts"}


def _custom_root_field(p: Project) -> None:
    _table(p, "articles")["configuration"] = {"custom_root_fields": {"select_by_pk": "article"}}


def _column_custom_name(p: Project) -> None:
    _table(p, "authors")["configuration"] = {"column_config": {"name": {"custom_name": "full_name"}}}


def _remove_role(p: Project) -> None:
    for table in p[1]:
        for kind in ("insert", "select", "update", "delete"):
            table[f"{kind}_permissions"] = [
                x for x in table.get(f"{kind}_permissions", []) if x["role"] != "editor"
            ]


def _rename_relationship(p: Project) -> None:
    _table(p, "articles")["object_relationships"][0]["name"] = "writer"


def _insert_loses_required_column(p: Project) -> None:
    _perm(p, "articles", "insert", "user")["columns"].remove("title")


def _narrow_filter(p: Project) -> None:
    _perm(p, "authors", "select", "user")["filter"] = {"id": {"_gt": 0}}


def _remove_filter_condition(p: Project) -> None:
    _perm(p, "articles", "select", "user")["filter"] = {"_and": [{"status": {"_eq": "published"}}]}


def _change_filter(p: Project) -> None:
    _perm(p, "articles", "select", "user")["filter"] = {"status": {"_neq": "draft"}}


def _remove_backend_only(p: Project) -> None:
    _perm(p, "articles", "delete", "editor")["backend_only"] = False


def _new_role(p: Project) -> None:
    _table(p, "authors")["select_permissions"].append(
        {"role": "guest", "permission": {"columns": ["id"], "filter": {}}}
    )


def _drop_foreign_key(p: Project) -> None:
    del _rel(p, "articles").fks["articles_author_fk"]


def _retype_column(p: Project) -> None:
    _rel(p, "articles").columns[5].type = "double precision"


def _drop_table_select(p: Project) -> None:
    _table(p, "authors")["select_permissions"] = [_table(p, "authors")["select_permissions"][1]]


def _update_loses_column(p: Project) -> None:
    _perm(p, "articles", "update", "user")["columns"] = ["title"]


def _drop_computed_function(p: Project) -> None:
    p[3].clear()


def _add_computed_field_to_permission(p: Project) -> None:
    _perm(p, "authors", "select", "user")["computed_fields"] = ["display"]


def _retype_filter_column(p: Project) -> None:
    _rel(p, "articles").columns[3].type = "bigint"  # author_id, used in user's update filter


def _add_backend_only(p: Project) -> None:
    _perm(p, "articles", "insert", "user")["backend_only"] = True


def _restrict_root_fields(p: Project) -> None:
    _perm(p, "authors", "select", "user")["query_root_fields"] = ["select"]


def _drop_view_column(p: Project) -> None:
    _rel(p, "article_stats").columns.pop()


def _drop_pk_from_permission(p: Project) -> None:
    _perm(p, "articles", "select", "user")["columns"].remove("id")


def _untrack_table(p: Project) -> None:
    p[1].remove(_table(p, "article_stats"))


def _retype_primary_key(p: Project) -> None:
    _rel(p, "authors").columns[0].type = "bigint"


def _add_preset(p: Project) -> None:
    _perm(p, "articles", "insert", "user")["set"]["status"] = "draft"


def _drop_insert_permission(p: Project) -> None:
    _table(p, "articles")["insert_permissions"] = []


def _widen_update_filter(p: Project) -> None:
    _perm(p, "articles", "update", "user")["filter"] = {}


def _widen_insert_check(p: Project) -> None:
    _perm(p, "articles", "insert", "user")["check"] = {}


def _drop_aggregations(p: Project) -> None:
    _perm(p, "authors", "select", "editor")["allow_aggregations"] = False


PLANTED = [
    ("backend_only added", _add_backend_only, "user", "breaking", "mutation_root.insert_articles"),
    ("query_root_fields restricted", _restrict_root_fields, "user", "breaking", "query_root.authors_by_pk"),
    ("view column dropped", _drop_view_column, "editor", "breaking", "article_stats.articles: bigint"),
    (
        "primary key column left out of a permission",
        _drop_pk_from_permission,
        "user",
        "breaking",
        "query_root.articles_by_pk",
    ),
    ("table untracked", _untrack_table, "editor", "breaking", "query_root.article_stats"),
    ("primary key retyped", _retype_primary_key, "user", "breaking", "query_root.authors_by_pk(id:)"),
    ("preset added to an insert permission", _add_preset, "user", "breaking", "articles_insert_input.status"),
    (
        "insert permission removed",
        _drop_insert_permission,
        "user",
        "breaking",
        "mutation_root.insert_articles",
    ),
    ("update filter widened", _widen_update_filter, "user", "exposure", "mutation_root.update_articles"),
    ("insert check widened", _widen_insert_check, "user", "exposure", "mutation_root.insert_articles"),
    (
        "computed field's function dropped",
        _drop_computed_function,
        "editor",
        "breaking",
        "authors.display: String",
    ),
    (
        "computed field's function dropped, admin",
        _drop_computed_function,
        "admin",
        "breaking",
        "authors_bool_exp.display: String_comparison_exp",
    ),
    (
        "computed field added to a permission",
        _add_computed_field_to_permission,
        "user",
        "exposure",
        "authors.display: String",
    ),
    ("filter column retyped", _retype_filter_column, "user", "breaking", "articles.author_id: Int!"),
    (
        "filter column retyped, comparison input",
        _retype_filter_column,
        "user",
        "breaking",
        "articles_bool_exp.author_id: Int_comparison_exp",
    ),
    ("select column dropped", _drop_column_from_select, "user", "breaking", "authors.bio: String"),
    ("column renamed", _rename_column, "user", "breaking", "authors.bio: String"),
    ("column renamed, admin", _rename_column, "admin", "breaking", "authors.bio: String"),
    ("filter widened to {}", _widen_filter, "user", "exposure", "query_root.articles"),
    ("column added to a permission", _add_column_to_permission, "user", "exposure", "authors.email: String!"),
    ("enum row removed", _remove_enum_row, "admin", "breaking", "status_enum.archived"),
    ("enum row removed, user", _remove_enum_row, "user", "breaking", "status_enum.archived"),
    ("enum row added", _add_enum_row, "user", "dangerous", "status_enum.retracted"),
    ("tracked view dropped", _drop_view, "editor", "breaking", "query_root.article_stats"),
    ("tracked view dropped, admin", _drop_view, "admin", "breaking", "query_root.article_stats"),
    ("nullability changed", _make_nullable, "user", "breaking", "authors.name: String!"),
    ("custom_name changed", _custom_name, "user", "breaking", "query_root.articles"),
    ("custom_root_fields changed", _custom_root_field, "user", "breaking", "query_root.articles_by_pk"),
    ("column custom_name changed", _column_custom_name, "user", "breaking", "authors.name: String!"),
    ("role removed", _remove_role, "editor", "breaking", "role editor"),
    ("relationship renamed", _rename_relationship, "user", "breaking", "articles.author: authors!"),
    (
        "insert permission loses a column without default",
        _insert_loses_required_column,
        "user",
        "dangerous",
        "mutation_root.insert_articles",
    ),
    (
        "insert permission loses a column: input field",
        _insert_loses_required_column,
        "user",
        "breaking",
        "articles_insert_input.title",
    ),
    ("filter narrowed", _narrow_filter, "user", "dangerous", "query_root.authors"),
    ("filter condition removed", _remove_filter_condition, "user", "exposure", "query_root.articles"),
    ("filter changed, unclassified", _change_filter, "user", "exposure", "query_root.articles"),
    ("backend_only removed", _remove_backend_only, "editor", "exposure", "mutation_root.delete_articles"),
    ("new role on an existing table", _new_role, "guest", "exposure", "query_root.authors"),
    (
        "FK under an object relationship dropped",
        _drop_foreign_key,
        "user",
        "breaking",
        "articles.author: authors!",
    ),
    ("column retyped", _retype_column, "editor", "breaking", "articles.rating: numeric"),
    ("select permission removed", _drop_table_select, "user", "breaking", "query_root.authors"),
    ("update permission loses a column", _update_loses_column, "user", "breaking", "articles_set_input.body"),
    ("aggregations disallowed", _drop_aggregations, "editor", "breaking", "query_root.authors_aggregate"),
]


@pytest.mark.parametrize(
    ("edit", "role", "cls", "coordinate"), [p[1:] for p in PLANTED], ids=[p[0] for p in PLANTED]
)
def test_a_planted_change_is_reported_for_its_role_coordinate_and_class(
    edit: Edit, role: str, cls: str, coordinate: str
) -> None:
    changes = _changes(edit)
    # A coordinate names the field type when it has one: `query_root.t` matches `query_root.t: [t!]!`.
    matches = [
        c
        for c in changes
        if (c.role, c.change_class.value) == (role, cls)
        and coordinate in (c.coordinate, c.coordinate.split(": ")[0])
    ]
    assert matches, [(c.role, c.change_class.value, c.coordinate) for c in changes]
    # so a cause can be named (a removed role's come from its base permissions, not from one table)
    assert all(c.table is not None or c.code == "ROLE_REMOVED" for c in matches)


def _index_like_unique(p: Project) -> None:
    _rel(p, "authors").uniques["authors_email_key"] = ("email",)


def _nullable_column_nobody_sees(p: Project) -> None:
    _rel(p, "article_stats").columns.append(Col("nickname", "text"))


def _column_under_star(p: Project) -> None:
    _rel(p, "authors").columns.append(Col("nickname", "text"))


def _reorder_metadata(p: Project) -> None:
    for table in p[1]:
        for key in list(table):
            if key.endswith("_permissions"):
                table[key].reverse()
                for entry in table[key]:
                    columns = entry["permission"].get("columns")
                    if isinstance(columns, list):
                        columns.reverse()
                    if "_and" in entry["permission"].get("filter", {}):
                        entry["permission"]["filter"]["_and"].reverse()
    p[1].reverse()


def _new_table_nobody_sees(p: Project) -> None:
    p[0].append(Rel("public", "audit", [Col("id", "integer", True), Col("what", "text")], pk=("id",)))
    p[1].append({"table": {"schema": "public", "name": "audit"}})


def _new_table_untracked(p: Project) -> None:
    p[0].append(Rel("public", "scratch", [Col("id", "integer", True)]))


def _new_table_with_permission(p: Project) -> None:
    _new_table_nobody_sees(p)
    p[1][-1]["select_permissions"] = [{"role": "user", "permission": {"columns": ["id"], "filter": {}}}]


def _column_made_not_null(p: Project) -> None:
    _rel(p, "authors").columns[3].not_null = True


def _column_with_default(p: Project) -> None:
    _rel(p, "authors").columns[3].default = "''::text"


def _allow_aggregations(p: Project) -> None:
    _perm(p, "authors", "select", "user")["allow_aggregations"] = True


def _permission_comment(p: Project) -> None:
    _table(p, "authors")["select_permissions"][0]["comment"] = "read-only"


def _same_filter_rewritten(p: Project) -> None:
    _perm(p, "authors", "select", "user")["filter"] = {"_and": []}


def _table_comment(p: Project) -> None:
    _table(p, "authors")["configuration"] = {"comment": "people who write"}


def _select_limit(p: Project) -> None:
    _perm(p, "articles", "select", "user")["limit"] = 100


def _new_array_relationship(p: Project) -> None:
    _rel(p, "article_stats").fks = {}
    _table(p, "authors")["array_relationships"].append(
        {
            "name": "stats",
            "using": {
                "manual_configuration": {
                    "remote_table": {"schema": "public", "name": "article_stats"},
                    "column_mapping": {"id": "author_id"},
                }
            },
        }
    )


def _view_column_nobody_selects(p: Project) -> None:
    _rel(p, "article_stats").columns.append(Col("words", "bigint"))


def _new_enum_table_unreferenced(p: Project) -> None:
    p[0].append(Rel("public", "colour", [Col("value", "text", True)], pk=("value",)))
    p[1].append({"table": {"schema": "public", "name": "colour"}, "is_enum": True})
    p[2][("public", "colour")] = ["red", "blue"]


def _update_gains_column(p: Project) -> None:
    _perm(p, "articles", "update", "user")["columns"].append("tags")


def _insert_gains_column(p: Project) -> None:
    _perm(p, "articles", "insert", "user")["columns"].append("rating")


def _root_fields_widened(p: Project) -> None:
    _perm(p, "authors", "select", "user")["query_root_fields"] = [
        "select",
        "select_by_pk",
        "select_aggregate",
    ]


def _column_comment(p: Project) -> None:
    _table(p, "articles")["configuration"] = {"column_config": {"title": {"comment": "the headline"}}}


def _same_custom_root_field(p: Project) -> None:
    _table(p, "articles")["configuration"] = {"custom_root_fields": {"select": "articles"}}


def _text_to_varchar(p: Project) -> None:
    _rel(p, "authors").columns[1].type = "character varying(200)"


def _column_order(p: Project) -> None:
    columns = _rel(p, "authors").columns
    columns.insert(1, columns.pop(3))


def _backend_only_delete_for_user(p: Project) -> None:
    _table(p, "articles")["delete_permissions"].append(
        {"role": "user", "permission": {"filter": {}, "backend_only": True}}
    )


def _filter_as_single_and(p: Project) -> None:
    _perm(p, "authors", "select", "user")["filter"] = {"_and": [{}]}


def _relationship_comment(p: Project) -> None:
    _table(p, "articles")["object_relationships"][0]["comment"] = "who wrote it"


def _no_change(p: Project) -> None:
    """The baseline: both sides the same."""


def _new_nullable_column_on_view(p: Project) -> None:
    _rel(p, "article_stats").columns.insert(0, Col("rank", "integer"))


def _new_table_with_fk_to_authors(p: Project) -> None:
    p[0].append(
        Rel(
            "public",
            "notes",
            [Col("id", "integer", True), Col("author_id", "integer")],
            pk=("id",),
            fks={"notes_author_fk": (("author_id",), "public.authors", ("id",))},
        )
    )


def _new_tracked_table_with_relationship(p: Project) -> None:
    _new_table_with_fk_to_authors(p)
    p[1].append(
        {
            "table": {"schema": "public", "name": "notes"},
            "object_relationships": [{"name": "author", "using": {"foreign_key_constraint_on": "author_id"}}],
        }
    )


def _unique_on_view_table(p: Project) -> None:
    _rel(p, "articles").uniques["articles_title_key"] = ("title",)


def _default_on_required_column(p: Project) -> None:
    _rel(p, "articles").columns[1].default = "''::text"  # title: inserts no longer need it


def _delete_permission_for_editor_filter_same(p: Project) -> None:
    _perm(p, "articles", "delete", "editor")["filter"] = {"_and": []}


def _update_check_unchanged_rewritten(p: Project) -> None:
    _perm(p, "articles", "update", "user")["check"] = {"_and": []}


def _permission_columns_star_equivalent(p: Project) -> None:
    _perm(p, "article_stats", "select", "editor")["columns"] = "*"


def _columns_duplicated(p: Project) -> None:
    _perm(p, "authors", "select", "user")["columns"].append("id")


def _custom_name_equal_to_default(p: Project) -> None:
    _table(p, "authors")["configuration"] = {"custom_name": "authors"}


def _column_custom_name_equal(p: Project) -> None:
    _table(p, "authors")["configuration"] = {"column_config": {"bio": {"custom_name": "bio"}}}


def _legacy_custom_column_names_equal(p: Project) -> None:
    _table(p, "authors")["configuration"] = {"custom_column_names": {"name": "name"}}


def _computed_field_comment(p: Project) -> None:
    _table(p, "authors")["computed_fields"][0]["comment"] = "name and email"


def _function_volatility_same(p: Project) -> None:
    p[3][0].volatility = "immutable"


def _array_dimension(p: Project) -> None:
    _rel(p, "articles").columns[6].type = "text[][]"  # tags: still [String!]


SAFE = [
    ("unique constraint added", _index_like_unique),
    ("nullable column in no permission", _nullable_column_nobody_sees),
    ("metadata reordered", _reorder_metadata),
    ("new table nobody can see", _new_table_nobody_sees),
    ("new untracked table", _new_table_untracked),
    ("new table with a permission", _new_table_with_permission),
    ("column made NOT NULL", _column_made_not_null),
    ("default added", _column_with_default),
    ("aggregations allowed", _allow_aggregations),
    ("permission comment", _permission_comment),
    ("empty _and for {}", _same_filter_rewritten),
    ("table comment", _table_comment),
    ("select limit", _select_limit),
    ("new manual array relationship", _new_array_relationship),
    ("view column nobody selects", _view_column_nobody_selects),
    ("new unreferenced enum table", _new_enum_table_unreferenced),
    ("update permission gains a column", _update_gains_column),
    ("insert permission gains a column", _insert_gains_column),
    ("query_root_fields widened", _root_fields_widened),
    ("column comment", _column_comment),
    ("custom root field equal to the default", _same_custom_root_field),
    ("text to varchar", _text_to_varchar),
    ("column order", _column_order),
    ("backend_only delete for a role", _backend_only_delete_for_user),
    ("{} written as _and of {}", _filter_as_single_and),
    ("relationship comment", _relationship_comment),
    ("no change", _no_change),
    ("nullable column on a view nobody selects", _new_nullable_column_on_view),
    ("new untracked table with a foreign key", _new_table_with_fk_to_authors),
    ("new tracked table with a relationship", _new_tracked_table_with_relationship),
    ("unique constraint on a table with a primary key", _unique_on_view_table),
    ("default added to a required column", _default_on_required_column),
    ("delete filter {} rewritten", _delete_permission_for_editor_filter_same),
    ("update check rewritten", _update_check_unchanged_rewritten),
    ("`*` for the same columns", _permission_columns_star_equivalent),
    ("a column listed twice", _columns_duplicated),
    ("custom_name equal to the default", _custom_name_equal_to_default),
    ("column custom_name equal to the column", _column_custom_name_equal),
    ("legacy custom_column_names equal to the column", _legacy_custom_column_names_equal),
    ("computed field comment", _computed_field_comment),
    ("function volatility STABLE to IMMUTABLE", _function_volatility_same),
    ("array of more dimensions", _array_dimension),
]


@pytest.mark.parametrize("edit", [s[1] for s in SAFE], ids=[s[0] for s in SAFE])
def test_a_safe_change_gives_no_finding(edit: Edit) -> None:
    assert [(c.role, c.change_class.value, c.coordinate) for c in _changes(edit)] == []


def test_safe_additions_are_counted() -> None:
    base = blog()
    head = copy.deepcopy(base)
    _new_table_with_permission(head)
    roles = {r.role: r for r in compare_surfaces(surface(*base), surface(*head))}
    assert roles["user"].safe > 0
    assert roles["editor"].safe == 0


def test_a_removed_role_is_reported_and_a_change_lists_class_names() -> None:
    changes = _changes(_remove_role)
    assert {c.role for c in changes} == {"editor"}
    assert {c.change_class for c in changes} == {ChangeClass.BREAKING}


def test_a_new_role_reports_its_access_not_the_placeholder_it_loses() -> None:
    changes = _changes(_new_role)
    assert [(c.role, c.change_class, c.code) for c in changes] == [
        ("guest", ChangeClass.EXPOSURE, "TABLE_EXPOSED")
    ]
