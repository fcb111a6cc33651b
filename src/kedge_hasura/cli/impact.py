"""`kedge-hasura impact`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kedge_hasura.cli.context import AppContext
from kedge_hasura.errors import ExitCode


def register(app: typer.Typer) -> None:
    app.command("impact")(impact_command)


def impact_command(
    ctx: typer.Context,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            metavar="REF",
            help="Base revision (default: the merge base with origin/HEAD).",
            show_default=False,
        ),
    ] = None,
    head: Annotated[
        str | None,
        typer.Option(
            "--head", metavar="REF", help="Head revision (default: the working tree).", show_default=False
        ),
    ] = None,
    fail_on: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-on",
            metavar="CLASS",
            help="A class that makes the exit code 1: breaking, dangerous, exposure "
            "(repeatable; default breaking and exposure).",
            show_default=False,
        ),
    ] = None,
    sdl_dir: Annotated[
        Path | None,
        typer.Option(
            "--sdl-dir",
            metavar="DIR",
            help="Also write each role's SDL per side to DIR/base/ROLE.graphql and DIR/head/ROLE.graphql.",
            show_default=False,
        ),
    ] = None,
    print_schema: Annotated[
        str | None,
        typer.Option(
            "--print-schema",
            metavar="ROLE",
            help="Print ROLE's GraphQL SDL for the working tree and stop.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """What a change does to each role's GraphQL API, derived offline from migrations and metadata.

    Both revisions' migrations are replayed on scratch databases (with the project's
    preconditions) and each role's schema (admin and every role named in a permission) is built
    as Hasura v2 builds it. Changes are classified per role: breaking and dangerous as
    graphql-core finds them, exposure when a role can now see a column, a table or rows it could
    not, and the rest counted as safe. Exit 0 when no change of a --fail-on class is found, 1
    otherwise.

    \b
    Examples:
      kedge-hasura impact
      kedge-hasura impact --base origin/main --output json
      kedge-hasura impact --print-schema student
    """
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions.impact import run as impact_action
    from kedge_hasura.errors import UsageError
    from kedge_hasura.graphql.changes import ChangeClass
    from kedge_hasura.render.impact import render_impact, render_impact_github, render_impact_markdown
    from kedge_hasura.settings import OutputFormat

    database = app_ctx.settings().database or "default"
    if print_schema is not None:
        with app_ctx.output.progress("Building the GraphQL schema"):
            sdl = impact_action.print_role_schema(
                app_ctx.project(), print_schema, database=database, cluster=app_ctx.scratch_cluster
            )
        app_ctx.output.write_text(sdl + "\n")
        return
    classes = {c.value for c in ChangeClass}
    unknown = sorted(set(fail_on or ()) - classes)
    if unknown:
        raise UsageError(
            f"unknown --fail-on class {', '.join(unknown)}", hint=f"use: {', '.join(sorted(classes))}"
        )
    request = impact_action.ImpactRequest(
        base=base,
        head=head,
        database=database,
        fail_on=frozenset(ChangeClass(c) for c in fail_on) if fail_on else impact_action.DEFAULT_FAIL_ON,
        sdl_dir=sdl_dir,
    )
    with app_ctx.output.progress("Comparing each role's GraphQL schema") as progress:
        result = impact_action.impact(
            request, project=app_ctx.project(), cluster=app_ctx.scratch_cluster, progress=progress.update
        )
    preformatted = {OutputFormat.GITHUB: render_impact_github, OutputFormat.MARKDOWN: render_impact_markdown}
    exit_code = app_ctx.finish(result, ok=result.ok, text=render_impact, preformatted=preformatted)
    raise typer.Exit(exit_code if exit_code is ExitCode.OK else ExitCode.CHECK_FAILED)
