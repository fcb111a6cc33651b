"""Squash's two strategies: `dump` (pg_dump of the final state) and `concat` (the originals joined).

Both return the squashed up.sql and down.sql with the notes they make on the way.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from kedge_hasura import __version__
from kedge_hasura.actions.squash.plan import earlier_squash_of
from kedge_hasura.actions.squash.roundtrip import VERIFIED_CLAIM, round_trip_entries
from kedge_hasura.actions.squash.steps import Work, squash_folder_name
from kedge_hasura.pg import dump as pg_dump
from kedge_hasura.pg.dependencies import Dependency, object_dependencies
from kedge_hasura.pg.scratch import ScratchDatabase
from kedge_hasura.project.naming import archive_folder_name
from kedge_hasura.schemadiff.drops import drop_statements
from kedge_hasura.schemadiff.model import Snapshot
from kedge_hasura.schemadiff.snapshot import HASURA_SCHEMAS
from kedge_hasura.sql.pgdump import DumpEntry, non_idempotent_kinds, parse_dump, render_up, without_baseline
from kedge_hasura.sql.statements import created_roles
from kedge_hasura.words import plural


@dataclass(frozen=True)
class SquashedSql:
    """What a strategy builds: the two files, and its notes for the report's warnings."""

    up_sql: str
    down_sql: str
    notes: tuple[str, ...] = ()
    round_trip_up: str | None = None  # up.sql with forms that print back as the originals (dump)
    # Objects that existed before the range and that the migrations change (dump): "TABLE auth.users"
    changed: tuple[str, ...] = ()


def dump_strategy(
    work: Work,
    before: ScratchDatabase,
    replayed: ScratchDatabase,
    first_new_oid: int,
    frozen: list[str],
    snapshots: tuple[Snapshot, Snapshot],
) -> SquashedSql:
    """pg_dump of the final state, less what existed before; down.sql drops what up.sql creates."""
    work.say("dumping the final state")
    installation = work.cluster.client_installation()
    options = pg_dump.DumpOptions(
        exclude_schemas=(*HASURA_SCHEMAS, *work.request.exclude_schemas), owners=work.request.owners
    )
    # The two dumps and the dependency graph at once: each is a server's (or pg_dump's) work.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="kedge-dump") as pool:
        baseline_dump = pool.submit(pg_dump.dump, installation, before.conninfo, options)
        dependencies = pool.submit(object_dependencies, replayed.conninfo)
        entries = parse_dump(pg_dump.dump(installation, replayed.conninfo, options))
        baseline = parse_dump(baseline_dump.result())
        return _dump_strategy(
            work, replayed, first_new_oid, frozen, snapshots, entries, baseline, dependencies
        )


def _dump_strategy(
    work: Work,
    replayed: ScratchDatabase,
    first_new_oid: int,
    frozen: list[str],
    snapshots: tuple[Snapshot, Snapshot],
    entries: list[DumpEntry],
    baseline: list[DumpEntry],
    dependencies: Future[list[Dependency]],
) -> SquashedSql:
    notes: list[str] = []
    entries, changed = without_baseline(entries, baseline)
    if changed:
        notes.append(
            "the migrations change objects that existed before them (the template, the preconditions); "
            "a squashed migration cannot re-create those changes (use --strategy concat): "
            + ", ".join(f"{e.type} {e.label}" for e in changed)
        )
    if work.request.idempotent:
        kinds = non_idempotent_kinds(entries)
        if kinds:
            notes.append(
                "--idempotent: PostgreSQL has no IF NOT EXISTS form for "
                + ", ".join(kinds)
                + "; those statements run in DO blocks that skip them when their object exists, even if "
                "it is defined differently"
            )
    roles, missing_roles = _roles(work, replayed, first_new_oid)
    notes += missing_roles
    up_sql = render_up(entries, header=header(work, frozen), idempotent=work.request.idempotent, roles=roles)
    round_trip_up = None
    if work.request.verify and (forms := round_trip_entries(entries)) is not None:
        round_trip_up = render_up(
            forms, header=header(work, frozen), idempotent=work.request.idempotent, roles=roles
        )
    final, start = snapshots
    drops, drop_notes = drop_statements(final, start, dependencies.result())
    notes += drop_notes
    down_header = [
        f"Undoes {squash_folder_name(work)}: drops what its up.sql creates, dependents",
        "first. Extensions and schemas that existed before are left alone; nothing is dropped with CASCADE.",
    ]
    down_sql = "\n".join(f"-- {line}" for line in down_header) + "\n\n" + "\n".join(drops) + "\n"
    return SquashedSql(
        up_sql, down_sql, tuple(notes), round_trip_up, tuple(f"{e.type} {e.label}" for e in changed)
    )


def _roles(work: Work, replayed: ScratchDatabase, first_new_oid: int) -> tuple[list[str], list[str]]:
    """The originals' CREATE ROLE statements, for the roles the squashed objects use.

    pg_dump of a database leaves roles out (they belong to the cluster), yet its GRANTs and
    policies name them. Roles used but not created by the originals are reported: they must exist
    wherever the squashed migration runs: the second list holds that note.
    """
    created = {
        name: text
        for migration in work.selected
        if migration.up
        for name, text in created_roles(migration.up.text)
    }
    used = pg_dump.referenced_roles(replayed.conninfo, first_new_oid, owners=work.request.owners)
    missing = [role for role in used if role not in created]
    notes = []
    if missing:
        notes.append(
            "the migrations grant to roles they do not create (roles are cluster-wide; they must exist "
            "wherever the squashed migration runs): " + ", ".join(missing)
        )
    return [text for name, text in created.items() if name in used], notes


def concat_strategy(work: Work) -> SquashedSql:
    """The Hasura CLI's squash, with a comment naming each part and every missing down reported."""
    up_parts = ["\n".join(f"-- {line}".rstrip() for line in header(work, []))]
    for migration in work.selected:
        assert migration.up is not None
        up_parts.append(f"-- kedge: from {migration.key}\n{migration.up.text.rstrip()}")
    down_parts = [f"-- Undoes {squash_folder_name(work)}: the original down.sql files, newest first."]
    missing = []
    for migration in reversed(work.selected):
        if migration.down is None:
            missing.append(migration.key)
            down_parts.append(f"-- kedge: {migration.key} has no down.sql: nothing here undoes it")
        else:
            down_parts.append(f"-- kedge: undoes {migration.key}\n{migration.down.text.rstrip()}")
    notes = []
    if missing:
        notes.append(
            f"{plural(len(missing), 'migration')} without down.sql, "
            "so the squashed down.sql cannot undo them: " + ", ".join(missing)
        )
    return SquashedSql("\n\n".join(up_parts) + "\n", "\n\n".join(down_parts) + "\n", tuple(notes))


def header(work: Work, frozen: list[str]) -> list[str]:
    """The comment lines that open the squashed up.sql."""
    first, last = work.selected[0], work.selected[-1]
    lines = [
        f"Squashed by kedge-hasura {__version__} ({work.request.strategy} strategy, PostgreSQL "
        f"{work.cluster.major}) from {plural(len(work.selected), 'migration')} "
        f"of database {work.migrations.database!r},",
        f"versions {first.version} to {last.version}; the originals are archived in "
        f"{archive_folder_name(first.version, last.version)}/.",
        VERIFIED_CLAIM  # a placeholder: run.py narrows it to what verification proved
        if work.request.verify
        else "Not verified (--no-verify): nothing proves this file builds what the originals build.",
        "",
        "Originals (version_name  sha256 of up.sql):",
    ]
    lines += [f"  {m.key}  {m.up.sha256 if m.up else '-'}" for m in work.selected]
    for migration in work.selected:
        if (earlier := earlier_squash_of(work.migrations, migration)) is not None:
            lines += [
                "",
                f"{migration.key} was written by an earlier squash; its originals are archived in "
                f"{earlier.name}/.",
            ]
    if frozen:
        lines += ["", "Values frozen at squash time (different on every replay): " + ", ".join(frozen)]
    if work.variation.nondeterministic_tables:
        dump = work.request.strategy == "dump"
        holds = "; this file holds the rows of one replay" if dump else ", this file's too"
        lines += [
            "",
            f"Non-deterministic tables (a different number of rows on every replay{holds}; not compared): "
            + ", ".join(work.variation.nondeterministic_tables),
        ]
    return lines
