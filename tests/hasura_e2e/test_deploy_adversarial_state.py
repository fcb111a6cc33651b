"""Adversarial interleavings of deploys (and of rollback) against the claim of the keeper change:
after any number of concurrent deploys and rollbacks, catalog state agrees with the ledger (every
ledger version recorded clean, nothing dirty, no version recorded that left the ledger) and no
migration runs twice. Written by an adversarial review (helper-29); the five interleavings it
found that broke the claim now pass (keeper.reconcile covers every database in the state, failed
deploys that say nothing changed and rollback check too, and a version that left the ledger is
removed).

Each actor is the real action (`deploy`, `rollback`, `state.mark`) in its own thread with its own
HasuraClient; a `Script` holds an actor at a named request (`A.set1`: before A's first
`set_catalog_state`; `A.batch1`: before A's first migration batch) until the test releases it, so
every interleaving is exact and repeatable, with no sleeps. A pause before `setN` comes after the
read (and ledger read) of that read-modify-write: the write then lands late, from an old read.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.actions.deploy.apply import DeployRequest, DeployResult, deploy
from kedge_hasura.actions.deploy.rollback import RollbackRequest, rollback
from kedge_hasura.actions.deploy.state import mark
from kedge_hasura.errors import ExitCode, MigrationFailed
from kedge_hasura.hasura import HasuraClient
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.project.layout import open_project

from ..hasura_double import DoubleConfig, HasuraDouble
from .deploy_helpers import (
    LEDGER,
    Cli,
    add_migration,
    cli_state,
    client,
    exists,
    ledger_versions,
    run_sql,
    sql_rows,
    versions,
    write_project,
)

pytestmark = pytest.mark.pg

V0, V1, V2, V3 = 1000000000000, 1000000000001, 1000000000002, 1000000000003
_WAIT = 30.0  # seconds an actor or the test waits for the other side before the test fails


def _table(version: int, name: str, *, drop: bool = False) -> tuple[int, str, str, str | None]:
    return (
        version,
        name,
        f"CREATE TABLE public.{name} (id integer PRIMARY KEY);\n",
        (f"DROP TABLE public.{name};\n" if drop else None),
    )


class Script:
    """Named pause points shared by the actors of one test."""

    def __init__(self, *names: str):
        self._points = {name: (threading.Event(), threading.Event()) for name in names}

    def point(self, name: str) -> None:
        """Called by an actor at `name`: hold there if the test asked for it."""
        if name not in self._points:
            return
        reached, released = self._points[name]
        reached.set()
        if not released.wait(_WAIT):
            raise TimeoutError(f"{name} was never released")

    def reached(self, name: str) -> None:
        assert self._points[name][0].wait(_WAIT), f"{name} was never reached"

    def release(self, name: str) -> None:
        self._points[name][1].set()


class ScriptedClient(HasuraClient):
    """A HasuraClient that stops at the script's points: `<actor>.setN`, `<actor>.batchN` (before
    the request), `<actor>.getN` (after `get_catalog_state` answered)."""

    def __init__(self, double: HasuraDouble, script: Script, actor: str):
        super().__init__(base_url=double.url, admin_secret=double.admin_secret, retry_backoff=0.0)
        self._script, self._actor = script, actor
        self._counts = {"get": 0, "set": 0, "batch": 0}

    def _point(self, kind: str) -> None:
        self._counts[kind] += 1
        self._script.point(f"{self._actor}.{kind}{self._counts[kind]}")

    def get_catalog_state(self) -> Any:
        answer = super().get_catalog_state()
        self._point("get")
        return answer

    def set_catalog_state(self, state: Any, **kwargs: Any) -> None:
        self._point("set")
        super().set_catalog_state(state, **kwargs)

    def run_sql(self, sql: str, **kwargs: Any) -> Any:
        if "-- kedge-hasura: " in sql and "kedge-hasura probe" not in sql.lower():
            self._point("batch")
        return super().run_sql(sql, **kwargs)


class Actor(threading.Thread):
    """One command run in a thread; `outcome()` is its result or the exception it raised."""

    def __init__(self, work: Callable[[], Any]):
        super().__init__(daemon=True)
        self._work = work
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self._work()
        except BaseException as exc:  # handed to the test
            self.error = exc

    def outcome(self) -> Any:
        self.join(_WAIT)
        assert not self.is_alive(), "the actor did not finish"
        return self.error if self.error is not None else self.result


def _deploy_actor(double: HasuraDouble, script: Script, name: str, project: Path, **request: Any) -> Actor:
    def work() -> DeployResult:
        with ScriptedClient(double, script, name) as hasura:
            return deploy(open_project(project), hasura, DeployRequest(skip_metadata=True, **request))

    actor = Actor(work)
    actor.start()
    return actor


def _succeeded(actor: Actor) -> DeployResult:
    """A deploy that would have exited 0."""
    outcome = actor.outcome()
    assert isinstance(outcome, DeployResult), f"the deploy failed: {outcome!r}"
    assert not outcome.failed and outcome.ok and not any("disagrees" in w for w in outcome.warnings)
    return outcome


def _agrees(double: HasuraDouble, database: str = "default") -> None:
    """The claim: catalog state records exactly the ledger's versions, all clean."""
    assert versions(double, database) == dict.fromkeys(_ledger_of(double, database), False)


def _ledger_of(double: HasuraDouble, database: str) -> list[int]:
    rows = sql_rows(double, f"SELECT version::text FROM {LEDGER} ORDER BY version", source=database)
    return [int(row[0] or 0) for row in rows]


def _base(cli: Cli, tmp_path: Path) -> Path:
    """The server with V0 applied (so the ledger exists) from a project of V0 alone."""
    project = write_project(tmp_path / "base", [_table(V0, "t0")])
    run = cli.deploy(project, "--skip-metadata")
    assert run.exit_code == 0, run
    return project


def _branch(tmp_path: Path, name: str, *tables: tuple[int, str, str, str | None]) -> Path:
    return write_project(tmp_path / name, [_table(V0, "t0"), *tables])


# -- what holds ------------------------------------------------------------------------------------


@pytest.mark.parametrize("transaction", ["all", "each"])
def test_same_project_remove_fix_written_late_is_followed_by_the_writers_check(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path, transaction: str
) -> None:
    """B plans while A's batch is marked dirty (a 'remove' fix for V1, V2), reads state and ledger
    for its first write, and writes only after A committed, recorded and reconciled: B's write
    removes A's versions, B's batch hits the guard (CONCURRENT), B settles from the ledger."""
    _base(cli, tmp_path)
    project = _branch(tmp_path, "p", _table(V1, "t1"), _table(V2, "t2"))
    script = Script("A.batch1", "B.set1", "B.set2")

    a = _deploy_actor(hasura_double, script, "A", project, transaction=transaction)
    script.reached("A.batch1")  # V1 (and V2 with --transaction all) marked dirty
    b = _deploy_actor(hasura_double, script, "B", project, transaction=transaction)
    script.reached("B.set1")  # read the dirty marks and an empty ledger for them
    script.release("A.batch1")
    _succeeded(a)
    assert versions(hasura_double) == {V0: False, V1: False, V2: False}
    script.release("B.set1")
    script.reached("B.set2")
    marked = [V1, V2] if transaction == "all" else [V1]  # B's first batch, marked dirty
    assert versions(hasura_double) == {V0: False, **dict.fromkeys(marked, True)}  # A's record lost
    script.release("B.set2")
    notes = [note for db in _succeeded(b).databases for note in db.notes]
    assert any("applied meanwhile by another deploy" in note for note in notes)

    _agrees(hasura_double)
    assert ledger_versions(hasura_double) == [V0, V1, V2]


def test_two_branches_a_late_write_is_repaired_by_its_writer(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    """B (branch without V1) reads state before A marks V1, writes after A reconciled: V1 is erased
    and B's reconcile restores it (V1 was not in the ledger when B planned)."""
    _base(cli, tmp_path)
    script = Script("B.set1", "B.batch1")
    b = _deploy_actor(hasura_double, script, "B", _branch(tmp_path, "b", _table(V2, "t2")))
    script.reached("B.set1")
    _succeeded(_deploy_actor(hasura_double, script, "A", _branch(tmp_path, "a", _table(V1, "t1"))))
    script.release("B.set1")
    script.reached("B.batch1")
    assert versions(hasura_double) == {V0: False, V2: True}  # A's V1 lost to B's write
    script.release("B.batch1")
    _succeeded(b)

    _agrees(hasura_double)
    assert ledger_versions(hasura_double) == [V0, V1, V2]


def test_legacy_copy_by_two_deploys_with_a_late_write(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    """A server upgraded from config v2 (isStateCopyCompleted unset, V0 in schema_migrations):
    both deploys copy it; B's first write, read before A's, lands after A finished."""
    run_sql(
        hasura_double,
        "CREATE TABLE public.t0 (id integer PRIMARY KEY);\n"
        "CREATE TABLE hdb_catalog.schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);\n"
        f"INSERT INTO hdb_catalog.schema_migrations VALUES ({V0}, false);",
    )
    assert cli_state(hasura_double) == {}
    script = Script("B.set1")
    b = _deploy_actor(hasura_double, script, "B", _branch(tmp_path, "b", _table(V2, "t2")))
    script.reached("B.set1")
    _succeeded(_deploy_actor(hasura_double, script, "A", _branch(tmp_path, "a", _table(V1, "t1"))))
    script.release("B.set1")
    _succeeded(b)

    assert versions(hasura_double) == {V0: False, V1: False, V2: False}
    assert cli_state(hasura_double).get("isStateCopyCompleted") is True
    assert ledger_versions(hasura_double) == [V1, V2]  # V0 ran under the Hasura CLI


def test_mark_applied_during_a_deploy_survives_the_deploys_late_write(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    """`state mark-applied V1` (ledger row + state) between a deploy's plan and its first write:
    the deploy's write erases V1, its reconcile restores it (not in the ledger when it planned)."""
    _base(cli, tmp_path)
    run_sql(hasura_double, "CREATE TABLE public.t1 (id integer PRIMARY KEY);")  # applied by hand
    script = Script("D.set1")
    d = _deploy_actor(hasura_double, script, "D", _branch(tmp_path, "d", _table(V2, "t2")))
    script.reached("D.set1")
    with client(hasura_double) as hasura:
        mark(open_project(_branch(tmp_path, "m", _table(V1, "t1"))), hasura, database=None,
             version=V1, applied=True)  # fmt: skip
    script.release("D.set1")
    _succeeded(d)

    _agrees(hasura_double)
    assert ledger_versions(hasura_double) == [V0, V1, V2]


def test_hasura_migrate_delete_of_a_local_version_is_recorded_again_not_rerun(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    """`hasura migrate delete --version V1 --server` (state only) before a deploy of a project that
    has V1: the plan sees V1 pending, the ledger guard stops it running twice, and V1 is recorded
    clean again. (decisions.md says reconcile leaves such a version alone; the plan does not.)"""
    _base(cli, tmp_path)
    project = _branch(tmp_path, "p", _table(V1, "t1"))
    assert cli.deploy(project, "--skip-metadata").exit_code == 0
    with client(hasura_double) as hasura:
        hasura.update_cli_state(lambda state: state.remove_version("default", V1))
    add_migration(project, V2, "t2", "CREATE TABLE public.t2 (id integer PRIMARY KEY);\n")

    run = cli.deploy(project, "--skip-metadata")

    assert run.exit_code == 0, run
    _agrees(hasura_double)


# -- the findings ----------------------------------------------------------------------------------


def test_three_deploys_a_version_erased_twice_is_restored_by_the_last_writers_check(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    """E's late write erases C's dirty V2; C commits V2; D plans (V2 now in D's `known`) and reads
    state without V2; C records V2 clean and reconciles; D's write lands and erases V2 again. D's
    reconcile records V2 again: the ledger holds it (it once took it for `hasura migrate delete`
    and left it, the finding of helper-29's review). Three branches: E {V0,V1}, C {V0,V2}, D {V0,V3}."""
    _base(cli, tmp_path)
    script = Script("E.set1", "C.batch1", "C.set2", "D.set1")
    e = _deploy_actor(hasura_double, script, "E", _branch(tmp_path, "e", _table(V1, "t1")))
    script.reached("E.set1")  # E read {V0}
    c = _deploy_actor(hasura_double, script, "C", _branch(tmp_path, "c", _table(V2, "t2")))
    script.reached("C.batch1")  # state {V0, V2 dirty}
    script.release("E.set1")
    _succeeded(e)  # state {V0, V1}: V2 erased; E's reconcile: V2 not in the ledger yet
    script.release("C.batch1")
    script.reached("C.set2")  # V2 committed; C's settle write is held
    d = _deploy_actor(hasura_double, script, "D", _branch(tmp_path, "d", _table(V3, "t3")))
    script.reached("D.set1")  # D planned with V2 in the ledger, read state {V0, V1}
    script.release("C.set2")
    _succeeded(c)  # state {V0, V1, V2}; C's reconcile agrees
    script.release("D.set1")
    _succeeded(d)

    assert ledger_versions(hasura_double) == [V0, V1, V2, V3]
    _agrees(hasura_double)  # observed: V2 is missing from catalog state


def test_a_deploy_of_another_database_repairs_the_dirty_mark_it_wrote_back(
    cli_two: Cli, two_sources: HasuraDouble, tmp_path: Path
) -> None:
    """A deploys `default`, B deploys `other` (`--database`). B reads state while A's V1 is dirty,
    and writes after A reconciled `default` and exited. B's check covers every database in the
    state (its write replaced them all): V1 is recorded clean again (it once stayed dirty)."""
    project = write_project(tmp_path / "p", [_table(V0, "t0")])
    (project / "migrations" / "other").mkdir()
    databases = project / "metadata" / "databases" / "databases.yaml"
    databases.write_text(
        databases.read_text()
        + "- name: other\n  kind: postgres\n  configuration:\n    connection_info:\n"
        + "      database_url:\n        from_env: OTHER_DATABASE_URL\n  tables: []\n"
    )
    assert cli_two.deploy(project, "--skip-metadata").exit_code == 0
    add_migration(project, V1, "t1", "CREATE TABLE public.t1 (id integer PRIMARY KEY);\n")
    other = project / "migrations" / "other" / f"{V2}_u2"
    other.mkdir()
    (other / "up.sql").write_text("CREATE TABLE public.u2 (id integer PRIMARY KEY);\n")
    script = Script("A.batch1", "B.set1")

    a = _deploy_actor(two_sources, script, "A", project, databases=("default",))
    script.reached("A.batch1")  # default V1 dirty
    b = _deploy_actor(two_sources, script, "B", project, databases=("other",))
    script.reached("B.set1")
    script.release("A.batch1")
    _succeeded(a)
    script.release("B.set1")
    _succeeded(b)

    _agrees(two_sources, "other")
    _agrees(two_sources, "default")  # observed: {V0: clean, V1: dirty}


def test_a_failed_deploy_that_says_nothing_changed_restores_the_version_its_write_erased(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    """B (a bad migration) reads state before A starts; A deploys V1 and exits 0; B's dirty mark
    lands (V1 erased), its batch fails, it settles from the ledger and exits 3 'nothing from this
    batch was committed'. Nobody restores V1."""
    _base(cli, tmp_path)
    bad = (V2, "bad", "CREATE TABLE public.t2 (id integer PRIMARY KEY);\nSELECT 1/0;\n", None)
    script = Script("B.set1")
    b = _deploy_actor(hasura_double, script, "B", _branch(tmp_path, "b", bad))
    script.reached("B.set1")
    _succeeded(_deploy_actor(hasura_double, script, "A", _branch(tmp_path, "a", _table(V1, "t1"))))
    script.release("B.set1")
    failure = b.outcome()
    assert isinstance(failure, MigrationFailed) and failure.exit_code == ExitCode.FAILED, failure
    assert "nothing from this batch was committed" in (failure.hint or "")

    _agrees(hasura_double)  # observed: V1 in the ledger, missing from catalog state


def test_a_rollbacks_late_write_is_followed_by_its_check_which_restores_the_deploys_version(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    """rollback --steps 1 reads state {V0, V1}; a deploy commits and records V2 and exits 0; the
    rollback's first write lands from its old read: V2 is erased, and the deploy has already
    reconciled. (That write is `set_catalog_state` of the state read when rollback started, not a
    read-modify-write, which widens the window; a read-modify-write held here fails alike.)"""
    _base(cli, tmp_path)
    project = _branch(tmp_path, "p", _table(V1, "t1", drop=True))
    assert cli.deploy(project, "--skip-metadata").exit_code == 0
    add_migration(project, V2, "t2", "CREATE TABLE public.t2 (id integer PRIMARY KEY);\n")
    script = Script("R.set1")

    def undo() -> Any:
        with ScriptedClient(hasura_double, script, "R") as hasura:
            return rollback(open_project(project), hasura, RollbackRequest(steps=1))

    r = Actor(undo)
    r.start()
    script.reached("R.set1")
    _succeeded(_deploy_actor(hasura_double, script, "D", project))
    script.release("R.set1")
    assert r.outcome().versions == [V1]

    assert not exists(hasura_double, "public.t1")
    _agrees(hasura_double)  # observed: V2 in the ledger, missing from catalog state


def test_rollback_marks_dirty_on_the_state_as_it_is_not_as_it_was_when_it_started(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    """rollback reads state {V0, V1} and chooses V1; a whole deploy of V2 runs before rollback's
    first write. A read-modify-write keeps V2; `set_catalog_state` of the first read erases it."""
    _base(cli, tmp_path)
    project = _branch(tmp_path, "p", _table(V1, "t1", drop=True))
    assert cli.deploy(project, "--skip-metadata").exit_code == 0
    add_migration(project, V2, "t2", "CREATE TABLE public.t2 (id integer PRIMARY KEY);\n")
    script = Script("R.get1")

    def undo() -> Any:
        with ScriptedClient(hasura_double, script, "R") as hasura:
            return rollback(open_project(project), hasura, RollbackRequest(steps=1))

    r = Actor(undo)
    r.start()
    script.reached("R.get1")
    _succeeded(_deploy_actor(hasura_double, script, "D", project))
    script.release("R.get1")
    assert r.outcome().versions == [V1]

    assert versions(hasura_double) == {V0: False, V2: False}
    _agrees(hasura_double)


def test_a_deploys_late_write_of_a_rolled_back_version_is_removed_by_its_check(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    """A deploy reads state {V0, V1} for its dirty mark; rollback --steps 1 undoes V1 (table
    dropped, ledger row deleted, state without V1); the deploy's write lands with V1 clean.
    Reconcile looks only at ledger versions, so V1 stays recorded though it is not applied."""
    _base(cli, tmp_path)
    project = _branch(tmp_path, "p", _table(V1, "t1", drop=True))
    assert cli.deploy(project, "--skip-metadata").exit_code == 0
    add_migration(project, V2, "t2", "CREATE TABLE public.t2 (id integer PRIMARY KEY);\n")
    script = Script("D.set1")
    d = _deploy_actor(hasura_double, script, "D", project)
    script.reached("D.set1")
    with client(hasura_double) as hasura:
        assert rollback(open_project(project), hasura, RollbackRequest(steps=1)).versions == [V1]
    script.release("D.set1")
    _succeeded(d)

    assert not exists(hasura_double, "public.t1")
    assert ledger_versions(hasura_double) == [V0, V2]
    _agrees(hasura_double)  # observed: V1 recorded clean, not in the ledger, its table gone


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def two_sources(pg_cluster: ScratchCluster) -> Iterator[HasuraDouble]:
    """A double with a second source, `other`."""
    with pg_cluster.database("hasura") as meta, pg_cluster.database("other") as other:
        config = DoubleConfig(
            database_url=meta.conninfo,
            admin_secret=f"double-{secrets.token_hex(12)}",
            extra_sources={"other": other.conninfo},
        )
        with HasuraDouble(config) as double:
            yield double


@pytest.fixture
def cli_two(run_cli, two_sources: HasuraDouble) -> Cli:  # type: ignore[no-untyped-def]
    return Cli(run_cli, two_sources)
