"""`verify`: the live database is what the migrations build, its state agrees with its ledger, and
its metadata is consistent.

The live schema is read through Hasura's run_sql (read-only, hasura.schema.RunSqlExecutor) and
compared with the project's migrations replayed on a scratch database, with the same comparator
as `diff`. State problems: dirty or pending versions, versions the ledger shows applied but catalog
state lost, and applied migrations edited since.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from pydantic import BaseModel

from kedge_hasura.actions.deploy import ledger as ledger_sql
from kedge_hasura.actions.deploy.migration_state import compare_state
from kedge_hasura.actions.deploy.plan import edited_versions, unsettleable_dirty
from kedge_hasura.actions.replay import project_preconditions, replay_migrations
from kedge_hasura.findings import Severity
from kedge_hasura.hasura.cli_state import CliState
from kedge_hasura.hasura.client import HasuraClient
from kedge_hasura.hasura.models import InconsistentObject
from kedge_hasura.hasura.schema import RunSqlExecutor
from kedge_hasura.pg.catalog import PsycopgExecutor
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.project.layout import Project
from kedge_hasura.project.migrations import DatabaseMigrations
from kedge_hasura.schemadiff.compare import SchemaDiff, compare
from kedge_hasura.schemadiff.model import Extension, Snapshot
from kedge_hasura.schemadiff.snapshot import Scope, read_snapshot
from kedge_hasura.words import listing, noun, plural, verb

Progress = Callable[[str], None]


class DatabaseVerification(BaseModel):
    database: str
    schema_diff: SchemaDiff
    state_problems: list[str] = []
    notes: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.schema_diff.failing(Severity.WARNING) and not self.state_problems


class VerifyResult(BaseModel):
    databases: list[DatabaseVerification]
    metadata_consistent: bool
    inconsistent_objects: list[InconsistentObject] = []

    @property
    def ok(self) -> bool:
        return self.metadata_consistent and all(db.ok for db in self.databases)


def verify(
    project: Project,
    client: HasuraClient,
    *,
    cluster: Callable[[], ScratchCluster],
    database: str | None = None,
    progress: Progress | None = None,
) -> VerifyResult:
    """Check every database (or one) of the project against the live server.

    Raises:
        ProjectError: the migrations have errors.
        MigrationFailed: a local migration fails to replay on the scratch database.
        HasuraError: the server cannot be read.
    """
    say = progress or (lambda message: None)
    chosen = project.databases(database)
    state = CliState(client.get_catalog_state().cli_state)
    results = []
    with cluster() as scratch:
        for migrations in chosen:
            name = migrations.database
            say(f"{name}: replaying {len(migrations.migrations)} migrations and reading the live schema")
            with scratch.database("verify") as replayed:
                replay_migrations(
                    scratch,
                    replayed,
                    migrations.migrations,
                    preconditions=project_preconditions(project, name),
                )
                with PsycopgExecutor(replayed.conninfo, label="the replayed migrations") as local:
                    expected = read_snapshot(local, Scope())
            live = read_snapshot(RunSqlExecutor(client, source=name), Scope())
            expected = _without_absent(expected, live, scratch.preconditions.extensions)
            diff = compare(expected, live, source_label="migrations", target_label=f"hasura:{name}")
            results.append(_state(migrations, state, ledger_sql.read_ledger(client, name), diff))
    report = client.get_inconsistent_metadata()
    return VerifyResult(
        databases=results,
        metadata_consistent=report.is_consistent,
        inconsistent_objects=report.inconsistent_objects,
    )


def dirty_problems(migrations: DatabaseMigrations, dirty: list[int], ledger: ledger_sql.Ledger) -> list[str]:
    """One state problem per kind of dirty version, each with the fix that works: deploy settles
    those the ledger can decide, and refuses the others (plan.unsettleable_dirty)."""
    manual = unsettleable_dirty(migrations, dirty, ledger)
    settled = [v for v in dirty if v not in manual]
    problems = []
    if settled:
        problems.append(f"{_dirty(settled)} (`kedge-hasura deploy` settles {_them(settled)})")
    if manual:
        v = str(manual[0]) if len(manual) == 1 else "V"
        problems.append(
            f"{_dirty(manual)}, and the ledger cannot tell whether {_it(manual)} committed (check the "
            f"database, then run `kedge-hasura state mark-applied {v}` or "
            f"`kedge-hasura state mark-unapplied {v}`)"
        )
    return problems


def _dirty(versions: list[int]) -> str:
    return f"dirty version{'' if len(versions) == 1 else 's'}: {', '.join(map(str, versions))}"


def _them(versions: list[int]) -> str:
    return "it" if len(versions) == 1 else "them"


def _it(versions: list[int]) -> str:
    return "it" if len(versions) == 1 else "they"


def _state(
    migrations: DatabaseMigrations, state: CliState, ledger: ledger_sql.Ledger, diff: SchemaDiff
) -> DatabaseVerification:
    database = migrations.database
    recorded = state.versions(database)
    compared = compare_state(migrations, recorded)
    result = DatabaseVerification(database=database, schema_diff=diff)
    result.state_problems.extend(dirty_problems(migrations, list(compared.dirty), ledger))
    if compared.pending:
        result.state_problems.append(
            f"pending {noun(len(compared.pending), 'version')}: {', '.join(map(str, compared.pending))}"
        )
    # Originals of a squash whose consolidated migration is recorded may be pruned from state.
    replaced = {v for s in compared.squashes if s.consolidated_version in recorded for v in s.versions}
    lost = [v for v in ledger.entries if v not in recorded and v not in replaced]
    if lost:
        result.state_problems.append(
            f"the ledger shows {listing('version', sorted(lost))} applied, but catalog state "
            "does not record them (`kedge-hasura state mark-applied` restores them)"
        )
    unledgered = [v for v in recorded if v not in ledger.entries]
    if unledgered and ledger.exists:
        result.notes.append(
            f"{plural(len(unledgered), 'recorded version')} {verb(len(unledgered), 'was', 'were')} "
            "applied without kedge-hasura (no ledger row)"
        )
    edited = edited_versions(migrations, compared, ledger)
    if edited:
        result.state_problems.append(
            f"applied {noun(len(edited), 'migration')} edited since "
            f"{verb(len(edited), 'it was', 'they were')} applied: " + ", ".join(map(str, edited))
        )
    return result


def _without_absent(expected: Snapshot, live: Snapshot, hasura_extensions: tuple[str, ...]) -> Snapshot:
    """`expected` without the Hasura-precondition extensions (pgcrypto) that the live database lacks.

    The scratch database gets them because Hasura installs them, but on a database Hasura only
    reaches as a data source it does so only when that database is also the metadata database or
    has event triggers (hasura-facts-2026-12). A migration that creates one would have created it
    live as well, so one missing live was never the migrations' to make: it is no drift.
    """
    absent = {(name,) for name in hasura_extensions} - set(live.of_kind(Extension.KIND))
    if not absent:
        return expected
    objects = dict(expected.objects)
    objects[Extension.KIND] = {k: v for k, v in expected.of_kind(Extension.KIND).items() if k not in absent}
    return dataclasses.replace(expected, objects=objects)
