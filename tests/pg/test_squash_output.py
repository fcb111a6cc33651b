"""What squash writes and reports beyond the round trip: --idempotent, --no-verify, and warnings
about what a squashed migration needs but does not create (roles, --pre-sql objects).

Most tests squash without verification (--dry-run --no-verify): they are about the text and the
report, which do not depend on it. A test that reveals a bug keeps asserting the correct outcome
and is marked strict xfail.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kedge_hasura.actions.squash.run import SquashResult
from kedge_hasura.pg.scratch import ScratchCluster

from .squash_helpers import copy_case, header_lines, run_squash


@pytest.fixture(scope="module")
def idempotent_unverified(
    tmp_path_factory: pytest.TempPathFactory, pg_cluster: ScratchCluster
) -> SquashResult:
    root = copy_case("extensions", tmp_path_factory.mktemp("idempotent"))
    return run_squash(root, pg_cluster, dry_run=True, verify=False, idempotent=True)


def test_idempotent_output_uses_if_not_exists_and_or_replace_forms(
    idempotent_unverified: SquashResult,
) -> None:
    up = idempotent_unverified.up_sql

    for text in (
        "CREATE SCHEMA IF NOT EXISTS directory;",
        "CREATE EXTENSION IF NOT EXISTS citext",
        "CREATE TABLE IF NOT EXISTS directory.members (",
        "CREATE INDEX IF NOT EXISTS members_display_name_trgm ON directory.members",
    ):
        assert text in up
    assert "\tON CONFLICT DO NOTHING" not in up
    assert up.count(" ON CONFLICT DO NOTHING;") == 1  # the one INSERT of rows
    assert not [
        line
        for line in up.splitlines()
        if line.startswith(("CREATE TABLE directory", "CREATE SCHEMA directory"))
    ]
    (warning,) = [w for w in idempotent_unverified.warnings if w.startswith("--idempotent")]
    assert "CONSTRAINT" in warning
    # Statements without an IF NOT EXISTS form are skipped when their object exists.
    assert "EXCEPTION WHEN duplicate_object OR duplicate_table OR invalid_table_definition THEN NULL;" in up
    assert "Not verified (--no-verify)" in " ".join(header_lines(up))


def test_idempotent_squash_verifies_applying_up_sql_twice(tmp_path: Path, pg_cluster: ScratchCluster) -> None:
    result = run_squash(copy_case("extensions", tmp_path), pg_cluster, dry_run=True, idempotent=True)

    assert result.verification.verified
    assert result.verification.idempotent_verified is True


def test_an_unverified_squash_does_not_claim_verification_in_its_header(
    idempotent_unverified: SquashResult,
) -> None:
    assert not idempotent_unverified.verification.verified
    header = " ".join(header_lines(idempotent_unverified.up_sql))
    assert "Verified:" not in header


def test_roles_the_migrations_grant_to_are_created_or_reported(
    tmp_path: Path, pg_cluster: ScratchCluster
) -> None:
    result = run_squash(copy_case("rls_and_grants", tmp_path), pg_cluster, dry_run=True, verify=False)

    assert "TO app_reader" in result.up_sql
    creates_role = "CREATE ROLE app_reader" in result.up_sql
    reported = any("app_reader" in warning for warning in result.warnings)
    assert creates_role or reported, result.warnings


def test_concat_reports_objects_the_migrations_use_but_do_not_create(
    tmp_path: Path, pg_cluster: ScratchCluster
) -> None:
    result = run_squash(
        copy_case("pre_sql", tmp_path), pg_cluster, strategy="concat", dry_run=True, verify=False
    )

    assert "CREATE SCHEMA auth" not in result.up_sql
    assert any("auth.users" in warning for warning in result.warnings), result.warnings
