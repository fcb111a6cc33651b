"""Adversarial review of tracked functions and graphql-default against graphql-engine's own code.

Each test states the behaviour graphql-engine has and where it says so; a failing test is a
discrepancy in our model, not in the test.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, print_type

sys.path.insert(0, str(Path(__file__).parent))
from factory import Col, Fn, Rel, snapshot, tracked_function

from kedge_hasura.graphql.catalog import DbCatalog, catalog_from_snapshot
from kedge_hasura.graphql.surface import Surface, build_surface
from kedge_hasura.project.metadata_model import Metadata
from kedge_hasura.schemadiff.model import Type

ARTICLES = Rel("public", "articles", [Col("id", "integer", True), Col("title", "text", True)], pk=("id",))
NAMING = frozenset({"naming_convention"})


def _catalog(*fns: Fn, types: tuple[Type, ...] = (), relations: tuple[Rel, ...] = (ARTICLES,)) -> DbCatalog:
    snap = snapshot(*relations, functions=fns)
    snap.objects.setdefault("type", {})
    for type_ in types:
        snap.objects["type"][type_.key] = type_
    return catalog_from_snapshot(snap)


def _type(name: str, kind: str, *, base: str | None = None, attributes: tuple[str, ...] = ()) -> Type:
    return Type("public", name, kind, (), base, None, False, (), None, attributes, None, "postgres", None,
                frozenset())  # fmt: skip


def _surface(
    functions: list[dict[str, Any]],
    catalog: DbCatalog,
    *,
    select: dict[str, dict[str, Any]] | None = None,
    inherited: list[dict[str, Any]] | None = None,
    graphql_default: bool = False,
    infer: bool = True,
) -> Surface:
    permissions = [
        {"role": role, "permission": {"columns": ["id", "title"], "filter": {}, **extra}}
        for role, extra in (select or {}).items()
    ]
    source: dict[str, Any] = {
        "name": "default",
        "kind": "postgres",
        "tables": [{"table": {"schema": "public", "name": "articles"}, "select_permissions": permissions}],
        "functions": functions,
    }
    if graphql_default:
        source["customization"] = {"naming_convention": "graphql-default"}
    document: dict[str, Any] = {"version": 3, "sources": [source]}
    if inherited:
        document["inherited_roles"] = inherited
    model = Metadata.model_validate(document)
    model.bind(())
    return build_surface(
        model, catalog, features=NAMING if graphql_default else frozenset(), infer_function_permissions=infer
    )


def _tracked(name: str, **configuration: Any) -> dict[str, Any]:
    return tracked_function(name, **configuration)


def _roots(schema: GraphQLSchema) -> set[str]:
    roots = (schema.query_type, schema.mutation_type, schema.subscription_type)
    return {name for root in roots if root is not None for name in root.fields}


# --- tracked functions --------------------------------------------------------------------------


def test_an_inherited_role_has_a_function_permission_when_any_parent_has_one() -> None:
    """RQL/DDL/Schema/Cache.hs, Note "Roles Inheritance", 3.: "An inherited role will have access to
    the action/function if any one of the parents have permission"; the map is built with
    `mkBooleanPermissionMap FunctionPermissionInfo metadataPermissions orderedRoles`."""
    bump = Fn("public", "bump", "x integer", "SETOF public.articles", volatility="volatile")
    built = _surface(
        [_tracked("bump", permissions=["user"])],
        _catalog(bump),
        select={"user": {}, "power": {}},
        inherited=[{"role_name": "power", "role_set": ["user"]}],
    )
    assert "bump" in built.roles["user"].schema.mutation_type.fields
    mutation = built.roles["power"].schema.mutation_type
    assert mutation is not None and "bump" in mutation.fields


def test_an_inherited_role_sees_a_query_function_of_a_parent_without_inference() -> None:
    """Same rule with HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS=false (Schema.hs
    buildQueryAndSubscriptionFields: `roleName `HashMap.member` _fiPermissions functionInfo`)."""
    search = Fn("public", "search_articles", "q text", "SETOF public.articles")
    built = _surface(
        [_tracked("search_articles", permissions=["user"])],
        _catalog(search),
        select={"user": {}, "power": {}},
        inherited=[{"role_name": "power", "role_set": ["user"]}],
        infer=False,
    )
    assert "search_articles" in built.roles["power"].schema.query_type.fields


def test_a_session_argument_that_is_not_an_argument_leaves_the_function_out() -> None:
    """Backends/Postgres/DDL/Function.hs FunctionInvalidSessionArgument; server/tests-py/queries/
    graphql_query/functions/track_function_v2_errors.yaml: 'given session argument "random" not the
    input argument of the function' (status 400)."""
    fn = Fn("public", "get_session_var", "hasura_session json, session_var text", "SETOF public.articles")
    built = _surface([_tracked("get_session_var", session_argument="random")], _catalog(fn))
    assert not any(name.startswith("get_session_var") for name in _roots(built.roles["admin"].schema))


def test_a_session_argument_that_is_not_json_leaves_the_function_out() -> None:
    """Same file: 'given session argument "session_var" is not of type json' (only `json`:
    `if argTy == PGJSON`)."""
    fn = Fn("public", "get_session_var", "hasura_session json, session_var text", "SETOF public.articles")
    built = _surface([_tracked("get_session_var", session_argument="session_var")], _catalog(fn))
    assert not any(name.startswith("get_session_var") for name in _roots(built.roles["admin"].schema))


def test_an_argument_name_that_is_not_a_graphql_name_leaves_the_function_out() -> None:
    """DDL/Function.hs validateFunctionArgNames → FunctionInvalidArgumentNames ("the function
    arguments ... are not in compliance with GraphQL spec"): the function is inconsistent; the
    schema is still built."""
    fn = Fn("public", "search_articles", '"search-term" text', "SETOF public.articles")
    built = _surface([_tracked("search_articles")], _catalog(fn))
    assert "search_articles" not in built.roles["admin"].schema.query_type.fields


def test_a_function_name_that_is_not_a_graphql_name_is_rejected_even_with_a_custom_name() -> None:
    """DDL/Function.hs: `unless (has _Right $ qualifiedObjectToName qf) $ throwValidateError
    FunctionNameNotGQLCompliant` runs on the SQL name, before custom_name is looked at."""
    fn = Fn("public", "search-articles", "q text", "SETOF public.articles")
    built = _surface([_tracked("search-articles", custom_name="searchArticles")], _catalog(fn))
    assert "searchArticles" not in built.roles["admin"].schema.query_type.fields


def test_a_function_named_like_a_pgcrypto_function_is_not_found() -> None:
    """The function-metadata query (pg_function_metadata.sql) skips `pgp_%` and armor, crypt, dearmor,
    decrypt, decrypt_iv, digest, encrypt, encrypt_iv, gen_random_bytes, gen_random_uuid, gen_salt,
    hmac in every schema, so tracking one is "no such function exists" (inconsistent)."""
    fn = Fn("public", "digest", "q text", "SETOF public.articles")
    built = _surface([_tracked("digest")], _catalog(fn))
    assert "digest" not in built.roles["admin"].schema.query_type.fields


def test_a_domain_argument_is_named_after_the_domain_not_its_base_type() -> None:
    """input_arg_types is `pt.typname` of each argument's type (pg_function_metadata.sql), read by
    textToPGScalarType → PGUnknown "email" → scalar `email` (SQL/Types.hs mkScalarTypeName)."""
    fn = Fn("public", "by_email", "e public.email", "SETOF public.articles")
    catalog = _catalog(fn, types=(_type("email", "domain", base="text"),))
    built = _surface([_tracked("by_email")], catalog)
    assert print_type(built.roles["admin"].schema.type_map["by_email_args"]) == (
        "input by_email_args {\n  e: email\n}"
    )


def test_a_composite_type_argument_is_a_scalar_suffixed_scalar() -> None:
    """SQL/Types.hs mkFunctionArgScalarType: `PGKindComposite -> PGCompositeScalar`, named
    `<type>_scalar` by mkScalarTypeName, for any composite type, not only a table's row type
    (tests-py functions/track_non_base_function_arg_type.yaml: `__type(name: "test_scalar")`)."""
    fn = Fn("public", "near", "p public.point2", "SETOF public.articles")
    catalog = _catalog(fn, types=(_type("point2", "composite", attributes=("x integer", "y integer")),))
    built = _surface([_tracked("near")], catalog)
    assert print_type(built.roles["admin"].schema.type_map["near_args"]) == (
        "input near_args {\n  p: point2_scalar\n}"
    )


# --- graphql-default ----------------------------------------------------------------------------


def test_graphql_default_keeps_a_functions_custom_name_and_its_aggregate_as_written() -> None:
    """Function/Common.hs: getFunctionGQLName = custom_root_fields.function, else custom_name, else
    `setCase funcGivenName`; getFunctionAggregateGQLName = `_fcCustomName <&> (<> Name.__aggregate)`
    before `setCase` — neither custom form is re-cased. The args type is `setCase (custom_name <>
    "_args")` (camelCase)."""
    fn = Fn("public", "search_articles", "q text", "SETOF public.articles")
    built = _surface(
        [_tracked("search_articles", custom_name="find_articles")],
        _catalog(fn),
        select={"reader": {"allow_aggregations": True}},
        graphql_default=True,
    )
    roots = _roots(built.roles["reader"].schema)
    assert {"find_articles", "find_articles_aggregate"} <= roots
    assert "findArticlesArgs" in built.roles["reader"].schema.type_map


def test_graphql_default_lowers_the_first_letter_of_a_generated_field_name() -> None:
    """Data/Text/Casing.hs: toCamelG applies `lowerFirstChar` to an autogenerated prefix
    (snakeToCamel = toCamelT . fromSnake, `toCamelT (x : xs) = lowerFirstChar x <> ...`); table
    identifiers come from getIdentifierQualifiedObject → C.fromAutogeneratedTuple, columns from
    processColumnInfo `ciName = applyFieldNameCaseIdentifier tCase name`. Table "User" → `user`,
    `userByPk`; column "FirstName" → `firstName`."""
    user = Rel("public", "User", [Col("id", "integer", True), Col("FirstName", "text")], pk=("id",))
    source = {"name": "default", "kind": "postgres",
              "customization": {"naming_convention": "graphql-default"},
              "tables": [{"table": {"schema": "public", "name": "User"}}]}  # fmt: skip
    model = Metadata.model_validate({"version": 3, "sources": [source]})
    model.bind(())
    admin = build_surface(model, _catalog(relations=(user,)), features=NAMING).roles["admin"].schema
    assert {"user", "userByPk", "userAggregate"} <= set(admin.query_type.fields)
    assert "firstName" in admin.type_map["User"].fields


def test_graphql_default_lowers_the_first_letter_of_a_function_field_name() -> None:
    """DDL/Function.hs `setNamingCase = applyFieldNameCaseCust tCase` = snakeToCamel: function
    "GetArticles" → `getArticles`, `getArticlesAggregate`, args type `getArticlesArgs`."""
    fn = Fn("public", "GetArticles", "q text", "SETOF public.articles")
    built = _surface([_tracked("GetArticles")], _catalog(fn), graphql_default=True)
    admin = built.roles["admin"].schema
    assert {"getArticles", "getArticlesAggregate"} <= set(admin.query_type.fields)
    assert "getArticlesArgs" in admin.type_map
