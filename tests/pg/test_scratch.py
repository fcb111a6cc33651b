"""Scratch databases: Hasura preconditions, many cheap databases, and the --scratch-url mode."""

from __future__ import annotations

import psycopg
import pytest

from kedge_hasura.pg.binaries import choose_installation
from kedge_hasura.pg.scratch import ScratchCluster

from .conftest import user_objects


def _has_pgcrypto(conninfo: str) -> bool:
    with psycopg.connect(conninfo) as connection:
        row = connection.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pgcrypto'"
        ).fetchone()
    return row == ("public",)


def test_template_mimics_a_hasura_managed_database(pg_cluster: ScratchCluster) -> None:
    if "pgcrypto" in pg_cluster.preconditions.unavailable:
        pytest.fail(
            "the test server lacks pgcrypto; install postgresql-contrib (CI uses Debian's postgresql)"
        )
    assert pg_cluster.preconditions.extensions == ("pgcrypto",)
    with pg_cluster.database("mimic") as database:
        assert _has_pgcrypto(database.conninfo)
        with psycopg.connect(database.conninfo) as connection:
            uuid = connection.execute("SELECT public.gen_random_uuid()").fetchone()
        assert uuid is not None


def test_preconditions_can_be_switched_off() -> None:
    with ScratchCluster(installation=choose_installation(), hasura_preconditions=False) as cluster:
        assert cluster.preconditions.extensions == ()
        with cluster.database("plain") as database:
            assert not _has_pgcrypto(database.conninfo)
            assert user_objects(database.conninfo) == ["schema public"]


def test_databases_are_independent_copies_of_the_template(pg_cluster: ScratchCluster) -> None:
    with pg_cluster.database("one") as first, pg_cluster.database("two") as second:
        assert first.name != second.name
        with psycopg.connect(first.conninfo, autocommit=True) as connection:
            connection.execute("CREATE TABLE only_in_first (x int)")
        assert "relation public.only_in_first (r)" not in user_objects(second.conninfo)


def test_scratch_url_mode_creates_unique_databases_and_drops_them(pg_cluster: ScratchCluster) -> None:
    # Our own scratch server stands in for "an existing server" reached by URL.
    existing = pg_cluster.conninfo("postgres")
    cluster = ScratchCluster(scratch_url=existing)
    with cluster:
        database = cluster.create_database("byurl")
        assert database.name.startswith("kedge_")
        with psycopg.connect(database.conninfo) as connection:
            assert connection.execute("SELECT current_database()").fetchone() == (database.name,)
        created = database.name
    with psycopg.connect(existing) as connection:
        names = {row[0] for row in connection.execute("SELECT datname FROM pg_database")}
    assert created not in names
    assert not any(name.startswith(cluster._prefix) for name in names)


def test_missing_extension_hint_only_for_extension_failures(pg_cluster: ScratchCluster) -> None:
    assert pg_cluster.missing_extension_hint('relation "x" does not exist') is None
