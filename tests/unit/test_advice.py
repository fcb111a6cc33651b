"""Advice a user follows: each hint names a command that does what it says, in this situation."""

from __future__ import annotations

from kedge_hasura.actions.check.codes import CODES
from kedge_hasura.actions.diff import DiffRequest, parse_side, preconditions_warning


def test_a_pending_migration_is_applied_with_our_own_deploy() -> None:
    assert CODES["migration-pending"].hint == "apply it with `kedge-hasura deploy`"


def test_diff_against_hasura_does_not_advise_dropping_the_hasura_preconditions() -> None:
    request = DiffRequest(source=parse_side("migrations"), target=parse_side("hasura"))

    warning = preconditions_warning(request, ("pgcrypto",))

    assert "--no-hasura-preconditions" not in warning
    assert warning == (
        "the scratch side mimics a Hasura-managed database (extensions pgcrypto in public), "
        "as the other side is read through Hasura"
    )


def test_diff_against_a_plain_url_offers_dropping_the_hasura_preconditions() -> None:
    request = DiffRequest(source=parse_side("migrations"), target=parse_side("postgresql://db/app"))

    assert "use --no-hasura-preconditions" in preconditions_warning(request, ("pgcrypto",))


def test_committed_migrations_are_counted_in_words() -> None:
    from kedge_hasura.actions.deploy.outcome import _hint

    assert _hint(None, {"default": [1]}, False).startswith(
        "the 1 migration listed as committed stays applied"
    )
    assert _hint(None, {"default": [1, 2], "other": [3]}, False).startswith(
        "the 3 migrations listed as committed stay applied"
    )
