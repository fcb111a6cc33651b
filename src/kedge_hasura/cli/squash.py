"""`kedge-hasura squash` and `kedge-hasura archive list | create | restore | verify`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from kedge_hasura.cli.context import AppContext


def register(app: typer.Typer) -> None:
    app.command("squash")(squash_command)
    archive_app = typer.Typer(
        help="List, create, restore and verify archives of original migrations.", no_args_is_help=True
    )
    archive_app.command("list")(archive_list)
    archive_app.command("create")(archive_create)
    archive_app.command("restore")(archive_restore)
    archive_app.command("verify")(archive_verify)
    app.add_typer(archive_app, name="archive")


def squash_command(
    ctx: typer.Context,
    from_version: Annotated[
        int | None,
        typer.Option("--from", help="First version to squash [default: the first].", show_default=False),
    ] = None,
    to_version: Annotated[
        int | None,
        typer.Option("--to", help="Last version to squash [default: the last].", show_default=False),
    ] = None,
    name: Annotated[
        str, typer.Option(help="Name of the new migration (it reuses the last version).")
    ] = "squashed",
    strategy: Annotated[
        Literal["dump", "concat"],
        typer.Option(
            help="dump: the final state, from pg_dump "
            "(the range must start at the first migration); concat: the files joined, as the "
            "Hasura CLI does."
        ),
    ] = "dump",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Build and verify, show the report, write nothing.")
    ] = False,
    no_archive: Annotated[
        bool, typer.Option("--no-archive", help="Delete the originals instead of archiving them.")
    ] = False,
    pre_sql: Annotated[
        Path | None,
        typer.Option(
            "--pre-sql",
            help="SQL to run before the migrations, for "
            "objects they expect but do not create; left out of the output.",
            show_default=False,
        ),
    ] = None,
    exclude_schema: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude-schema",
            metavar="SCHEMA",
            help="Leave this schema out (repeatable).",
            show_default=False,
        ),
    ] = None,
    idempotent: Annotated[
        bool,
        typer.Option(
            "--idempotent", help="Write IF NOT EXISTS / OR REPLACE forms where PostgreSQL has them."
        ),
    ] = False,
    owners: Annotated[bool, typer.Option("--owners", help="Keep ALTER ... OWNER TO statements.")] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="For CI: re-run each archived squash and require "
            "it to match the committed migration (schema and rows); exit 1 otherwise.",
        ),
    ] = False,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Skip the verification (not recommended).")
    ] = False,
    from_archive: Annotated[
        bool,
        typer.Option(
            "--from-archive",
            help="With --dry-run: squash the originals "
            "kept in the database's squashed archive and show the report.",
        ),
    ] = False,
) -> None:
    """Squash a range of migrations into one migration that provably builds the same database.

    The originals are replayed on a scratch PostgreSQL; the final state is dumped into one
    commented migration (or, with --strategy concat, the files are joined); then the originals
    and the new migration are applied to fresh copies and must give the same schema and rows,
    and the new down.sql must return to the state before. Only then is anything written: the new
    migration reuses the last version (`<to>_<name>/`), so environments that applied the
    originals see it as applied; the originals move to `squashed_<from>_to_<to>/` with a
    MANIFEST.json of checksums.

    \b
    Examples:
      kedge-hasura squash --dry-run
      kedge-hasura squash --name consolidated
      kedge-hasura squash --strategy concat --from 1718000000000 --to 1719000000000
      kedge-hasura squash --check
      kedge-hasura squash --dry-run --from-archive
    """
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions.squash.check import check_squash
    from kedge_hasura.actions.squash.equivalence import SquashNotEquivalent
    from kedge_hasura.actions.squash.plan import SquashRequest
    from kedge_hasura.actions.squash.run import squash
    from kedge_hasura.render.squash import render_squash, render_squash_check

    project = app_ctx.project()
    database = app_ctx.settings().database
    if check:
        with app_ctx.output.progress("Checking squashed migrations") as progress:
            report = check_squash(
                project, database=database, cluster=app_ctx.scratch_cluster, progress=progress.update
            )
        raise typer.Exit(app_ctx.finish(report, ok=report.ok, text=render_squash_check))
    request = SquashRequest(
        database=database,
        from_version=from_version,
        to_version=to_version,
        name=name,
        strategy=strategy,
        dry_run=dry_run,
        archive=not no_archive,
        pre_sql=pre_sql,
        exclude_schemas=tuple(exclude_schema or ()),
        idempotent=idempotent,
        verify=not no_verify,
        owners=owners,
        from_archive=from_archive,
    )
    try:
        with app_ctx.output.progress("Squashing") as progress:
            result = squash(project, request, cluster=app_ctx.scratch_cluster, progress=progress.update)
    except SquashNotEquivalent as exc:
        app_ctx.output.show_comparison(exc.schema, exc.data)
        raise
    raise typer.Exit(app_ctx.finish(result, ok=True, text=render_squash))


def _database(app_ctx: AppContext) -> str:
    return app_ctx.project().require_database(app_ctx.settings().database).database


def archive_list(ctx: typer.Context) -> None:
    """List archives of original migrations, with their manifests and a checksum check.

    \b
    Examples:
      kedge-hasura archive list
    """
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions.squash import archive
    from kedge_hasura.render.squash import render_archive_list

    result = archive.list_archives(app_ctx.project(), database=app_ctx.settings().database)
    raise typer.Exit(app_ctx.finish(result, ok=True, text=render_archive_list))


def archive_verify(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="Archive folder name [default: all].", show_default=False)
    ] = None,
) -> None:
    """Check every archived file against its manifest's size and sha256; exit 1 on a mismatch.

    \b
    Examples:
      kedge-hasura archive verify
      kedge-hasura archive verify squashed_1709284463417_to_1748864944213
    """
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions.squash import archive
    from kedge_hasura.render.squash import render_archive_list

    result = archive.list_archives(app_ctx.project(), database=app_ctx.settings().database, name=name)
    raise typer.Exit(app_ctx.finish(result, ok=result.ok, text=render_archive_list))


def archive_create(
    ctx: typer.Context,
    from_version: Annotated[
        int | None, typer.Option("--from", help="First version to archive.", show_default=False)
    ] = None,
    to_version: Annotated[
        int | None, typer.Option("--to", help="Last version to archive.", show_default=False)
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would move; change nothing.")] = False,
) -> None:
    """Move a range of migrations into an archive folder without squashing them.

    The Hasura CLI ignores the archive folder, so those migrations no longer run on fresh
    environments: use this for migrations whose effect another migration already contains.

    \b
    Examples:
      kedge-hasura archive create --from 1709284463417 --to 1709906571093 --dry-run
    """
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions.squash import archive
    from kedge_hasura.render.squash import render_archive_change

    result = archive.create_archive(
        app_ctx.project(), database=_database(app_ctx), from_version=from_version, to_version=to_version,
        dry_run=dry_run,
    )  # fmt: skip
    raise typer.Exit(app_ctx.finish(result, ok=True, text=render_archive_change))


def archive_restore(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(help="Archive folder name, e.g. squashed_<from>_to_<to>.", show_default=False)
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would move; change nothing.")] = False,
) -> None:
    """Put an archive's migrations back and remove the migration they were squashed into.

    Refuses when a file would be overwritten by a different one, when an archived file no longer
    matches its checksum, or when the squashed migration was edited after the squash.

    \b
    Examples:
      kedge-hasura archive restore squashed_1709284463417_to_1748864944213
    """
    app_ctx: AppContext = ctx.obj
    from kedge_hasura.actions.squash import archive
    from kedge_hasura.render.squash import render_archive_change

    result = archive.restore_archive(
        app_ctx.project(), database=_database(app_ctx), name=name, dry_run=dry_run
    )
    raise typer.Exit(app_ctx.finish(result, ok=True, text=render_archive_change))
