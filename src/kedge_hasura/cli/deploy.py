"""`kedge-hasura deploy | rollback | verify | state ...`: the commands that talk to a Hasura server."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from kedge_hasura.cli.context import AppContext
from kedge_hasura.errors import FailedAfterChanges, UsageError
from kedge_hasura.findings import Finding

if TYPE_CHECKING:
    from kedge_hasura.actions.deploy.plan import Selection
    from kedge_hasura.actions.deploy.rehearse import RehearseRequest
    from kedge_hasura.project.layout import Project


# What the server holds when Ctrl-C comes after the action returned (while its report is printed).
_FINISHED = "the {what} had finished (its report was not printed): `kedge-hasura state show` shows the state"


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy_command)
    app.command("rollback")(rollback_command)
    app.command("verify")(verify_command)
    state_app = typer.Typer(help="Show and repair recorded migration state.", no_args_is_help=True)
    state_app.command("show")(state_show)
    state_app.command("mark-applied")(state_mark_applied)
    state_app.command("mark-unapplied")(state_mark_unapplied)
    state_app.command("prune")(state_prune)
    app.add_typer(state_app, name="state")


def deploy_command(
    ctx: typer.Context,
    transaction: Annotated[
        Literal["all", "each"],
        typer.Option(
            help="all: every pending migration of a "
            "database in one transaction; each: one transaction per migration."
        ),
    ] = "all",
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Show the plan and the metadata changes, and check the metadata against the schema the "
            "migrations build (replayed offline); change nothing.",
        ),
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail when the server has versions this project does not.")
    ] = False,
    strict_order: Annotated[
        bool,
        typer.Option(
            "--strict-order", help="Fail when a pending version is older than the newest applied one."
        ),
    ] = False,
    allow_edited: Annotated[
        bool, typer.Option("--allow-edited", help="Deploy even when applied migrations were edited since.")
    ] = False,
    skip_metadata: Annotated[bool, typer.Option("--skip-metadata", help="Apply migrations only.")] = False,
    allow_inconsistent: Annotated[
        bool,
        typer.Option("--allow-inconsistent", help="Apply metadata even if Hasura reports it inconsistent."),
    ] = False,
    track_untracked: Annotated[
        bool,
        typer.Option(
            "--track-untracked",
            help="Track untracked tables and views of the managed schemas, and write their table files.",
        ),
    ] = False,
    allow_untracked: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-untracked",
            metavar="PATTERN",
            help="A `schema.table` glob that may stay untracked (repeatable; adds to "
            "kedge.check.ignore_untracked). Other untracked tables make the deploy exit 1.",
            show_default=False,
        ),
    ] = None,
    rehearse: Annotated[
        bool,
        typer.Option(
            "--rehearse",
            help="Run the pending migrations on the server in a transaction that always rolls back, "
            "report each failure with file and line, then check the metadata offline.",
        ),
    ] = False,
    lock_timeout: Annotated[
        float,
        typer.Option("--lock-timeout", metavar="SECONDS", help="--rehearse: how long to wait for a lock."),
    ] = 5.0,
    statement_timeout: Annotated[
        float,
        typer.Option(
            "--statement-timeout", metavar="SECONDS", help="--rehearse: the longest a statement may run."
        ),
    ] = 300.0,
    keep_going: Annotated[
        bool,
        typer.Option("--keep-going", help="--rehearse: after a failure, rehearse the later migrations too."),
    ] = False,
    version: Annotated[
        int | None,
        typer.Option(
            "--version",
            metavar="V",
            help="Apply only this pending version (the Hasura CLI's `migrate apply --version V`). "
            "A partial deploy applies migrations only, as `migrate apply` does: no metadata.",
            show_default=False,
        ),
    ] = None,
    skip_execution: Annotated[
        bool,
        typer.Option(
            "--skip-execution",
            help="With --version: record V as applied without running it (= `state mark-applied V`).",
        ),
    ] = False,
    goto: Annotated[
        int | None,
        typer.Option(
            "--goto",
            metavar="V",
            help="Apply the pending versions up to and including V; unlike the Hasura CLI, a V below "
            "the newest applied version is refused (use rollback --to V).",
            show_default=False,
        ),
    ] = None,
    up: Annotated[
        int | None,
        typer.Option("--up", metavar="N", help="Apply the oldest N pending versions.", show_default=False),
    ] = None,
    with_seeds: Annotated[
        bool,
        typer.Option(
            "--with-seeds",
            help="Then apply seeds/<database>/*.sql in file-name order (as `hasura seed apply`), each "
            "recorded in the kedge_hasura.seed_ledger table, so an unchanged seed is not applied again.",
        ),
    ] = False,
    reapply_changed_seeds: Annotated[
        bool,
        typer.Option(
            "--reapply-changed-seeds",
            help="With --with-seeds: apply a seed changed since it was applied again (refused by default: "
            "it may duplicate rows).",
        ),
    ] = False,
    all_databases: Annotated[
        bool,
        typer.Option(
            "--all-databases",
            help="Every database with migrations (the default unless --database or KEDGE_DATABASE "
            "names one; this overrides the environment).",
        ),
    ] = False,
) -> None:
    """Apply pending migrations and the metadata to a Hasura server, atomically.

    Reads migration state where the Hasura CLI keeps it (catalog state), so `hasura migrate
    status` agrees. By default all pending migrations of a database run in one run_sql
    transaction: all or nothing. Each migration also writes a row to kedge-hasura's ledger in the
    same transaction, which settles interrupted deploys and detects edited migrations. Squashed
    migrations are recognised from their archives. Then the metadata is applied, reloaded and
    checked, and every table of the managed schemas must be tracked.

    \b
    Examples:
      kedge-hasura deploy --dry-run
      kedge-hasura deploy --endpoint https://hasura.example.com
      kedge-hasura deploy --database default --transaction each --skip-metadata
      kedge-hasura deploy --rehearse --lock-timeout 2 --keep-going
      kedge-hasura deploy --database default --goto 1748864944213
      kedge-hasura deploy --version 1748864944213 --skip-execution
      kedge-hasura deploy --with-seeds
    """
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions.check.for_deploy import inconsistency_locator, metadata_findings
    from kedge_hasura.actions.deploy.apply import DeployRequest, deploy
    from kedge_hasura.render.deploy import render_deploy

    project = _catalog_state_project(app_ctx)
    selection = _selection(version, goto, up, skip_execution=skip_execution, rehearse=rehearse)
    databases = _deploy_databases(app_ctx, all_databases=all_databases, partial=selection is not None)
    if reapply_changed_seeds and not with_seeds:
        raise UsageError("--reapply-changed-seeds goes with --with-seeds")
    if with_seeds and (selection is not None or skip_execution):
        raise UsageError(
            "--with-seeds applies seeds after every pending migration: it does not go with "
            "--version, --goto or --up"
        )
    if skip_execution:
        if dry_run or rehearse:
            raise UsageError(
                "--skip-execution records V as applied: it does not go with --dry-run or --rehearse"
            )
        assert version is not None  # _selection refuses --skip-execution without it
        _mark(ctx, version, applied=True)

    def metadata_check(databases: list[str]) -> list[Finding]:
        return metadata_findings(project, databases, cluster=app_ctx.scratch_cluster)

    if rehearse:
        from kedge_hasura.actions.deploy.rehearse import RehearseRequest

        _rehearse(
            app_ctx,
            RehearseRequest(
                databases=databases, lock_timeout=lock_timeout, statement_timeout=statement_timeout,
                keep_going=keep_going, allow_edited=allow_edited, with_seeds=with_seeds,
                reapply_changed_seeds=reapply_changed_seeds,
            ),
            dry_run,
            None if skip_metadata else metadata_check,
        )  # fmt: skip
        return
    request = DeployRequest(
        databases=databases,
        transaction=transaction,
        dry_run=dry_run,
        strict=strict,
        strict_order=strict_order,
        allow_edited=allow_edited,
        # A partial deploy leaves later migrations pending: metadata written for all of them would
        # not fit yet. `hasura migrate apply` never applies metadata either.
        skip_metadata=skip_metadata or selection is not None,
        allow_inconsistent=allow_inconsistent,
        track_untracked=track_untracked,
        allow_untracked=tuple(allow_untracked or ()),
        selection=selection,
        with_seeds=with_seeds,
        reapply_changed_seeds=reapply_changed_seeds,
    )
    try:
        with app_ctx.output.progress("Deploying" if not dry_run else "Planning") as progress:
            result = deploy(
                project, app_ctx.hasura(), request, progress=progress.update,
                metadata_check=metadata_check if dry_run else None,
                locate=inconsistency_locator(project),
            )  # fmt: skip
        if not dry_run:
            app_ctx.server_outcome = _FINISHED.format(what="deploy")
    except FailedAfterChanges as exc:
        app_ctx.show_partial(exc, text=render_deploy)
        raise
    raise typer.Exit(app_ctx.finish(result, ok=result.ok, text=render_deploy))


def _catalog_state_project(app_ctx: AppContext) -> Project:
    """The project, refused before any request when its CLI keeps state elsewhere (config v2)."""
    from kedge_hasura.actions.deploy.migration_state import require_catalog_state_project

    project = app_ctx.project()
    require_catalog_state_project(project)
    return project


def _selection(
    version: int | None, goto: int | None, up: int | None, *, skip_execution: bool, rehearse: bool
) -> Selection | None:
    """The partial deploy the options ask for (None: every pending version).

    Raises:
        UsageError: more than one of --version, --goto, --up; one of them with --rehearse;
            --skip-execution without --version.
    """
    from kedge_hasura.actions.deploy.plan import Selection

    given = [
        name for name, value in (("--version", version), ("--goto", goto), ("--up", up)) if value is not None
    ]
    if len(given) > 1:
        raise UsageError(f"{' and '.join(given)} do not go together: give one")
    if skip_execution and version is None:
        raise UsageError("--skip-execution needs --version V (the one version to record as applied)")
    if not given:
        return None
    if rehearse:
        raise UsageError(f"--rehearse rehearses every pending migration: drop {given[0]}")
    return Selection(version=version, goto=goto, up=up)


def _deploy_databases(app_ctx: AppContext, *, all_databases: bool, partial: bool) -> tuple[str, ...]:
    """The databases deploy works on: () for every one.

    Raises:
        UsageError: --all-databases with --database, or a partial deploy of several databases.
    """
    settings = app_ctx.settings()
    if all_databases:
        if settings.database and settings.origin.get("database") == "command line":
            raise UsageError("--all-databases and --database do not go together")
        if partial:
            raise UsageError("--version, --goto and --up work on one database: drop --all-databases")
        return ()
    if partial:  # the Hasura CLI's partial applies name one database too
        return (app_ctx.project().require_database(settings.database).database,)
    return (settings.database,) if settings.database else ()


def _rehearse(
    app_ctx: AppContext,
    request: RehearseRequest,
    dry_run: bool,
    metadata_check: Callable[[list[str]], list[Finding]] | None,
) -> None:
    from kedge_hasura.actions.deploy.rehearse import rehearse
    from kedge_hasura.render.rehearse import render_rehearsal

    if dry_run:
        raise UsageError("--rehearse and --dry-run do not go together: a rehearsal changes nothing either")
    with app_ctx.output.progress("Rehearsing") as progress:
        result = rehearse(
            _catalog_state_project(app_ctx), app_ctx.hasura(), request, metadata_check=metadata_check,
            progress=progress.update,
        )  # fmt: skip
    raise typer.Exit(app_ctx.finish(result, ok=result.ok, text=render_rehearsal))


def rollback_command(
    ctx: typer.Context,
    steps: Annotated[
        int | None,
        typer.Option(
            "--steps",
            "--down",
            metavar="N",
            help="Roll back the newest N applied versions (--down N as the Hasura CLI's "
            "`migrate apply --down N`).",
            show_default=False,
        ),
    ] = None,
    to: Annotated[
        int | None,
        typer.Option(
            "--to",
            help="Roll back every applied version newer than this one, which must be applied; "
            "--to 0 rolls back all.",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be rolled back.")] = False,
) -> None:
    """Run down migrations through Hasura, newest first, in one transaction.

    Refuses when a down.sql is missing or empty. For a squashed history, uses the archived
    original's down.sql when the server ran the originals.

    \b
    Examples:
      kedge-hasura rollback --steps 1 --dry-run
      kedge-hasura rollback --to 1718000000000
    """
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions.deploy.rollback import RollbackRequest, rollback
    from kedge_hasura.render.deploy import render_rollback

    request = RollbackRequest(
        database=app_ctx.settings().database, steps=steps, to_version=to, dry_run=dry_run
    )
    result = rollback(_catalog_state_project(app_ctx), app_ctx.hasura(), request)
    if not request.dry_run:
        app_ctx.server_outcome = _FINISHED.format(what="rollback")
    raise typer.Exit(app_ctx.finish(result, ok=True, text=render_rollback))


def verify_command(ctx: typer.Context) -> None:
    """Check a server against the project: schema, recorded state, metadata.

    The live schema (read through run_sql, read-only) must equal the project's migrations
    replayed on a scratch database; recorded versions must agree with the ledger (nothing dirty,
    pending, lost or edited); the metadata must be consistent. Exit 1 with the differences.

    \b
    Examples:
      kedge-hasura verify
      kedge-hasura verify --database default -o json
    """
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions.deploy.verify import verify
    from kedge_hasura.render.deploy import render_verify

    with app_ctx.output.progress("Verifying") as progress:
        result = verify(
            _catalog_state_project(app_ctx), app_ctx.hasura(), cluster=app_ctx.scratch_cluster,
            database=app_ctx.settings().database, progress=progress.update,
        )  # fmt: skip
    raise typer.Exit(app_ctx.finish(result, ok=result.ok, text=render_verify))


def state_show(ctx: typer.Context) -> None:
    """Show recorded migration state, the ledger and the project side by side.

    \b
    Examples:
      kedge-hasura state show
    """
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions.deploy.state import show_state
    from kedge_hasura.render.deploy import render_state

    result = show_state(
        _catalog_state_project(app_ctx), app_ctx.hasura(), database=app_ctx.settings().database
    )
    raise typer.Exit(app_ctx.finish(result, ok=True, text=render_state))


def state_mark_applied(
    ctx: typer.Context,
    version: Annotated[int, typer.Argument(metavar="VERSION", help="The version.", show_default=False)],
) -> None:
    """Record a version as applied without running it (its SQL was applied by other means).

    \b
    Examples:
      kedge-hasura state mark-applied 1718000000000
    """
    _mark(ctx, version, applied=True)


def state_mark_unapplied(
    ctx: typer.Context,
    version: Annotated[int, typer.Argument(metavar="VERSION", help="The version.", show_default=False)],
) -> None:
    """Record a version as not applied (its SQL was undone by other means).

    \b
    Examples:
      kedge-hasura state mark-unapplied 1718000000000
    """
    _mark(ctx, version, applied=False)


def _mark(ctx: typer.Context, version: int, *, applied: bool) -> None:
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions.deploy.state import mark
    from kedge_hasura.render.deploy import render_state_change

    project, client, database = _catalog_state_project(app_ctx), app_ctx.hasura(), app_ctx.settings().database
    with app_ctx.server_write(f"the change of version {version}'s recorded state"):
        result = mark(project, client, database=database, version=version, applied=applied)
    raise typer.Exit(app_ctx.finish(result, ok=True, text=render_state_change))


def state_prune(ctx: typer.Context) -> None:
    """Drop the state of squashed originals once the server applied all of them.

    The squashed migration reuses the last original's version, so it is recorded already; the
    other originals' versions only show as "Not Present" in `hasura migrate status`.

    \b
    Examples:
      kedge-hasura state prune --database default
    """
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions.deploy.state import prune
    from kedge_hasura.render.deploy import render_state_change

    project, client, database = _catalog_state_project(app_ctx), app_ctx.hasura(), app_ctx.settings().database
    with app_ctx.server_write("the pruned state"):
        result = prune(project, client, database=database)
    raise typer.Exit(app_ctx.finish(result, ok=True, text=render_state_change))
