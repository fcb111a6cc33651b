"""Two `kedge-hasura deploy` processes at once against one server.

Both start from the same (empty) state and plan the same batch. The batch's advisory lock makes
them take turns; the loser's concurrent-deploy guard fires, it settles its state from the ledger
and re-plans to nothing. Whatever the interleaving: every migration runs exactly once, the state
ends clean, and neither process prints the admin secret.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from kedge_hasura.pg.scratch import ScratchCluster

from ..hasura_double import DoubleConfig, HasuraDouble
from .deploy_helpers import (
    Cli,
    assert_deployed,
    client,
    deploy_process,
    keep_first,
    ledger_versions,
    project_versions,
    sql_rows,
    versions,
    write_project,
)

pytestmark = pytest.mark.pg

ROUNDS = 1  # more interleavings: the 4-process round of test_fault_campaign.py and bench/fault_campaign.py
_TIMEOUT = 60


def _both(double: HasuraDouble, project: Path, *args: str) -> list[tuple[int, str, str]]:
    processes = [deploy_process(double, project, *args) for _ in range(2)]
    results = []
    for process in processes:
        try:
            out, err = process.communicate(timeout=_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        results.append((process.returncode, out, err))
    return results


def _finishes(process: subprocess.Popen[str]) -> None:
    out, err = process.communicate(timeout=_TIMEOUT)
    assert process.returncode == 0, (out, err)


def _check(results: list[tuple[int, str, str]], secret: str) -> tuple[int, int]:
    """Both succeed (or the loser says clearly why not); returns the applied counts."""
    applied = []
    for code, out, err in results:
        assert secret not in out + err, "the admin secret was printed"
        assert "Traceback" not in err, err
        if code != 0:  # allowed only with a message saying another deploy was running
            assert code == 3 and "another deploy" in err, (code, out, err)
            applied.append(0)
            continue
        assert "deployed:" in out, out
        applied.append(int(out.rsplit("deployed: ", 1)[1].split()[0]))
    return applied[0], applied[1]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_two_concurrent_deploys_apply_every_migration_exactly_once(
    pg_cluster: ScratchCluster, kedge_project: Path, tmp_path: Path, round_: int
) -> None:
    everything = project_versions(kedge_project)
    secret = f"concurrent-{secrets.token_hex(8)}"
    with (
        pg_cluster.database("hasura") as database,
        HasuraDouble(DoubleConfig(database_url=database.conninfo, admin_secret=secret)) as double,
    ):
        # A server kedge-hasura deployed to before (its first migration, so the ledger exists); on a
        # fresh server a loser can also fail: see test_a_deploy_meeting_another_in_flight_*.
        first = tmp_path / "first" / "hasura"
        shutil.copytree(kedge_project, first)
        keep_first(first, 1)
        _finishes(deploy_process(double, first, "--skip-metadata"))

        results = _both(double, kedge_project)

        applied = _check(results, secret)
        assert sorted(applied) == [0, 16], results  # applied once, by exactly one of them
        assert_deployed(double, everything)
        assert double.faults.requests["replace_metadata"] == 2


def test_two_concurrent_deploys_one_transaction_each(pg_cluster: ScratchCluster, tmp_path: Path) -> None:
    """With --transaction each the two processes can interleave batch by batch."""
    secret = f"concurrent-{secrets.token_hex(8)}"
    migrations = [
        (1000000000000 + n, f"t{n}", f"CREATE TABLE public.t{n} (id integer PRIMARY KEY);\n"
         f"INSERT INTO public.t{n} VALUES (1);\n", None)
        for n in range(1, 9)
    ]  # fmt: skip
    project = write_project(tmp_path / "each", migrations)
    with (
        pg_cluster.database("hasura") as database,
        HasuraDouble(DoubleConfig(database_url=database.conninfo, admin_secret=secret)) as double,
    ):
        first = write_project(tmp_path / "first", migrations[:1])  # so the ledger exists (see above)
        _finishes(deploy_process(double, first, "--skip-metadata"))

        results = _both(double, project, "--transaction", "each", "--skip-metadata")

        applied = _check(results, secret)
        assert sum(applied) == 7, results
        expected = [version for version, *_ in migrations]
        assert versions(double) == dict.fromkeys(expected, False)
        assert ledger_versions(double) == expected
        for n in range(1, 9):  # an INSERT run twice would have failed on the primary key, or doubled
            assert sql_rows(double, f"SELECT count(*)::text FROM public.t{n}") == [["1"]]


SLOW_FIRST = "SELECT pg_sleep(3);\nCREATE TABLE public.slow (id integer PRIMARY KEY);\n"


def test_a_deploy_meeting_another_in_flight_on_a_fresh_server_waits_or_says_so(
    run_cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    project = write_project(
        tmp_path / "slow",
        [
            (1000000000001, "slow", SLOW_FIRST, None),
            (1000000000002, "fast", "CREATE TABLE public.fast (id integer PRIMARY KEY);\n", None),
        ],
    )
    cli = Cli(run_cli, hasura_double)
    other = deploy_process(hasura_double, project, "--skip-metadata")
    try:
        deadline = time.monotonic() + 30
        while not any(versions(hasura_double).values()):  # the other deploy has marked its batch dirty
            assert other.poll() is None and time.monotonic() < deadline, other.communicate()
            time.sleep(0.05)

        run = cli.deploy(project, "--skip-metadata")
    finally:
        out, err = other.communicate(timeout=_TIMEOUT)
    assert other.returncode == 0, (out, err)
    assert not cli.secrets_leaked()
    # Correct: wait for the other deploy (then nothing is left to do), or refuse naming it.
    assert run.exit_code == 0 or "another deploy" in run.stderr, run
    assert "interrupted" not in run.stderr, run


def test_a_deploy_settling_while_another_finishes_does_not_lose_its_versions(
    run_cli, hasura_double: HasuraDouble, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Two branches deploy at once: A has migration 1, B has migration 2 (different versions).
    first = (1000000000001, "alpha", "CREATE TABLE public.alpha (id integer PRIMARY KEY);\n", None)
    second = (1000000000002, "beta", "CREATE TABLE public.beta (id integer PRIMARY KEY);\n", None)
    branch_a = write_project(tmp_path / "a", [first])
    branch_b = write_project(tmp_path / "b", [first, second])
    cli = Cli(run_cli, hasura_double)
    with client(hasura_double) as hasura:  # a server the CLI has used: no legacy copy
        hasura.set_catalog_state({"isStateCopyCompleted": True, "settings": {"migration_mode": "true"}})
    # A's clean-mark write reads the state, then (its answer held by the double) writes it 3 s later.
    hasura_double.faults.delay("get_catalog_state", 3.0, nth=2)
    other = deploy_process(hasura_double, branch_a, "--skip-metadata")
    try:
        deadline = time.monotonic() + 30
        while not hasura_double.faults.fired:
            assert other.poll() is None and time.monotonic() < deadline, other.communicate()
            time.sleep(0.05)

        run = cli.deploy(branch_b, "--skip-metadata")  # B runs to the end meanwhile
    finally:
        out, err = other.communicate(timeout=_TIMEOUT)
    assert (other.returncode, run.exit_code) == (0, 0), (out, err, run)
    assert ledger_versions(hasura_double) == [1000000000001, 1000000000002]
    # What `hasura migrate status` reads must still show both.
    assert versions(hasura_double) == {1000000000001: False, 1000000000002: False}
