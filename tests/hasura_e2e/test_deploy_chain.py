"""`deploy` of a squash of a squash (issue 11 item 6) end to end, against the Hasura double.

The shipped project's squashed migration plus one newer migration are squashed again: the new
archive links to the shipped archive. A server that applied only a prefix of the shipped
squash's originals must get the rest of them from the shipped archive, then the newer migration
from the new archive, and never either squashed SQL over its partial state.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ..hasura_double import HasuraDouble
from .deploy_helpers import KEDGE_SCHEMA, Cli, add_migration, assert_deployed, keep_first, ledger, versions

pytestmark = pytest.mark.pg

SQUASHED = 1748864944213
SHIPPED_ARCHIVE = "squashed_1709284463417_to_1748864944213"
NEWER = 1760000000000
LATER_ARCHIVE = f"squashed_{SQUASHED}_to_{NEWER}"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_server_with_a_prefix_of_the_earlier_squash_gets_every_remaining_original_of_the_chain(
    cli: Cli,
    hasura_double: HasuraDouble,
    kedge_project: Path,
    shipped_project: Path,
    use_session_server: str,
) -> None:
    add_migration(
        shipped_project,
        NEWER,
        "add_users_nickname",
        f"ALTER TABLE {KEDGE_SCHEMA}.users ADD COLUMN nickname text;\n",
        f"ALTER TABLE {KEDGE_SCHEMA}.users DROP COLUMN nickname;\n",
    )
    squashed = cli(shipped_project, "squash", "--name", "second")
    assert squashed.exit_code == 0, squashed
    database = shipped_project / "migrations" / "default"
    assert {p.name for p in database.iterdir()} == {f"{NEWER}_second", SHIPPED_ARCHIVE, LATER_ARCHIVE}
    shipped_originals = sorted(
        int(p.name.split("_", 1)[0]) for p in (database / SHIPPED_ARCHIVE).iterdir() if p.is_dir()
    )
    everything = [*shipped_originals, NEWER]
    applied = keep_first(kedge_project, 5)
    first = cli.deploy(kedge_project, "--skip-metadata")  # the metadata needs tables of later ones
    assert first.exit_code == 0, first
    assert versions(hasura_double) == dict.fromkeys(applied, False)

    run = cli.deploy(shipped_project)

    assert run.exit_code == 0, run
    assert "squash: prefix applied" in run.stdout
    assert "the remaining 13 run from the archive" in run.stdout
    assert_deployed(hasura_double, everything)
    rows = {version: sha for version, sha, _ in ledger(hasura_double) or []}
    for version in everything[5:-1]:  # the shipped squash's remaining originals, from its archive
        assert rows[version] == _sha(next((database / SHIPPED_ARCHIVE).glob(f"{version}_*")) / "up.sql")
    newer = next((database / LATER_ARCHIVE).glob(f"{NEWER}_*")) / "up.sql"
    assert rows[NEWER] == _sha(newer)  # the newer original, never the second squash's SQL
    verified = cli(shipped_project, "verify")
    assert verified.exit_code == 0, verified


def test_prune_then_rollback_of_the_newest_squash_forgets_every_original_of_the_chain(
    cli: Cli,
    hasura_double: HasuraDouble,
    kedge_project: Path,
    shipped_project: Path,
    use_session_server: str,
) -> None:
    """After prune, the server knows only the newest squash's version; its down.sql undoes every
    original of the chain, so the ledger rows of all of them go (those of the earlier squash too)."""
    add_migration(
        shipped_project,
        NEWER,
        "add_users_nickname",
        f"ALTER TABLE {KEDGE_SCHEMA}.users ADD COLUMN nickname text;\n",
        f"ALTER TABLE {KEDGE_SCHEMA}.users DROP COLUMN nickname;\n",
    )
    assert cli(shipped_project, "squash", "--name", "second").exit_code == 0
    assert cli.deploy(kedge_project, "--skip-metadata").exit_code == 0
    assert cli.deploy(shipped_project).exit_code == 0
    pruned = cli(shipped_project, "state", "prune")
    assert pruned.exit_code == 0, pruned
    assert versions(hasura_double) == {NEWER: False}

    run = cli(shipped_project, "rollback", "--steps", "1")

    assert run.exit_code == 0, run
    assert versions(hasura_double) == {}
    assert ledger(hasura_double) == []
