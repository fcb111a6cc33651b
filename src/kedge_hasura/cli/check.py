"""`kedge-hasura check`."""

from __future__ import annotations

from typing import Annotated

import typer

from kedge_hasura.cli.context import AppContext
from kedge_hasura.findings import Severity
from kedge_hasura.settings import OutputFormat


def register(app: typer.Typer) -> None:
    app.command("check")(check_command)


def check_command(
    ctx: typer.Context,
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help="Also ask Hasura (--endpoint, --admin-secret, or config.yaml) for inconsistent "
            "metadata, metadata drift and applied migrations.",
        ),
    ] = False,
    fail_on: Annotated[
        Severity,
        typer.Option("--fail-on", help="Lowest severity that makes the exit code 1.", case_sensitive=False),
    ] = Severity.ERROR,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            metavar="REF",
            help="Also compare each role's GraphQL API with this git revision (as `impact`): breaking "
            "and exposure changes are errors, dangerous ones warnings.",
            show_default=False,
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore",
            metavar="CODE",
            help="Leave out findings with this code (repeatable; adds to kedge.check.ignore in config.yaml).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check metadata and migrations for consistency, as Hasura would, before deploying.

    Replays each database's migrations on a scratch database and checks the metadata against
    what they build: tracked tables, views and functions exist; relationships, permissions
    (columns, filters, checks), computed fields and enum tables are valid; every table is
    tracked; no role is a misspelling of another. Also checks the migration files (down.sql,
    versions, statements that cannot run in a transaction) and squash archives. With --online,
    also reports the server's inconsistent metadata, drift between the local and the server's
    metadata, and migrations applied on one side only. Every finding has a code, a file and a
    line. --output github writes GitHub Actions annotations, junit a JUnit XML report, sarif a
    SARIF 2.1.0 log (GitHub code scanning), gitlab a GitLab Code Quality report.
    Exits 0 when no finding reaches --fail-on, 1 when one does, 2 on bad usage, 3 when the
    check could not run.

    \b
    Examples:
      kedge-hasura check
      kedge-hasura check --output github --fail-on warning
      kedge-hasura check --base origin/main --output github
      kedge-hasura check --online --output junit > check.xml
      kedge-hasura check --output sarif > kedge-check.sarif
      kedge-hasura check --output gitlab > gl-code-quality-report.json
    """
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions.check.run import CheckOptions, check_project
    from kedge_hasura.render.check import render_check, render_github, render_junit
    from kedge_hasura.render.ci_reports import render_gitlab, render_sarif

    project = app_ctx.project()
    configured = project.config.kedge.check
    options = CheckOptions(
        database=app_ctx.settings().database,
        online=online,
        fail_on=fail_on,
        ignore_untracked=configured.ignore_untracked,
        ignore=(*configured.ignore, *(ignore or ())),
        impact_base=base,
    )
    with app_ctx.output.progress("Checking metadata and migrations") as progress:
        report = check_project(
            project,
            cluster=app_ctx.scratch_cluster,
            hasura=app_ctx.hasura if online else None,
            options=options,
            progress=progress.update,
        )
    app_ctx.output.detail(", ".join(f"{phase} {seconds:.2f} s" for phase, seconds in report.timings.items()))
    preformatted = {
        OutputFormat.GITHUB: render_github,
        OutputFormat.JUNIT: render_junit,
        OutputFormat.SARIF: render_sarif,
        OutputFormat.GITLAB: render_gitlab,
    }
    raise typer.Exit(app_ctx.finish(report, ok=report.ok, text=render_check, preformatted=preformatted))
