"""`kedge-hasura status`."""

from __future__ import annotations

from typing import Annotated

import typer

from kedge_hasura.cli.context import AppContext
from kedge_hasura.settings import Verbosity


def register(app: typer.Typer) -> None:
    app.command("status")(status_command)


def status_command(
    ctx: typer.Context,
    server: Annotated[
        bool,
        typer.Option(
            "--server",
            help="Also show each version's state on the Hasura "
            "server (--endpoint): applied, pending, dirty, missing locally, edited.",
        ),
    ] = False,
) -> None:
    """Show the migrations of each database and everything the Hasura CLI would ignore or reject.

    Lists every migration with its version, name, whether up.sql and down.sql exist, and its
    statement count; then the findings: errors (duplicate versions, a folder without up.sql,
    unreadable or non-UTF-8 SQL, a database that metadata does not declare) and warnings (folders
    and files the CLI skips, missing down.sql, statements that cannot run in a transaction,
    explicit BEGIN/COMMIT). Exits 1 when there are errors. With -v, also which file, variable or
    option supplied each setting (secrets masked).

    \b
    Examples:
      kedge-hasura status
      kedge-hasura status --database default --output json
      kedge-hasura status --server --endpoint https://hasura.example.com
      kedge-hasura -v status
    """
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions.status import local_status, server_status
    from kedge_hasura.render.status import render_status

    settings = app_ctx.settings()
    report = local_status(app_ctx.project(), database=settings.database)
    if settings.verbosity >= Verbosity.VERBOSE:
        report.settings = app_ctx.settings_report()
    if server:
        report = server_status(report, app_ctx.project(), app_ctx.hasura())
    raise typer.Exit(app_ctx.finish(report, ok=report.ok, text=render_status))
