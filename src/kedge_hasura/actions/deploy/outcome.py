"""What a write command that failed leaves on the server: committed, recorded, pending.

Exit 3 promises "failed and changed nothing", so it may only be used when that is true. A deploy
that fails (or is interrupted) after a batch committed, after a write of catalog state that
stuck, or after `replace_metadata` took, ends in `FailedAfterChanges` (exit 5) instead, with
the facts per database, so the user knows what to fix and that a re-run applies only the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kedge_hasura.errors import FailedAfterChanges, HasuraUnreachable, KedgeError

VersionState = Mapping[int, bool]  # version -> dirty, as catalog state records it


@dataclass
class ChangeLog:
    """What a deploy did to the server so far, kept up to date as it goes."""

    before: dict[str, dict[int, bool]]  # recorded versions per database when the deploy started
    committed: dict[str, list[int]] = field(default_factory=dict)  # migrations committed by this run
    planned: dict[str, list[int]] = field(default_factory=dict)  # versions this run meant to apply
    metadata: str = "not applied"  # or "replaced", "unknown"
    seeds: dict[str, list[str]] = field(default_factory=dict)  # seed files committed by this run
    ledgers: dict[str, set[int]] = field(default_factory=dict)  # each planned database's ledger at its plan

    def failure(
        self, cause: KedgeError | None, *, after: Mapping[str, VersionState], state_unknown: bool
    ) -> FailedAfterChanges | None:
        """The error to raise instead of `cause` (None: Ctrl-C), or None when nothing changed."""
        recorded = {
            database: found
            for database in sorted(set(self.before) | set(after))
            if (found := _recorded(self.before.get(database, {}), after.get(database, {})))
        }
        committed = {db: versions for db, versions in self.committed.items() if versions}
        seeds = {db: files for db, files in self.seeds.items() if files}
        if not (committed or recorded or state_unknown or seeds or self.metadata != "not applied"):
            return None
        pending = {
            database: rest
            for database, versions in self.planned.items()
            if (rest := [v for v in versions if v not in set(committed.get(database, []))])
        }
        changes: dict[str, Any] = {
            "committed": committed or "nothing",
            "recorded": recorded or ("unknown" if state_unknown else "unchanged"),
            "pending": pending or "nothing",
            "metadata": self.metadata,
        }
        if seeds:
            changes["seeds committed"] = seeds
        return FailedAfterChanges(cause, changes=changes, hint=_hint(cause, committed, state_unknown))


def _recorded(before: VersionState, after: VersionState) -> dict[str, list[int]]:
    """How catalog state's versions of one database differ: applied, dirty, removed."""
    changes: dict[str, list[int]] = {}
    for version in sorted(set(before) | set(after)):
        if version not in after:
            changes.setdefault("removed", []).append(version)
        elif before.get(version) != after[version]:
            changes.setdefault("dirty" if after[version] else "applied", []).append(version)
    return changes


def _hint(cause: KedgeError | None, committed: Mapping[str, Sequence[int]], state_unknown: bool) -> str:
    parts = [cause.hint] if cause is not None and cause.hint else []
    if committed:
        count = sum(len(versions) for versions in committed.values())
        parts.append(
            (
                "the 1 migration listed as committed stays"
                if count == 1
                else f"the {count} migrations listed as committed stay"
            )
            + " applied and recorded; "
            "`kedge-hasura deploy` applies only what is pending"
        )
    if state_unknown:
        parts.append(
            "whether the last write of catalog state was saved is unknown: the next deploy settles it"
        )
    return "; ".join(parts)


@dataclass
class Writes:
    """The writes a small state command (`state mark-*`, `prune`) made so far, one sentence each.

    Inside `guard()`, a failure after at least one write (or a write whose answer was lost)
    becomes FailedAfterChanges (exit 5) listing them; before any write it stays as it was.
    """

    database: str
    done: list[str] = field(default_factory=list)

    @contextmanager
    def guard(self, *, rerun: str) -> Iterator[None]:
        try:
            yield
        except (KedgeError, KeyboardInterrupt) as exc:
            cause = exc if isinstance(exc, KedgeError) else None
            unknown = isinstance(exc, HasuraUnreachable) and exc.may_have_reached_server
            if not self.done and not unknown:
                raise
            changes: dict[str, Any] = {"database": self.database, "changed": self.done or "nothing known"}
            if unknown:
                changes["last write"] = "unknown: its answer was lost"
            hint = f"`{rerun}` again finishes it (it is safe to repeat)"
            raise FailedAfterChanges(cause, changes=changes, hint=hint, listed="what changed") from exc
