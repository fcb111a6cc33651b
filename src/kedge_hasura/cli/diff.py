"""`kedge-hasura diff`."""

from __future__ import annotations

from typing import Annotated

import typer

from kedge_hasura.cli.context import AppContext
from kedge_hasura.errors import ExitCode
from kedge_hasura.findings import Severity


def register(app: typer.Typer) -> None:
    app.command("diff")(diff_command)


def diff_command(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            metavar="SOURCE",
            help="SOURCE: a PostgreSQL URL, `migrations[:db]`, a .sql file, or `hasura[:db]`.",
            show_default=False,
        ),
    ],
    target: Annotated[
        str, typer.Argument(metavar="TARGET", help="TARGET: same forms as SOURCE.", show_default=False)
    ],
    schema: Annotated[
        list[str] | None,
        typer.Option(
            "--schema", metavar="SCHEMA", help="Compare only this schema (repeatable).", show_default=False
        ),
    ] = None,
    exclude_schema: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude-schema",
            metavar="SCHEMA",
            help="Also leave out this schema (repeatable; hdb_catalog and hdb_views always are).",
            show_default=False,
        ),
    ] = None,
    fail_on: Annotated[
        Severity,
        typer.Option("--fail-on", help="Lowest severity that makes the exit code 1.", case_sensitive=False),
    ] = Severity.WARNING,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore",
            metavar="CATEGORY",
            help="Leave out a category: column-order, "
            "comments, grants, owners, probably-equivalent, renames (repeatable).",
            show_default=False,
        ),
    ] = None,
    compare_owners: Annotated[
        bool, typer.Option("--compare-owners", help="Also compare object owners.")
    ] = False,
    data: Annotated[
        bool, typer.Option("--data", help="Also compare the rows of small tables and sequence positions.")
    ] = False,
    data_table: Annotated[
        list[str] | None,
        typer.Option(
            "--data-table",
            metavar="SCHEMA.TABLE",
            help="Compare the rows of this table (schema.table, globs allowed; repeatable; implies --data).",
            show_default=False,
        ),
    ] = None,
    data_max_rows: Annotated[
        int, typer.Option("--data-max-rows", help="With --data, skip tables with more rows.")
    ] = 1000,
    ignore_column: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore-column",
            metavar="SCHEMA.TABLE.COLUMN",
            help="Leave a column out of row "
            "comparison: schema.table.column, table.column or column (globs; repeatable).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Compare two database schemas: every object kind, field by field.

    Each side is a PostgreSQL URL (postgresql://user@host/db), `migrations` or
    `migrations:<database>` (this project's migrations replayed on a scratch database), a .sql
    file (applied to a scratch database), or `hasura` / `hasura:<database>` (read through the
    Hasura API, read-only). Differences are grouped by object kind; texts that differ but parse
    to the same tree are reported as "probably equivalent" (info). Exit 0 when nothing at or
    above --fail-on differs, 1 otherwise.

    \b
    Examples:
      kedge-hasura diff migrations postgresql://postgres@localhost:5432/app
      kedge-hasura diff migrations squashed.sql --data --ignore-column created_at
      kedge-hasura diff migrations hasura -o json
    """
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions import diff as diff_action
    from kedge_hasura.errors import UsageError
    from kedge_hasura.render.diff import render_schema_diff
    from kedge_hasura.schemadiff.compare import IGNORABLE, CompareOptions
    from kedge_hasura.schemadiff.data import DataOptions
    from kedge_hasura.schemadiff.snapshot import HASURA_SCHEMAS, Scope

    unknown = sorted(set(ignore or ()) - set(IGNORABLE))
    if unknown:
        raise UsageError(
            f"unknown --ignore category {', '.join(unknown)}", hint=f"use: {', '.join(IGNORABLE)}"
        )
    sides = (diff_action.parse_side(source), diff_action.parse_side(target))
    # Settings (and so the project) only when a side leaves its database to --database/KEDGE_DATABASE.
    picks = any(side.kind in ("migrations", "hasura") and not side.value for side in sides)
    request = diff_action.DiffRequest(
        source=sides[0],
        target=sides[1],
        database=app_ctx.settings().database if picks else None,
        scope=Scope(include=tuple(schema or ()), exclude=(*HASURA_SCHEMAS, *(exclude_schema or ()))),
        compare_options=CompareOptions(compare_owners=compare_owners, ignore=frozenset(ignore or ())),
        data=DataOptions(
            max_rows=data_max_rows,
            tables=tuple(data_table or ()),
            ignore_columns=frozenset(ignore_column or ()),
        )
        if data or data_table
        else None,
    )
    with app_ctx.output.progress("Comparing schemas") as progress:
        result = diff_action.diff(
            request,
            project=app_ctx.project,
            cluster=app_ctx.scratch_cluster,
            hasura_executor=app_ctx.hasura_schema_executor,
            progress=progress.update,
        )
    exit_code = app_ctx.finish(result, ok=result.is_identical(fail_on), text=render_schema_diff)
    raise typer.Exit(exit_code if exit_code is ExitCode.OK else ExitCode.CHECK_FAILED)
