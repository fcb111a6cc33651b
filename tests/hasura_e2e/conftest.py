"""Behavioural tests through the real HasuraClient over real HTTP, against two targets:

- `double`: the test double (tests/hasura_double) on 127.0.0.1, backed by a fresh scratch database
  from the session's PostgreSQL (marked `pg`);
- `live`: a real Hasura named by KEDGE_TEST_HASURA_URL (and KEDGE_TEST_HASURA_ADMIN_SECRET), marked
  `hasura_live` and skipped when the variable is unset. Use a throwaway server: the tests create
  a schema `kedge_e2e_<random>` and drop it, and put back the metadata and catalog state they change.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from kedge_hasura.hasura import HasuraClient
from kedge_hasura.pg.scratch import ScratchCluster

from ..hasura_double import DoubleConfig, HasuraDouble
from .deploy_helpers import Cli


@pytest.fixture
def hasura_double(pg_cluster: ScratchCluster) -> Iterator[HasuraDouble]:
    """A running double on a fresh scratch database with a random admin secret; stopped afterwards."""
    with pg_cluster.database("hasura") as database:
        config = DoubleConfig(database_url=database.conninfo, admin_secret=f"double-{secrets.token_hex(12)}")
        with HasuraDouble(config) as double:
            yield double
        assert not double.is_running


@pytest.fixture
def cli(run_cli, hasura_double: HasuraDouble) -> Iterator[Cli]:  # type: ignore[no-untyped-def]
    """`kedge-hasura` against `hasura_double`; the test fails if any run printed the admin secret."""
    runner = Cli(run_cli, hasura_double)
    yield runner
    assert not runner.secrets_leaked(), "the admin secret was printed"


StartDouble = Callable[..., HasuraDouble]


@pytest.fixture
def start_double(pg_cluster: ScratchCluster) -> Iterator[StartDouble]:
    """`start_double(**config)`: doubles with other settings (version, unsupported operations, ...)."""
    with pg_cluster.database("hasura") as database, _Doubles(database.conninfo) as doubles:
        yield doubles.start


class _Doubles:
    def __init__(self, conninfo: str):
        self._conninfo = conninfo
        self._running: list[HasuraDouble] = []

    def start(self, **changes: Any) -> HasuraDouble:
        settings: dict[str, Any] = {"database_url": self._conninfo, "admin_secret": "s3cret-double"}
        settings.update(changes)
        double = HasuraDouble(DoubleConfig(**settings)).start()
        self._running.append(double)
        return double

    def __enter__(self) -> _Doubles:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for double in self._running:
            double.stop()


@dataclass
class Target:
    """A Hasura to test against; `client()` builds a HasuraClient for it."""

    name: str
    url: str
    admin_secret: str | None
    double: HasuraDouble | None = None

    def client(self, **options: Any) -> HasuraClient:
        settings: dict[str, Any] = {
            "base_url": self.url,
            "admin_secret": self.admin_secret,
            "timeout": 30.0,
            "retry_backoff": 0.0,
        }
        settings.update(options)
        return HasuraClient(**settings)


@pytest.fixture(
    params=[
        pytest.param("double", marks=pytest.mark.pg),
        pytest.param("live", marks=pytest.mark.hasura_live),
    ]
)
def target(request: pytest.FixtureRequest) -> Target:
    if request.param == "live":
        url = os.environ.get("KEDGE_TEST_HASURA_URL")
        if not url:
            pytest.skip("KEDGE_TEST_HASURA_URL is not set (the opt-in live Hasura suite)")
        return Target("live", url, os.environ.get("KEDGE_TEST_HASURA_ADMIN_SECRET") or None)
    double: HasuraDouble = request.getfixturevalue("hasura_double")
    return Target("double", double.url, double.admin_secret, double)


@pytest.fixture
def hasura(target: Target) -> Iterator[HasuraClient]:
    with target.client() as client:
        yield client


@pytest.fixture
def schema(hasura: HasuraClient) -> Iterator[str]:
    """A fresh schema on the target's default source, dropped afterwards."""
    name = f"kedge_e2e_{secrets.token_hex(4)}"
    hasura.run_sql(f"CREATE SCHEMA {name};")
    yield name
    hasura.run_sql(f"DROP SCHEMA {name} CASCADE;")


def exists(hasura: HasuraClient, relation: str) -> bool:
    """Whether a relation exists on the default source (asked through run_sql, read-only)."""
    result = hasura.run_sql(f"SELECT to_regclass('{relation}') IS NOT NULL AS found", read_only=True)
    return result.rows == [["t"]]
