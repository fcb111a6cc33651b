"""The never-committing text of `deploy --rehearse` and how its sentinel is recognised (no server)."""

from __future__ import annotations

from pathlib import Path

from kedge_hasura.actions.deploy import ledger
from kedge_hasura.actions.deploy.plan import Step
from kedge_hasura.actions.deploy.rehearse import SENTINEL_MESSAGE, RehearseRequest, rehearsal_sql
from kedge_hasura.errors import HasuraPostgresError


def _error(sqlstate: str | None, message: str | None) -> HasuraPostgresError:
    return HasuraPostgresError(
        "query execution failed", sqlstate=sqlstate, pg_message=message, pg_hint=None, pg_detail=None,
        statement=None, status=400, code="postgres-error", error="query execution failed", path="$.args",
    )  # fmt: skip


def _step(version: int, sql: str) -> Step:
    return Step(
        version=version, name=f"m{version}", path=Path(f"{version}_m/up.sql"), origin="migrations", sql=sql,
        sha256="x",
    )  # fmt: skip


def test_the_sentinel_is_recognised_by_sqlstate_and_message_together() -> None:
    assert ledger.is_sentinel(_error("P0K01", SENTINEL_MESSAGE), SENTINEL_MESSAGE)
    # A migration's own RAISE with the same words, and our code with other words, are failures.
    assert not ledger.is_sentinel(_error("P0001", SENTINEL_MESSAGE), SENTINEL_MESSAGE)
    assert not ledger.is_sentinel(_error("P0K01", "something else"), SENTINEL_MESSAGE)
    # Hidden `internal`: nothing to match, so never taken for the sentinel.
    assert not ledger.is_sentinel(_error(None, None), SENTINEL_MESSAGE)


def test_the_deploy_probe_is_matched_by_sqlstate_too() -> None:
    assert ledger.is_probe(_error("P0K01", ledger.PROBE))
    assert not ledger.is_probe(_error("P0001", ledger.PROBE))
    assert "ERRCODE = 'P0K01'" in ledger.probe()


def test_the_text_sets_timeouts_first_and_ends_with_the_sentinel() -> None:
    steps = [
        _step(1, "CREATE TABLE a (id int);\nCREATE TABLE b (id int);"),
        _step(2, "CREATE TABLE c (id int);"),
    ]
    request = RehearseRequest(lock_timeout=1.5, statement_timeout=60)

    full = rehearsal_sql(steps, 2, None, request)
    cut = rehearsal_sql(steps, 1, 1, request)

    assert full.index("SET LOCAL lock_timeout = '1500ms'") < full.index(
        "SET LOCAL statement_timeout = '60000ms'"
    )
    assert full.index("CREATE TABLE c") < full.index("P0K01") and full.rstrip().endswith("END $kedge$;")
    assert "CREATE TABLE a" in cut and "CREATE TABLE b" not in cut and "CREATE TABLE c" not in cut
    assert "'kedge-hasura rehearsal: rolled back'" in cut
    assert "ledger" not in full and "INSERT" not in full  # never a ledger row
