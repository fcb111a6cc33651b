"""Squash's scratch steps: build the state before the range, replay it, find what varies.

The replays seed random() (schemadiff.data.REPLAY_SEEDS): the first replay with the first seed,
as `squash --check` does, so both see the same random() values; the replays that look for what
varies with the others.

The second replay (the first one that looks for what varies) runs at the same time as the first,
in another database of the scratch server, when the migrations touch nothing cluster-wide (roles,
tablespaces, databases, server settings: `is_cluster_wide`), so neither can see the other's work.
Should it fail anyway, it is run again on its own afterwards, as it would have been before.

Each step returns what it found, notes included, so the caller decides their order in the report.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from kedge_hasura.actions.replay import other_database_scripts, precondition_scripts, scripts_for
from kedge_hasura.actions.squash.plan import Progress, SquashRequest
from kedge_hasura.errors import KedgeError
from kedge_hasura.pg import dump as pg_dump
from kedge_hasura.pg.catalog import PsycopgExecutor
from kedge_hasura.pg.replay import ReplayReport, SqlScript, StatementSpan, replay
from kedge_hasura.pg.scratch import ScratchCluster, ScratchDatabase
from kedge_hasura.project.layout import Project
from kedge_hasura.project.migrations import DatabaseMigrations, Migration, sql_findings
from kedge_hasura.project.naming import migration_folder_name
from kedge_hasura.schemadiff.data import (
    REPLAY_SEEDS,
    DataOptions,
    ReplayVariation,
    compare_data,
    replay_variation,
)
from kedge_hasura.schemadiff.model import Snapshot
from kedge_hasura.schemadiff.snapshot import Scope, read_snapshot
from kedge_hasura.sql.statements import parse_sql
from kedge_hasura.words import plural, verb


@dataclass(frozen=True)
class Work:
    """What the steps of one squash share (read only)."""

    request: SquashRequest
    project: Project
    migrations: DatabaseMigrations
    selected: tuple[Migration, ...]
    cluster: ScratchCluster
    say: Progress
    scope: Scope
    # What differs between replays of the originals (set once found, with dataclasses.replace).
    variation: ReplayVariation = field(default_factory=ReplayVariation)
    # The second replay while it runs beside the first (see the module docstring); shared by the
    # copies dataclasses.replace makes, and emptied when it is collected.
    background: dict[str, _Background] = field(default_factory=dict, compare=False)
    # The database the verification applies up.sql to, copied from `before` beside the replays
    # (see `replay_range`); taken by the first verification, shared like `background`.
    candidate: dict[str, Future[ScratchDatabase]] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class _Background:
    """A replay running in a thread; `stop` makes it end before its next script."""

    future: Future[ScratchDatabase]
    stop: threading.Event
    made: list[ScratchDatabase]  # its database, once the thread has made it


class _Stopped(Exception):
    """Ends a background replay early (the first replay failed: nothing will use it)."""


# Statements whose effect is not confined to one database: two replays at once could see each
# other's (CREATE ROLE guarded by a pg_roles lookup would race). Matched anywhere in the text,
# strings and comments included, so a match only means "replay one at a time".
_CLUSTER_WIDE = re.compile(
    r"\b(?:(?:CREATE|ALTER|DROP)\s+(?:ROLE|USER|GROUP|TABLESPACE|DATABASE)|ALTER\s+SYSTEM|REASSIGN\s+OWNED"
    r"|ON\s+(?:ROLE|DATABASE|TABLESPACE)|GRANT\s+(?!ALL\b|SELECT\b|INSERT\b|UPDATE\b|DELETE\b|USAGE\b"
    r"|EXECUTE\b|TRUNCATE\b|REFERENCES\b|TRIGGER\b|CREATE\b|CONNECT\b|TEMP)\w+(?:\s*,\s*\w+)*\s+TO)\b",
    re.IGNORECASE,
)


def is_cluster_wide(sql: str) -> bool:
    """Whether a script may change state shared by every database of the server (see `_CLUSTER_WIDE`)."""
    return _CLUSTER_WIDE.search(sql) is not None


def precondition_files(work: Work) -> tuple[Path, ...]:
    """The precondition SQL files this squash runs first: the manifest's (squash --check), else
    config.yaml's for the database (--pre-sql replaces both)."""
    if work.request.pre_sql is not None:
        return (work.request.pre_sql,)
    if work.request.precondition_files is not None:
        return work.request.precondition_files
    return work.project.config.kedge.preconditions_for(work.migrations.database).sql


def build_before(work: Work) -> ScratchDatabase:
    """The state before the range: the template, the preconditions, and (concat) earlier migrations.

    With nothing to add, that is the template itself (only read and copied, never changed):
    one database copy less, 0.3 s and more on a busy disk.
    """
    scripts: list[SqlScript] = []
    scripts += precondition_scripts(precondition_files(work))
    if work.request.pre_sql is None:
        preconditions = work.project.config.kedge.preconditions_for(work.migrations.database)
        scripts += other_database_scripts(work.project, preconditions)
    earlier = [m for m in work.migrations.migrations if m.version < work.selected[0].version]
    scripts += scripts_for(earlier)
    if not scripts:
        return work.cluster.template_database()
    database = work.cluster.create_database("before")
    work.say(f"preparing the state before the range ({plural(len(scripts), 'script')})")
    apply_scripts(work, database, scripts)
    return database


def _replay_again(
    work: Work, before: ScratchDatabase, seed: float, stop: threading.Event, made: list[ScratchDatabase]
) -> ScratchDatabase:
    def stop_if_asked(index: int, count: int, script: SqlScript) -> None:
        if stop.is_set():
            raise _Stopped

    database = work.cluster.create_database("replay_again", copy_of=before)
    made.append(database)
    apply_scripts(work, database, scripts_for(work.selected), progress=stop_if_asked, seed=seed)
    return database


def _collect_background(work: Work, *, stop: bool = False) -> ScratchDatabase | None:
    """The database of the second replay run beside the first; None if there was none, if it
    failed (the caller replays again on its own) or if `stop` ended it early. Waits for it (with
    `stop`, cancelling its running statement), so the server is never stopped under it."""
    background = work.background.pop("replay_again", None)
    if background is None:
        return None
    if stop:
        background.stop.set()
    while True:
        try:
            return background.future.result(timeout=0.5 if stop else None)
        except TimeoutError:
            # Still inside a script (a long statement, a pg_sleep): cancel it rather than wait.
            for database in list(background.made):
                work.cluster.cancel_queries(database)
        except (KedgeError, _Stopped):
            return None


def replay_range(work: Work, before: ScratchDatabase) -> tuple[ScratchDatabase, int, ReplayReport]:
    """Replay the originals on a fresh copy of `before` (the state before the range): that
    database, the first OID the replay could use, and the report.

    With verification, the second replay runs beside it on a copy of its own (collected by
    `find_variation`), and `before` is copied for the verification meanwhile (`take_candidate`).
    A copy is mostly file creation (0.25-0.5 s where a file costs a millisecond to create), which
    overlaps with the replays' work: the copies of the two replays are made at once, the third
    while they run.
    """
    total = len(work.selected)
    if work.request.verify and not any(is_cluster_wide(s.sql) for s in scripts_for(work.selected)):
        stop = threading.Event()
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kedge-replay")
        made: list[ScratchDatabase] = []
        future = pool.submit(_replay_again, work, before, REPLAY_SEEDS[1], stop, made)
        work.background["replay_again"] = _Background(future, stop, made)
        pool.shutdown(wait=False)  # the thread ends with its replay
    try:
        database = work.cluster.create_database("replay", copy_of=before)
        if work.request.verify:
            # Not needed before the replays end, so made while they run (not beside the two
            # copies they wait for). Nothing connects to `before` until the replay is over, and
            # this copy is waited for before that (CREATE DATABASE needs its template unused).
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kedge-copy")
            work.candidate["squashed"] = pool.submit(work.cluster.create_database, "squashed", copy_of=before)
            pool.shutdown(wait=False)
        first_new_oid = pg_dump.last_oid(database.conninfo)
        report = apply_scripts(
            work,
            database,
            scripts_for(work.selected),
            progress=lambda index, count, script: work.say(
                f"replaying {index + 1}/{total}: {migration_folder_name(script.version, script.name)}"
            ),
            seed=REPLAY_SEEDS[0],
        )
    except BaseException:
        _collect_background(work, stop=True)  # a failure or Ctrl-C: end it, not to be used
        raise
    finally:
        # Done copying before anything else connects to `before` (or the cluster closes).
        _settle(work.candidate.get("squashed"))
    return database, first_new_oid, report


def _settle(future: Future[ScratchDatabase] | None) -> None:
    if future is not None:
        with contextlib.suppress(KedgeError):  # raised again by take_candidate
            future.result()


def take_candidate(work: Work, before: ScratchDatabase) -> ScratchDatabase:
    """A fresh copy of `before` for the verification: the one copied beside the replays the first
    time, a new one after that.

    Raises:
        DatabaseError: CREATE DATABASE failed.
    """
    future = work.candidate.pop("squashed", None)
    if future is not None:
        return future.result()
    return work.cluster.create_database("squashed", copy_of=before)


def apply_scripts(
    work: Work,
    database: ScratchDatabase,
    scripts: Sequence[SqlScript],
    progress: Callable[[int, int, SqlScript], None] | None = None,
    seed: float | None = None,
) -> ReplayReport:
    report = replay(database.conninfo, scripts, on_script=progress, seed=seed)
    failure = report.failed_step.failure if report.failed_step else None
    report.raise_for_failure(hint=work.cluster.missing_extension_hint(failure.message) if failure else None)
    return report


def find_variation(
    work: Work, before: ScratchDatabase, replayed: ScratchDatabase
) -> tuple[ReplayVariation, list[str]]:
    """Columns, tables and sequences that differ between replays of the same history, and the notes.

    A second replay with another random() seed finds them. Where it finds a table whose row
    count varies, other tables could vary too and have matched by chance (a count from random()
    or the clock), so a third replay, with a third seed, looks again.
    """
    work.say("replaying again to find values that change on every run")
    variation = _compare_replays(work, before, replayed, REPLAY_SEEDS[1], again=_collect_background(work))
    if variation.nondeterministic_tables:
        work.say("replaying a third time: some tables have a different number of rows on every run")
        variation = variation.merged(_compare_replays(work, before, replayed, REPLAY_SEEDS[2]))
    # The dump strategy writes the rows of this run; concat re-runs the statements that make them.
    holds = "this run's" if work.request.strategy == "dump" else "new"
    notes = []
    if variation.frozen_columns:
        notes.append(
            "values frozen at squash time (they differ on every replay, e.g. now() or random UUIDs; the "
            f"squashed migration holds {holds} values): {', '.join(variation.frozen_columns)}"
        )
    if variation.nondeterministic_sequences:
        notes.append(
            "sequence positions that differ on every replay are not compared (the squashed migration "
            f"sets {holds} positions): {', '.join(variation.nondeterministic_sequences)}"
        )
    if variation.nondeterministic_tables:
        tables = variation.nondeterministic_tables
        notes.append(
            f"non-deterministic rows: {plural(len(tables), 'table')} {verb(len(tables), 'gets', 'get')} "
            "a different number of rows on every replay of the originals "
            "(e.g. generate_series(1, random() * n)); their rows are not compared, and the "
            f"squashed migration holds {holds} rows: {', '.join(tables)}"
        )
    return variation, notes


def _compare_replays(
    work: Work,
    before: ScratchDatabase,
    replayed: ScratchDatabase,
    seed: float,
    *,
    again: ScratchDatabase | None = None,
) -> ReplayVariation:
    """Replay the originals with `seed` on a copy of `before` (unless `again` already holds that
    replay) and compare it with `replayed`."""
    if again is None:
        again = work.cluster.create_database("replay_again", copy_of=before)
        apply_scripts(work, again, scripts_for(work.selected), seed=seed)
    with (
        PsycopgExecutor(replayed.conninfo, label="the replayed originals") as first,
        PsycopgExecutor(again.conninfo, label="another replay of the originals") as second,
    ):
        first_snapshot, second_snapshot = read_both(first, second, work.scope)
        data = compare_data(
            (first, first_snapshot),
            (second, second_snapshot),
            DataOptions(max_rows=10**9, match="physical"),
            scope=work.scope,
        )
    work.cluster.drop_database(again)
    return replay_variation(data)


def read_both(first: PsycopgExecutor, second: PsycopgExecutor, scope: Scope) -> tuple[Snapshot, Snapshot]:
    """Both snapshots at once (two connections; the catalog queries are the server's work)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(read_snapshot, first, scope)
        second_snapshot = read_snapshot(second, scope)
        return pending.result(), second_snapshot


def snapshots(work: Work, first: ScratchDatabase, second: ScratchDatabase) -> tuple[Snapshot, Snapshot]:
    """The snapshots of two scratch databases, read at once."""
    with (
        PsycopgExecutor(first.conninfo, label="a scratch database") as a,
        PsycopgExecutor(second.conninfo, label="a scratch database") as b,
    ):
        return read_both(a, b, work.scope)


def script(work: Work, name: str, sql: str) -> SqlScript:
    """A replay script for a file of the squashed migration (`up.sql`, `down.sql`)."""
    parsed = parse_sql(sql)
    path = work.migrations.directory / squash_folder_name(work) / name
    return SqlScript(
        version=work.selected[-1].version,
        name=f"{work.request.name} ({name})",
        path=path,
        sql=sql,
        statements=tuple(
            StatementSpan(s.start, s.end, s.line, s.transaction_control is not None)
            for s in parsed.statements
        ),
    )


def squash_folder_name(work: Work) -> str:
    """`<to>_<name>`: the squashed migration's folder."""
    return migration_folder_name(work.selected[-1].version, work.request.name)


def transaction_warnings(selected: Sequence[Migration]) -> list[str]:
    warnings = []
    for migration in selected:
        for finding in sql_findings(migration):
            if finding.code in ("non-transactional", "no-transaction-marker", "transaction-control"):
                warnings.append(f"{finding.location()}: {finding.message}")
    return warnings
