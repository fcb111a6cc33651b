"""Build snapshots and metadata in Python for the GraphQL surface tests (no PostgreSQL)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from kedge_hasura.graphql.catalog import DbCatalog, EnumValue, Mutability, catalog_from_snapshot
from kedge_hasura.graphql.surface import Surface, build_surface
from kedge_hasura.project.metadata_model import Metadata
from kedge_hasura.schemadiff.model import Column, Constraint, Function, ServerInfo, Snapshot, Table, View

SERVER = ServerInfo(150000, "15.0", "scratch", "postgres", True)


@dataclass
class Col:
    name: str
    type: str = "text"
    not_null: bool = False
    default: str | None = None


@dataclass
class Rel:
    schema: str
    name: str
    columns: list[Col]
    pk: tuple[str, ...] = ()
    uniques: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fks: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = field(
        default_factory=dict
    )  # name → (cols, "s.t", cols)
    view: bool = False
    pk_name: str | None = None  # default <name>_pkey


@dataclass
class Fn:
    schema: str
    name: str
    arguments: str  # identity arguments: "a public.authors"
    result: str
    volatility: str = "stable"
    declared: str | None = None  # pg_get_function_arguments (modes, defaults); default: `arguments`


def snapshot(*relations: Rel, functions: tuple[Fn, ...] = ()) -> Snapshot:
    objects: dict[str, dict[Any, Any]] = {
        "table": {},
        "view": {},
        "column": {},
        "constraint": {},
        "function": {},
    }
    for fn in functions:
        function = Function(
            fn.schema,
            fn.name,
            fn.arguments,
            "function",
            fn.result,
            fn.arguments if fn.declared is None else fn.declared,
            "sql",
            "SELECT 1",
            fn.volatility,
            False,
            False,
            False,
            "unsafe",
            100.0,
            0.0,
            (),
            "postgres",
            None,
            frozenset(),
        )
        objects["function"][function.key] = function
    for rel in relations:
        if rel.view:
            view = View(
                rel.schema,
                rel.name,
                "SELECT 1",
                (),
                tuple(f"{c.name} {c.type}" for c in rel.columns),
                "postgres",
                None,
                frozenset(),
            )
            objects["view"][view.key] = view
        else:
            table = Table(
                rel.schema,
                rel.name,
                "table",
                "permanent",
                False,
                False,
                (),
                None,
                None,
                (),
                "default",
                None,
                "postgres",
                None,
                frozenset(),
            )
            objects["table"][table.key] = table
        for position, col in enumerate(rel.columns, 1):
            column = Column(
                rel.schema,
                rel.name,
                col.name,
                position,
                col.type,
                col.not_null,
                col.default,
                None,
                None,
                None,
                None,
                None,
                frozenset(),
                relation_kind="view" if rel.view else "table",
            )
            objects["column"][column.key] = column
        constraints = []
        if rel.pk:
            constraints.append(
                Constraint(
                    rel.schema,
                    rel.name,
                    rel.pk_name or f"{rel.name}_pkey",
                    "primary key",
                    "PRIMARY KEY (...)",
                    None,
                    rel.pk,
                )
            )
        for name, columns in rel.uniques.items():
            constraints.append(
                Constraint(rel.schema, rel.name, name, "unique", "UNIQUE (...)", None, columns)
            )
        for name, (columns, target, target_columns) in rel.fks.items():
            definition = (
                f"FOREIGN KEY ({', '.join(columns)}) REFERENCES {target}({', '.join(target_columns)})"
            )
            constraints.append(
                Constraint(rel.schema, rel.name, name, "foreign key", definition, None, columns)
            )
        for constraint in constraints:
            objects["constraint"][constraint.key] = constraint
    return Snapshot(server=SERVER, objects=objects)


def catalog(
    *relations: Rel, enum_rows: dict[tuple[str, str], list[str]] | None = None, functions: tuple[Fn, ...] = ()
) -> DbCatalog:
    views = {(r.schema, r.name): Mutability() for r in relations if r.view}
    rows = {key: [EnumValue(v) for v in values] for key, values in (enum_rows or {}).items()}
    return catalog_from_snapshot(
        snapshot(*relations, functions=functions), enum_rows=rows, view_mutability=views
    )


def metadata(tables: list[dict[str, Any]], functions: list[dict[str, Any]] | None = None) -> Metadata:
    source = {"name": "default", "kind": "postgres", "tables": copy.deepcopy(tables)}
    if functions:
        source["functions"] = copy.deepcopy(functions)
    model = Metadata.model_validate({"version": 3, "sources": [source]})
    model.bind(())
    return model


def surface(
    relations: list[Rel],
    tables: list[dict[str, Any]],
    enum_rows: dict[tuple[str, str], list[str]] | None = None,
    functions: list[Fn] | None = None,
) -> Surface:
    return build_surface(
        metadata(tables), catalog(*relations, enum_rows=enum_rows, functions=tuple(functions or ()))
    )


Project = tuple[list[Rel], list[dict[str, Any]], dict[tuple[str, str], list[str]], list[Fn]]


def blog() -> Project:
    """A small project: authors (with a computed field), articles, a status enum table, a view;
    roles user and editor."""
    relations = [
        Rel(
            "public",
            "authors",
            [
                Col("id", "integer", True, "nextval('authors_id_seq')"),
                Col("name", "text", True),
                Col("email", "text", True),
                Col("bio", "text"),
            ],
            pk=("id",),
        ),
        Rel(
            "public",
            "articles",
            [
                Col("id", "integer", True, "nextval('articles_id_seq')"),
                Col("title", "text", True),
                Col("body", "text"),
                Col("author_id", "integer", True),
                Col("status", "text", True, "'draft'::text"),
                Col("rating", "numeric(3,1)"),
                Col("tags", "text[]"),
                Col("meta", "jsonb"),
            ],
            pk=("id",),
            fks={
                "articles_author_fk": (("author_id",), "public.authors", ("id",)),
                "articles_status_fk": (("status",), "public.status", ("value",)),
            },
        ),
        Rel("public", "status", [Col("value", "text", True), Col("comment", "text")], pk=("value",)),
        Rel("public", "article_stats", [Col("author_id", "integer"), Col("articles", "bigint")], view=True),
    ]
    tables = [
        {
            "table": {"schema": "public", "name": "authors"},
            "computed_fields": [
                {
                    "name": "display",
                    "definition": {"function": {"schema": "public", "name": "author_display"}},
                }
            ],
            "array_relationships": [
                {
                    "name": "articles",
                    "using": {
                        "foreign_key_constraint_on": {
                            "column": "author_id",
                            "table": {"schema": "public", "name": "articles"},
                        }
                    },
                }
            ],
            "select_permissions": [
                {"role": "user", "permission": {"columns": ["id", "name", "bio"], "filter": {}}},
                {
                    "role": "editor",
                    "permission": {
                        "columns": "*",
                        "filter": {},
                        "allow_aggregations": True,
                        "computed_fields": ["display"],
                    },
                },
            ],
        },
        {
            "table": {"schema": "public", "name": "articles"},
            "object_relationships": [{"name": "author", "using": {"foreign_key_constraint_on": "author_id"}}],
            "insert_permissions": [
                {
                    "role": "user",
                    "permission": {
                        "columns": ["title", "body", "status", "tags"],
                        "check": {"author_id": {"_eq": "X-Hasura-User-Id"}},
                        "set": {"author_id": "x-hasura-user-id"},
                    },
                },
            ],
            "select_permissions": [
                {
                    "role": "user",
                    "permission": {
                        "columns": ["id", "title", "body", "author_id", "status", "tags"],
                        "filter": {
                            "_and": [
                                {"status": {"_eq": "published"}},
                                {"author": {"id": {"_is_null": False}}},
                            ]
                        },
                    },
                },
                {"role": "editor", "permission": {"columns": "*", "filter": {}, "allow_aggregations": True}},
            ],
            "update_permissions": [
                {
                    "role": "user",
                    "permission": {
                        "columns": ["title", "body"],
                        "filter": {"author_id": {"_eq": "X-Hasura-User-Id"}},
                        "check": {},
                    },
                },
            ],
            "delete_permissions": [{"role": "editor", "permission": {"filter": {}, "backend_only": True}}],
        },
        {"table": {"schema": "public", "name": "status"}, "is_enum": True},
        {
            "table": {"schema": "public", "name": "article_stats"},
            "select_permissions": [
                {"role": "editor", "permission": {"columns": ["author_id", "articles"], "filter": {}}}
            ],
        },
    ]
    functions = [Fn("public", "author_display", "a public.authors", "text")]
    return relations, tables, {("public", "status"): ["draft", "published", "archived"]}, functions


def tracked_function(name: str, **configuration: Any) -> dict[str, Any]:
    """A functions.yaml entry for public.<name>; `permissions=[roles]` and configuration keys."""
    entry: dict[str, Any] = {"function": {"schema": "public", "name": name}}
    permissions = configuration.pop("permissions", None)
    if configuration:
        entry["configuration"] = configuration
    if permissions:
        entry["permissions"] = [{"role": role} for role in permissions]
    return entry
