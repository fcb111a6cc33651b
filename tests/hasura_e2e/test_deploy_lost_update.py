"""Catalog state has no compare-and-swap: a concurrent deploy's read-modify-write can overwrite
what this deploy recorded. These tests make the overwrite happen on purpose, deterministically, and
check that the state a deploy leaves agrees with the ledger anyway.

The interleavings are the ones a CI run of test_deploy_concurrent.py hit once (stop 17: version 8
left dirty after both deploys succeeded): a deploy that saw another's batch as CONCURRENT settled
its own versions with a read taken while the other's last batch was marked dirty, and its write
landed after the other had recorded that batch clean.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kedge_hasura.actions.deploy.keeper import StateKeeper
from kedge_hasura.actions.deploy.plan import StateFix
from kedge_hasura.hasura import HasuraClient
from kedge_hasura.hasura.cli_state import CliState

from ..hasura_double import HasuraDouble
from .deploy_helpers import Cli, client, run_sql, versions, write_project

V1, V2, V3 = 1000000000001, 1000000000002, 1000000000003


def _tables(count: int) -> list[tuple[int, str, str, None]]:
    create = "CREATE TABLE public.t{} (id integer PRIMARY KEY);\n"
    return [(V1 + n, f"t{n}", create.format(n), None) for n in range(count)]


def _deployed(cli: Cli, tmp_path: Path, count: int) -> Path:
    project = write_project(tmp_path / "p", _tables(count))
    run = cli.deploy(project, "--transaction", "each", "--skip-metadata")
    assert run.exit_code == 0, run
    return project


def _overwrite(double: HasuraDouble, recorded: dict[int, bool]) -> None:
    """What a concurrent deploy's late write leaves: the state it read earlier."""
    with client(double) as hasura:
        state = CliState(hasura.get_catalog_state().cli_state)
        for version in list(state.versions("default")):
            state.remove_version("default", version)
        for version, dirty in recorded.items():
            state.set_version("default", version, dirty=dirty)
        hasura.set_catalog_state(state.data)


def test_reconcile_cleans_a_committed_version_a_late_write_marked_dirty(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    _deployed(cli, tmp_path, 3)
    _overwrite(hasura_double, {V1: False, V2: False, V3: True})  # V3's dirty mark, written back late

    with client(hasura_double) as hasura:
        keeper = StateKeeper.read(hasura)
        # Even for a version this deploy neither committed nor saw committed: dirty + ledger is wrong.
        assert keeper.reconcile({"default": {V1, V2, V3}}) == {}

    assert versions(hasura_double) == {V1: False, V2: False, V3: False}


def test_reconcile_restores_versions_this_deploy_committed_or_saw_committed(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    _deployed(cli, tmp_path, 3)
    _overwrite(hasura_double, {V1: False})  # a write read before V2 and V3 were marked

    with client(hasura_double) as hasura:
        keeper = StateKeeper.read(hasura)
        # V2 this deploy committed; V3 was not in the ledger when it planned (another deploy's).
        assert keeper.reconcile({"default": {V1}}) == {}

    assert versions(hasura_double) == {V1: False, V2: False, V3: False}


def test_reconcile_records_every_ledger_version_even_one_removed_before_this_deploy(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    """`hasura migrate delete --version V2` (the ledger keeps V2): the ledger is the truth for what
    it holds, as deploy's plan and batch guard already treat it (a lost write looks the same)."""
    _deployed(cli, tmp_path, 3)
    _overwrite(hasura_double, {V1: False, V3: False})

    with client(hasura_double) as hasura:
        assert StateKeeper.read(hasura).reconcile({"default": {V1, V2, V3}}) == {}

    assert versions(hasura_double) == {V1: False, V2: False, V3: False}


def test_reconcile_removes_a_version_that_left_the_ledger_while_the_command_ran(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    """A rollback deleted V3's ledger row with its down while a late write recorded V3 again."""
    _deployed(cli, tmp_path, 3)
    run_sql(hasura_double, f"DELETE FROM kedge_hasura.migration_ledger WHERE version = {V3}")

    with client(hasura_double) as hasura:
        keeper = StateKeeper.read(hasura)
        assert keeper.reconcile({"default": None}) == {}  # the ledger as it started is unknown
        assert versions(hasura_double) == {V1: False, V2: False, V3: False}  # so V3 stays
        assert keeper.reconcile({"default": {V1, V2, V3}}) == {}

    assert versions(hasura_double) == {V1: False, V2: False}


class _RacingClient(HasuraClient):
    """A client whose first `racing` catalog-state writes are each followed by a concurrent
    deploy's late write of the state it read before (the lost update, every time)."""

    def __init__(self, double: HasuraDouble, stale: dict[int, bool], racing: int, **kwargs: Any):
        super().__init__(base_url=double.url, admin_secret=double.admin_secret, retry_backoff=0.0, **kwargs)
        self._double, self._stale, self.racing = double, stale, racing

    def set_catalog_state(self, state: Any, **kwargs: Any) -> None:
        super().set_catalog_state(state, **kwargs)
        if self.racing > 0:
            self.racing -= 1
            _overwrite(self._double, self._stale)


def test_reconcile_checks_again_after_its_own_repair_is_overwritten(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    _deployed(cli, tmp_path, 3)
    stale = {V1: False, V2: False, V3: True}
    _overwrite(hasura_double, stale)

    with _RacingClient(hasura_double, stale, racing=2) as hasura:
        assert StateKeeper.read(hasura).reconcile({"default": {V1, V2, V3}}) == {}
        assert hasura.racing == 0  # both repairs were overwritten; the third held

    assert versions(hasura_double) == {V1: False, V2: False, V3: False}


def test_reconcile_that_never_holds_says_which_versions_are_still_wrong(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    _deployed(cli, tmp_path, 3)
    stale = {V1: False, V2: True, V3: True}
    _overwrite(hasura_double, stale)

    with _RacingClient(hasura_double, stale, racing=100) as hasura:
        assert StateKeeper.read(hasura).reconcile({"default": {V1}}, attempts=3) == {"default": [V2, V3]}
        assert hasura.racing == 100 - 3


def test_a_deploy_whose_last_write_is_overwritten_still_leaves_its_versions_clean(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path, monkeypatch: Any
) -> None:
    """End to end: the deploy's final clean mark is overwritten once by a stale write that has
    its last version dirty; the deploy repairs it before it reports success."""
    _deployed(cli, tmp_path, 1)
    project = write_project(tmp_path / "more", _tables(3))
    writes: list[dict[str, Any]] = []
    original = HasuraClient.set_catalog_state

    def racing(self: HasuraClient, state: Any, **kwargs: Any) -> None:
        original(self, state, **kwargs)
        writes.append(state)
        if len(writes) == 4:  # dirty V2, clean V2, dirty V3, clean V3: then the stale write lands
            monkeypatch.setattr(HasuraClient, "set_catalog_state", original)
            _overwrite(hasura_double, {V1: False, V2: False, V3: True})
            monkeypatch.setattr(HasuraClient, "set_catalog_state", racing)

    monkeypatch.setattr(HasuraClient, "set_catalog_state", racing)
    run = cli.deploy(project, "--transaction", "each", "--skip-metadata")

    assert run.exit_code == 0, run
    assert len(writes) == 5  # the repair
    assert versions(hasura_double) == {V1: False, V2: False, V3: False}
    said = " ".join(run.output.split())
    assert "catalog state did not agree with the kedge-hasura ledger" in said, run
    assert f"recorded version {V3} as applied" in said, run  # the repair is said, not silent


def test_a_remove_fix_planned_before_another_deploy_committed_the_version_is_not_applied(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    """The plan saw V3 dirty and not in the ledger (another deploy about to apply it) and planned
    to remove its mark; by the time of this deploy's first write, V3 has committed. The write
    rechecks on the state and ledger as they are then, so V3 stays recorded."""
    _deployed(cli, tmp_path, 3)
    _overwrite(hasura_double, {V1: False, V2: False, V3: True})
    remove = StateFix(version=V3, action="remove", reason="not in the ledger when planned")

    with client(hasura_double) as hasura:
        StateKeeper.read(hasura).mark_dirty("default", [V3 + 1], [remove])
    assert versions(hasura_double) == {V1: False, V2: False, V3: False, V3 + 1: True}

    _overwrite(hasura_double, {V1: False, V2: False, V3: False})  # recorded clean meanwhile
    with client(hasura_double) as hasura:
        StateKeeper.read(hasura).mark_dirty("default", [V3 + 1], [remove])
    assert versions(hasura_double) == {V1: False, V2: False, V3: False, V3 + 1: True}


def test_a_final_check_that_cannot_read_the_ledger_is_said_and_the_deploy_still_succeeds(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    """Found by the fault campaign: a 500 on the final check's ledger read skipped the check in
    silence (exit 0). The migrations committed and were recorded: exit 0, with a warning."""
    _deployed(cli, tmp_path, 1)
    hasura_double.faults.reset_requests()
    second = cli.deploy(write_project(tmp_path / "two", _tables(2)), "--skip-metadata")
    assert second.exit_code == 0, second
    last_read = hasura_double.faults.requests["run_sql"]  # the final check's ledger read is the last
    hasura_double.faults.fail("run_sql", nth=last_read)

    run = cli.deploy(write_project(tmp_path / "three", _tables(3)), "--skip-metadata")

    assert run.exit_code == 0, run
    said = " ".join(run.output.split())
    assert "catalog state was not checked against the kedge-hasura ledger (" in said, run
    assert versions(hasura_double) == {V1: False, V2: False, V3: False}
