"""`kedge-hasura deploy` when Hasura fails at each step, then a second deploy that recovers.

Faults come from the double (tests/hasura_double/faults.py): an answer replaced by an error
(the operation NOT performed), a connection reset AFTER the operation committed, an answer held
past the client's timeout. After every fault the next deploy must leave what a clean deploy
leaves: each version recorded clean, one ledger row each, the schema complete, metadata applied
and consistent, and `verify` happy; nothing may be applied twice (the SQL would fail with
"already exists", and the ledger's primary key would refuse a second row).

Request order of a deploy on a fresh double (what `nth` counts), for the 17 originals in one batch:
    run_sql:           1 legacy schema_migrations check, 2 ledger read, 3 the batch
    set_catalog_state: 1 legacy copy done, 2 dirty marks, 3 clean marks
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kedge_hasura.actions.deploy import ledger as ledger_sql

from ..hasura_double import HasuraDouble
from .deploy_helpers import (
    KEDGE_RELATIONS,
    KEDGE_SCHEMA,
    Cli,
    add_migration,
    assert_deployed,
    exists,
    keep_first,
    ledger,
    ledger_versions,
    project_versions,
    relations,
    run_sql,
    snapshot,
    tracked_tables,
    versions,
    write_project,
)

pytestmark = pytest.mark.pg

BATCH = 4  # the batch's run_sql on a fresh double (legacy state, ledger read, ledger creation)
DIRTY_WRITE, CLEAN_WRITE = 1, 2  # set_catalog_state on a fresh double (the legacy copy rides on the first)


def _recovers(
    cli: Cli, double: HasuraDouble, project: Path, *, applied: int, settled: bool = False, verify: bool = True
) -> None:
    """The second deploy: exit 0, `applied` migrations run, and the end state of a clean deploy
    (with `verify`: also the live schema compared with the migrations replayed)."""
    assert not double.faults._armed, "a fault was armed but never fired"
    run = cli.deploy(project)
    assert run.exit_code == 0, run
    assert f"deployed: {applied} migration{'' if applied == 1 else 's'} applied" in run.stdout
    if settled:
        assert "settled" in run.stdout and "mark-clean" in run.stdout
    assert_deployed(double, project_versions(project))
    if verify:
        verified = cli(project, "verify")
        assert verified.exit_code == 0, verified


def _nothing_applied(double: HasuraDouble) -> None:
    assert versions(double) == {}
    # The ledger is created before the first dirty mark, so it may exist, but empty.
    assert ledger(double) in (None, [])
    assert relations(double, KEDGE_SCHEMA) == set()


# -- the batch's answer is lost ---------------------------------------------------------------------


def test_connection_dropped_after_the_batch_committed_is_settled_from_the_ledger_at_once(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, use_session_server: str
) -> None:
    hasura_double.faults.drop_connection_after("run_sql", nth=BATCH)

    run = cli.deploy(kedge_project)

    # The ledger, read right away, proves the batch committed: the deploy finishes normally.
    assert run.exit_code == 0, run
    assert [fault.operation for fault in hasura_double.faults.fired] == ["run_sql"]
    assert "deployed: 17 migrations applied" in run.stdout
    assert_deployed(hasura_double, project_versions(kedge_project))
    _recovers(cli, hasura_double, kedge_project, applied=0)


def test_connection_dropped_and_the_ledger_unreadable_leaves_dirty_versions_the_next_deploy_settles(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, use_session_server: str
) -> None:
    originals = project_versions(kedge_project)
    hasura_double.faults.drop_connection_after("run_sql", nth=BATCH)
    hasura_double.faults.fail("run_sql", nth=BATCH + 1)  # the ledger read that follows

    run = cli.deploy(kedge_project)

    assert run.exit_code == 5, run  # dirty marks or commits stay: not "changed nothing"
    assert "whether the batch committed is unknown" in run.stderr
    assert "run `kedge-hasura deploy` again" in run.stderr
    # Committed but not recorded clean: dirty marks, never a wrong "applied" or "not applied".
    assert versions(hasura_double) == dict.fromkeys(originals, True)
    assert ledger_versions(hasura_double) == originals
    assert relations(hasura_double, KEDGE_SCHEMA) == KEDGE_RELATIONS
    _recovers(cli, hasura_double, kedge_project, applied=0, settled=True)


def test_an_answer_delayed_past_the_timeout_is_settled_from_the_ledger(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, use_session_server: str
) -> None:
    hasura_double.faults.delay("run_sql", 4.0, nth=BATCH)

    run = cli.deploy(kedge_project, timeout=1.5)

    assert run.exit_code == 0, run
    assert "deployed: 17 migrations applied" in run.stdout
    assert_deployed(hasura_double, project_versions(kedge_project))
    _recovers(cli, hasura_double, kedge_project, applied=0)


SLOW = "SELECT pg_sleep(3);\nCREATE TABLE public.slow (id integer PRIMARY KEY);\n"


def _slow_project(cli: Cli, tmp_path: Path) -> Path:
    """A project whose first migration is deployed (so the ledger exists) and whose second takes 3 s."""
    project = write_project(
        tmp_path / "slow",
        [(1000000000001, "fast", "CREATE TABLE public.fast (id integer PRIMARY KEY);\n", None)],
    )
    assert cli.deploy(project, "--skip-metadata").exit_code == 0
    add_migration(project, 1000000000002, "slow", SLOW)
    return project


def _wait_for_running_batches(double: HasuraDouble) -> None:
    """Block until no deploy holds kedge-hasura's advisory lock (the slow batch has committed)."""
    run_sql(double, ledger_sql.prelude([]))


def test_a_batch_still_running_at_the_timeout_is_settled_by_the_next_deploy(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _slow_project(cli, tmp_path)

    run = cli.deploy(project, "--skip-metadata", timeout=1.5)

    assert run.exit_code == 5, run  # dirty marks or commits stay: not "changed nothing"
    assert "did not answer run_sql within 1.5 s" in run.stderr
    _wait_for_running_batches(hasura_double)
    assert ledger_versions(hasura_double) == [1000000000001, 1000000000002]  # it did commit, later
    again = cli.deploy(project, "--skip-metadata")
    assert again.exit_code == 0, again
    assert "deployed: 0 migrations applied" in again.stdout
    assert versions(hasura_double) == {1000000000001: False, 1000000000002: False}
    assert ledger_versions(hasura_double) == [1000000000001, 1000000000002]


def test_a_batch_still_running_at_the_timeout_is_not_reported_as_not_applied(
    cli: Cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:
    project = _slow_project(cli, tmp_path)

    run = cli.deploy(project, "--skip-metadata", timeout=1.5)
    recorded = versions(hasura_double)
    _wait_for_running_batches(hasura_double)

    assert run.exit_code == 5, run  # dirty marks or commits stay: not "changed nothing"
    # The SQL was still running when the client gave up: its outcome was unknown, not "nothing".
    assert "nothing was applied" not in run.stderr
    assert recorded.get(1000000000002) is True  # left dirty, for the next deploy to settle


# -- catalog state writes fail ---------------------------------------------------------------------


def test_a_500_on_the_dirty_mark_write_applies_nothing(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, use_session_server: str
) -> None:
    hasura_double.faults.fail("set_catalog_state", nth=DIRTY_WRITE)

    run = cli.deploy(kedge_project)

    assert run.exit_code == 3, run
    assert "set_catalog_state" in run.stderr
    _nothing_applied(hasura_double)
    _recovers(cli, hasura_double, kedge_project, applied=17)


def test_a_500_on_the_clean_mark_write_leaves_dirty_versions_the_next_deploy_settles(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, use_session_server: str
) -> None:
    originals = project_versions(kedge_project)
    hasura_double.faults.fail("set_catalog_state", nth=CLEAN_WRITE)

    run = cli.deploy(kedge_project)

    assert run.exit_code == 5, run  # dirty marks or commits stay: not "changed nothing"
    assert versions(hasura_double) == dict.fromkeys(originals, True)
    assert ledger_versions(hasura_double) == originals
    assert relations(hasura_double, KEDGE_SCHEMA) == KEDGE_RELATIONS
    assert tracked_tables(hasura_double) == set()  # the metadata step never ran
    _recovers(cli, hasura_double, kedge_project, applied=0, settled=True)


def test_connection_dropped_after_the_clean_mark_write(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, use_session_server: str
) -> None:
    hasura_double.faults.drop_connection_after("set_catalog_state", nth=CLEAN_WRITE)

    run = cli.deploy(kedge_project)

    assert run.exit_code == 5, run  # dirty marks or commits stay: not "changed nothing"
    assert versions(hasura_double) == dict.fromkeys(project_versions(kedge_project), False)
    _recovers(cli, hasura_double, kedge_project, applied=0, verify=False)


def test_a_500_on_the_first_catalog_state_read_changes_nothing(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, use_session_server: str
) -> None:
    before = snapshot(hasura_double)
    hasura_double.faults.fail("get_catalog_state", nth=1)

    run = cli.deploy(kedge_project)

    assert run.exit_code == 3, run
    assert snapshot(hasura_double) == before
    _recovers(cli, hasura_double, kedge_project, applied=17, verify=False)


# -- the batch itself is refused by something other than PostgreSQL -------------------------------


def test_a_500_on_the_batch_after_an_earlier_deploy_is_recovered(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, shipped_project: Path, use_session_server: str
) -> None:
    # A server that kedge-hasura deployed to before (its ledger exists): the first 3 originals.
    full = project_versions(kedge_project)
    keep_first(kedge_project, 3)
    assert cli.deploy(kedge_project, "--skip-metadata").exit_code == 0
    hasura_double.faults.fail("run_sql", nth=2)  # ledger read, then the batch (state copy is done)

    before = versions(hasura_double)

    run = cli.deploy(shipped_project)

    # The ledger shows the batch did not commit, so the dirty marks are taken back: catalog
    # state is as before and "changed nothing" (exit 3) is true.
    assert run.exit_code == 3, run
    assert versions(hasura_double) == before
    assert ledger_versions(hasura_double) == full[:3]
    assert not exists(hasura_double, f"{KEDGE_SCHEMA}.attachments")
    again = cli.deploy(shipped_project)
    assert again.exit_code == 0, again
    assert "settled" not in again.stdout
    assert "deployed: 14 migrations applied" in again.stdout
    assert_deployed(hasura_double, full)


def test_a_500_on_the_first_batch_of_a_fresh_server_is_recovered(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, use_session_server: str
) -> None:
    hasura_double.faults.fail("run_sql", nth=BATCH)

    run = cli.deploy(kedge_project)

    assert run.exit_code == 3, run  # settled from the ledger: nothing recorded, nothing committed
    assert versions(hasura_double) == {}
    _recovers(cli, hasura_double, kedge_project, applied=17)


def test_a_401_on_the_batch_leaves_state_safe(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, shipped_project: Path
) -> None:
    # The secret rotated in the middle of a deploy: nothing of the batch ran.
    keep_first(kedge_project, 2)
    assert cli.deploy(kedge_project, "--skip-metadata").exit_code == 0
    hasura_double.faults.fail(
        "run_sql",
        nth=2,
        status=401,
        body={
            "path": "$",
            "error": "invalid x-hasura-admin-secret/x-hasura-access-key",
            "code": "access-denied",
        },
    )

    before = versions(hasura_double)

    run = cli.deploy(shipped_project)

    assert run.exit_code == 3, run  # the marks were settled from the ledger: state as before
    assert "admin secret" in run.stderr
    assert len(ledger_versions(hasura_double)) == 2
    assert versions(hasura_double) == before
    again = cli.deploy(shipped_project)
    assert again.exit_code == 0, again
    assert "deployed: 15 migrations applied" in again.stdout


def test_an_error_answer_after_the_batch_committed_is_reported_as_committed(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, use_session_server: str
) -> None:
    # A checked run_sql fails its metadata check AFTER the commit (contract §2.4); a proxy's 5xx
    # after the server answered looks the same. The ledger says the batch committed.
    originals = project_versions(kedge_project)
    error = "cannot continue due to new inconsistent metadata"
    body = {"path": "$.args", "code": "unexpected", "error": error}
    hasura_double.faults.fail_after("run_sql", nth=BATCH, status=400, body=body)

    run = cli.deploy(kedge_project)

    assert run.exit_code == 5, run  # committed: never "changed nothing"
    assert error in run.stderr
    assert "the 17 migrations listed as committed stay applied and recorded" in run.stderr
    assert versions(hasura_double) == dict.fromkeys(originals, False)  # settled clean, not dirty
    assert ledger_versions(hasura_double) == originals
    _recovers(cli, hasura_double, kedge_project, applied=0)


# -- the metadata step fails -------------------------------------------------------------------------


def test_a_409_on_replace_metadata_keeps_the_migrations_and_the_next_deploy_applies_the_metadata(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, use_session_server: str
) -> None:
    hasura_double.faults.fail(
        "replace_metadata",
        status=409,
        body={
            "path": "$",
            "error": "metadata resource version referenced (1) did not match current version",
            "code": "conflict",
        },
    )

    run = cli.deploy(kedge_project)

    assert run.exit_code == 5, run  # dirty marks or commits stay: not "changed nothing"
    assert "did not match" in run.stderr or "conflict" in run.stderr
    assert versions(hasura_double) == dict.fromkeys(project_versions(kedge_project), False)
    assert tracked_tables(hasura_double) == set()
    _recovers(cli, hasura_double, kedge_project, applied=0)


def test_a_500_on_reload_metadata_is_recovered(
    cli: Cli, hasura_double: HasuraDouble, kedge_project: Path, use_session_server: str
) -> None:
    hasura_double.faults.fail("reload_metadata")

    run = cli.deploy(kedge_project)

    assert run.exit_code == 5, run  # dirty marks or commits stay: not "changed nothing"
    _recovers(cli, hasura_double, kedge_project, applied=0, verify=False)
