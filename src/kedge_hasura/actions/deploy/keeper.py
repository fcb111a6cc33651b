"""StateKeeper: the one owner of a deploy's catalog state and of its transitions by the ledger.

Catalog state (`cli_state`, what `hasura migrate status` reads) and kedge-hasura's ledger must
agree after every deploy, however it ends. Every write of catalog state during a deploy goes
through this class, as alembic's `HeadMaintainer` owns the version table: marking a batch dirty
before it runs, and settling its versions afterwards, either from the batch's own answer or from
the ledger when the answer is missing or says nothing committed. The keeper holds the state it
last read or wrote, so the planner of the next database sees what was written.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from typing import TypeVar

from kedge_hasura.actions.deploy import ledger as ledger_sql
from kedge_hasura.actions.deploy.plan import StateFix
from kedge_hasura.errors import HasuraAPIError, HasuraError, HasuraPostgresError, HasuraUnreachable
from kedge_hasura.hasura.cli_state import CliState
from kedge_hasura.hasura.client import HasuraClient
from kedge_hasura.words import listing

Progress = Callable[[str], None]
_T = TypeVar("_T")
_LEGACY_STATE_SQL = "SELECT version::text, dirty::text FROM hdb_catalog.schema_migrations ORDER BY version"


class BatchOutcome(Enum):
    """How a batch request ended when it raised nothing."""

    APPLIED = "applied"  # committed, with its ledger rows
    CONCURRENT = "concurrent"  # another deploy applied these versions meanwhile; nothing ran twice


class StateKeeper:
    """Catalog state of one deploy, for every database it touches (catalog state is one document)."""

    def __init__(self, client: HasuraClient, state: CliState):
        self._client = client
        self._state = state
        # A write whose answer was lost may have been saved: the recorded state is then unknown,
        # and a failure cannot claim it changed nothing.
        self.uncertain = False
        # What `reconcile` wrote, per database: versions recorded clean, and versions removed;
        # and the databases it could not check (their ledger could not be read), with the reason.
        self.repaired: dict[str, tuple[set[int], set[int]]] = {}
        self.unchecked: dict[str, str] = {}

    @classmethod
    def read(cls, client: HasuraClient) -> StateKeeper:
        return cls(client, CliState(client.get_catalog_state().cli_state))

    @property
    def state(self) -> CliState:
        """The state as last read or written (the planner reads it; only the keeper changes it)."""
        return self._state

    def _write(self, call: Callable[[], _T]) -> _T:
        try:
            return call()
        except HasuraUnreachable as exc:
            self.uncertain = self.uncertain or exc.may_have_reached_server
            raise

    def copy_legacy(self, *, say: Progress) -> int:
        """Copy hdb_catalog.schema_migrations into the state in memory, as the CLI does once
        (contract §4.5). The plan sees the copied versions; the first state write saves them.
        Returns the number of rows copied."""
        try:
            rows = self._client.run_sql(
                _LEGACY_STATE_SQL, read_only=True, check_metadata_consistency=None
            ).rows
        except HasuraPostgresError as exc:
            missing = exc.sqlstate in ("42P01", "3F000") or (
                # a server that hides `internal` sends no SQLSTATE (contract §2.6)
                exc.sqlstate is None
                and not ledger_sql.relation_exists(self._client, "default", "hdb_catalog.schema_migrations")
            )
            if not missing:
                raise
            rows = []
        if rows:
            say(
                f"copying {len(rows)} versions of the legacy hdb_catalog.schema_migrations into catalog state"
            )
        for version, dirty in rows:
            if version and int(version) not in self._state.versions("default"):
                self._state.set_version("default", int(version), dirty=dirty in ("t", "true"))
        self._state.mark_state_copy_completed()
        return len(rows)

    def save_legacy_copy(self) -> None:
        """Save the legacy copy on a fresh read of catalog state (when no batch write carried it)."""
        carry = functools.partial(_carry_legacy_copy, self._state)
        self._state = self._write(lambda: self._client.update_cli_state(carry))

    def mark_dirty(self, database: str, versions: Sequence[int], fixes: Sequence[StateFix]) -> None:
        """Before a batch: its versions dirty, plus the fixes the ledger justified, in one
        read-modify-write of the state as it is now (not as this deploy last saw it, which would
        overwrite what a concurrent deploy recorded since).

        A "remove" fix (dirty, not in the ledger when planned) is applied only if the version is
        still dirty and still not in the ledger: a deploy that was applying it may have committed
        and recorded it meanwhile. A legacy copy not yet saved is carried by this write.
        """
        copied = self._state
        needs_ledger = any(fix.action == "remove" for fix in fixes)

        def write(cli: CliState) -> None:
            if not cli.is_state_copy_completed:
                _carry_legacy_copy(copied, cli)
            applied = ledger_sql.read_ledger(self._client, database).entries if needs_ledger else {}
            recorded = cli.versions(database)
            for fix in fixes:
                if fix.action != "remove" or fix.version in applied:
                    cli.set_version(database, fix.version, dirty=False)
                elif recorded.get(fix.version) is True:
                    cli.remove_version(database, fix.version)
            for version in versions:
                cli.set_version(database, version, dirty=True)

        self._state = self._write(lambda: self._client.update_cli_state(write))

    def reconcile(
        self,
        known: Mapping[str, set[int] | None],
        *,
        archived: Mapping[str, set[int]] | None = None,
        attempts: int = 5,
    ) -> dict[str, list[int]]:
        """At the end of a deploy or rollback: make the recorded state of every database in `known`
        agree with its ledger, re-reading both until they agree.

        Catalog state has no compare-and-swap and each write replaces the whole document, every
        database in it, so a concurrent command's late write can undo what another recorded, in
        any database. The ledger is the truth for what it holds (its row commits with the
        migration, and is deleted with its down): a ledger version is recorded clean (a dirty
        mark or a missing entry is repaired, as deploy's plan and its batch guard already treat
        it), and a version that left the ledger while this command ran (`known` is the ledger as
        it started, None when not read) is no longer recorded. Versions the ledger never held (the
        Hasura CLI's, another deploy's batch in flight) are left alone. This converges because
        every command ends here, so whichever write lands last is followed by its writer's check.

        `archived` are, per database, the project's squashed originals: `state prune` removes them
        from the state on purpose (the ledger keeps them as history), so a missing one is not
        recorded again (a dirty one is still cleaned).

        Returns, per database, the versions still wrong after `attempts` repairs (empty: agree).
        A database whose ledger is missing or cannot be read is skipped.
        """
        wrong: dict[str, list[int]] = {}
        skip = {database: (archived or {}).get(database, set()) for database in known}
        for round_ in range(attempts + 1):
            state = CliState(self._client.get_catalog_state().cli_state)
            ledgers = {database: self._ledger(database) for database in known}
            wrong = {
                database: sorted(clean | remove)
                for database, ledger in ledgers.items()
                if ledger is not None
                for clean, remove in [
                    _disagreeing(state.versions(database), ledger, known[database], skip[database])
                ]
                if clean or remove
            }
            self._state = state
            if not wrong or round_ == attempts:
                break

            def write(cli: CliState, databases: tuple[str, ...] = tuple(wrong)) -> None:
                for database in databases:
                    current = self._ledger(database)
                    if current is None:
                        continue
                    clean, remove = _disagreeing(
                        cli.versions(database), current, known[database], skip[database]
                    )
                    done = self.repaired.setdefault(database, (set(), set()))
                    done[0].update(clean)
                    done[1].update(remove)
                    for version in clean:
                        cli.set_version(database, version, dirty=False)
                    for version in remove:
                        cli.remove_version(database, version)

            self._state = self._write(lambda: self._client.update_cli_state(write))
        return wrong

    def _ledger(self, database: str) -> set[int] | None:
        try:
            ledger = ledger_sql.read_ledger(self._client, database)
        except (HasuraPostgresError, HasuraAPIError) as exc:  # skipped, and said so
            self.unchecked[database] = exc.message
            return None
        self.unchecked.pop(database, None)
        return set(ledger.entries) if ledger.exists else None

    def settle_committed(self, database: str, versions: Sequence[int]) -> None:
        """After a batch that committed: its versions clean. (What concurrent deploys committed
        meanwhile is recorded by `reconcile`, which every deploy that wrote state runs last.)"""

        def write(cli: CliState) -> None:
            for version in versions:
                cli.set_version(database, version, dirty=False)

        self._state = self._write(lambda: self._client.update_cli_state(write))

    def settle_from_ledger(self, database: str, versions: Sequence[int]) -> None:
        """Record `versions` as the ledger proves them: clean if applied, absent if not."""

        def write(cli: CliState) -> None:
            applied = ledger_sql.read_ledger(self._client, database).entries
            for version in versions:
                if version in applied:
                    cli.set_version(database, version, dirty=False)
                else:
                    cli.remove_version(database, version)

        self._state = self._write(lambda: self._client.update_cli_state(write))


def reconcile_state(
    keeper: StateKeeper, ledgers: Mapping[str, set[int] | None], archived: Mapping[str, set[int]]
) -> list[str]:
    """Make catalog state agree with the ledgers of the databases this command wrote and of every
    other database in the state (each write replaces all of them); warnings for what stays wrong."""
    known: dict[str, set[int] | None] = {database: None for database in keeper.state.databases()}
    known.update(ledgers)
    try:
        unsettled = keeper.reconcile(known, archived=archived)
    except HasuraError as exc:
        return [
            f"the final check of catalog state against the kedge-hasura ledger failed ({exc.message}); "
            "`kedge-hasura state show` shows both, and `kedge-hasura deploy` settles dirty versions"
        ]
    repairs = []
    for database, (clean, removed) in sorted(keeper.repaired.items()):
        done = [f"recorded {listing('version', sorted(clean))} as applied"] if clean else []
        done += [f"removed {listing('version', sorted(removed))}, rolled back meanwhile"] if removed else []
        if done:
            repairs.append(
                f"database {database}: catalog state did not agree with the kedge-hasura ledger (a "
                f"concurrent command's write, or `hasura migrate delete`): {'; '.join(done)}"
            )
    repairs += [
        f"database {database}: catalog state was not checked against the kedge-hasura ledger ({reason})"
        for database, reason in sorted(keeper.unchecked.items())
    ]
    return repairs + [
        f"database {database}: catalog state still disagrees with the kedge-hasura ledger for "
        f"{listing('version', versions)} after repeated repairs (another command kept writing it); "
        "run `kedge-hasura deploy` again to settle it from the ledger"
        for database, versions in unsettled.items()
    ]


def _carry_legacy_copy(copied: CliState, cli: CliState) -> None:
    """Versions copied from hdb_catalog.schema_migrations into `copied`, added to `cli` where it
    has none of its own, and the copy marked done."""
    for version, dirty in copied.versions("default").items():
        if version not in cli.versions("default"):
            cli.set_version("default", version, dirty=dirty)
    cli.mark_state_copy_completed()


def _disagreeing(
    recorded: Mapping[int, bool], ledger: set[int], known: set[int] | None, archived: set[int]
) -> tuple[set[int], set[int]]:
    """(to record clean, to remove): ledger versions recorded dirty, or not at all (unless they are
    squashed originals, which `state prune` removes on purpose), and versions still recorded that
    left the ledger since `known` was read (rolled back meanwhile)."""
    clean = {
        version for version in ledger
        if recorded.get(version) is True or (version not in recorded and version not in archived)
    }  # fmt: skip
    remove = {version for version in (known or set()) - ledger if version in recorded}
    return clean, remove
