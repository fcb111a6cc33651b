"""The database half of `check`: replay each database's migrations on scratch and read what they build.

It needs only the migrations and databases.yaml (which databases exist, of which kind), not the
rest of the metadata, so `check` runs it in a thread while the metadata loads: the replay's work
happens in PostgreSQL (and initdb), the loading in Python, and the two overlap on two cores.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from kedge_hasura.actions.check.catalog import DatabaseCatalog, read_catalog
from kedge_hasura.actions.replay import project_preconditions, replay_migrations, script_from_file
from kedge_hasura.errors import ProjectError
from kedge_hasura.pg.replay import StepStatus, replay
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.project.layout import Project
from kedge_hasura.project.migrations import MigrationScan

Progress = Callable[[str], None]
# Source kinds whose databases are PostgreSQL (the others cannot be replayed here).
_POSTGRES_KINDS = {"postgres", "pg", "citus", "cockroach"}


@dataclass(frozen=True)
class Databases:
    """The databases declared in databases.yaml, and which of them to replay."""

    declared: set[str] | None  # None: databases.yaml is missing or does not load
    replay: list[str]
    reasons: list[str]  # why the others are not replayed


@dataclass(frozen=True)
class ReplayFailure:
    database: str
    version: int
    name: str
    path: Path | None
    line: int | None
    message: str
    hint: str | None


@dataclass
class ReplayOutcome:
    """Per database, the catalog it built, or why its migrations did not replay; then its seeds."""

    catalogs: dict[str, DatabaseCatalog] = field(default_factory=dict)
    failures: list[ReplayFailure] = field(default_factory=list)
    seeds_replayed: dict[str, int] = field(default_factory=dict)  # database → seed files that ran
    seed_failures: list[ReplayFailure] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def declared_databases(project: Project, *, only: str | None) -> Databases:
    """Read databases.yaml alone (config v2: the one database `default`): names and kinds are all
    the replay needs."""
    try:
        kinds = project.database_kinds()
    except ProjectError:
        kinds = None  # the metadata check reports the file
    if kinds is None:
        return Databases(
            declared=None, replay=[], reasons=["metadata/databases/databases.yaml does not load"]
        )
    declared = set(kinds)
    replay, reasons = [], []
    for name in sorted(kinds):
        if only is not None and name != only:
            continue
        if kinds[name] not in _POSTGRES_KINDS:
            reasons.append(f"database {name} is {kinds[name]}, not PostgreSQL")
        else:
            replay.append(name)
    return Databases(declared=declared, replay=replay, reasons=reasons)


def _replay_seeds(project: Project, name: str, conninfo: str, outcome: ReplayOutcome, say: Progress) -> None:
    """Run the database's seed files after its migrations, stopping at the first failure."""
    try:
        seeds = project.seeds_of(name)
    except ProjectError as exc:
        outcome.seed_failures.append(ReplayFailure(name, 0, "seeds", None, None, exc.message, exc.hint))
        return
    if not seeds:
        return
    say(f"replaying {len(seeds)} seed file{'s' if len(seeds) != 1 else ''} of {name}")
    scripts = [script_from_file(0, f"seed {seed.name}", seed.file) for seed in seeds]
    report = replay(conninfo, scripts)
    outcome.seeds_replayed[name] = sum(1 for step in report.steps if step.status is StepStatus.APPLIED)
    step = report.failed_step
    if step is not None and step.failure is not None:
        failure = step.failure
        outcome.seed_failures.append(
            ReplayFailure(name, 0, step.name, step.path, failure.line, failure.message, failure.hint)
        )


def replay_databases(
    names: list[str],
    scan: MigrationScan,
    cluster: Callable[[], ScratchCluster],
    say: Progress,
    project: Project | None = None,
) -> ReplayOutcome:
    """Replay each database's migrations on its own scratch database and read its catalog.

    Raises:
        ToolError, DatabaseError: no scratch PostgreSQL could be used.
        MigrationFailed: a migration needs an extension the scratch server lacks.
    """
    outcome = ReplayOutcome()
    if not names:
        return outcome
    with ExitStack() as stack:
        started = time.perf_counter()
        scratch = stack.enter_context(cluster())
        outcome.timings["scratch"] = time.perf_counter() - started
        started = time.perf_counter()
        for name in names:
            migrations = scan.databases[name].migrations
            with scratch.database("check") as database:
                say(f"replaying {len(migrations)} migration{'s' if len(migrations) != 1 else ''} of {name}")
                preconditions = project_preconditions(project, name) if project is not None else []
                report = replay_migrations(
                    scratch, database, migrations, raise_on_failure=False, preconditions=preconditions
                )
                step = report.failed_step
                if step is not None and step.failure is not None:
                    hint = scratch.missing_extension_hint(step.failure.message)
                    if hint is not None:
                        report.raise_for_failure(hint=hint)  # the scratch server, not the project, lacks it
                    failure = step.failure
                    outcome.failures.append(
                        ReplayFailure(
                            name,
                            step.version,
                            step.name,
                            step.path,
                            failure.line,
                            failure.message,
                            failure.hint,
                        )
                    )
                    continue
                say(f"reading the schema of {name}")
                outcome.catalogs[name] = read_catalog(
                    database.conninfo, label=f"the scratch database of {name}"
                )
                if project is not None:
                    # After the catalog is read: the metadata is checked against what the
                    # migrations build, as `hasura metadata apply` (run before seeds) sees it.
                    _replay_seeds(project, name, database.conninfo, outcome, say)
        outcome.timings["replay"] = time.perf_counter() - started
    return outcome
