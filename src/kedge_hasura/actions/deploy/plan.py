"""Plan a deploy: for each database, what the server applied, what is pending, and in which batches.

Migration state is read from catalog state as the Hasura CLI keeps it (contract §4), pending
versions fill gaps as the CLI does, and every decision is explained in the plan:

- dirty versions are settled from the ledger (a row means the migration committed);
- squash archives decide what runs: all originals applied → the consolidated migration (which
  reuses the last version) is already applied; a prefix applied → the remaining originals run
  from the archive, never the consolidated SQL over a partial state; none → the consolidated one;
  a squash of an earlier squash's migration (project.chain) is planned over the true originals of
  the chain, the earlier squash's migration counting as all of its originals;
- batches: everything in one transaction by default; a migration that must run outside a
  transaction, or that holds BEGIN/COMMIT, runs alone; a batch ends after `ALTER TYPE ... ADD
  VALUE` (the new label cannot be used before commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from kedge_hasura.actions.deploy.ledger import Ledger
from kedge_hasura.actions.deploy.migration_state import DatabaseState, SquashedRange, compare_state
from kedge_hasura.errors import ProjectError, UsageError
from kedge_hasura.hasura.cli_state import CliState
from kedge_hasura.project.chain import chain_folders, chain_problems, expanded_originals
from kedge_hasura.project.manifest import check_archive, read_manifest
from kedge_hasura.project.migrations import DatabaseMigrations, Migration, SqlFile
from kedge_hasura.project.naming import migration_folder_name
from kedge_hasura.words import listing, noun, plural, verb

TransactionMode = Literal["all", "each"]


class Step(BaseModel):
    """One migration to apply (up), or to undo (down, for rollback)."""

    version: int
    name: str
    path: Path  # the up.sql (or down.sql) file
    origin: Literal["migrations", "archive", "seed"]  # seed: a seed file (version 0), rehearsed last
    direction: Literal["up", "down"] = "up"
    sql: str
    sha256: str
    outside_transaction: bool = False  # runs with run_sql's no_transaction
    alone: bool = False  # must be its own batch (transaction control, or outside a transaction)
    ends_batch: bool = False  # ALTER TYPE ... ADD VALUE: later statements need it committed
    reasons: list[str] = []
    # A squashed migration's down.sql undoes its originals too: their ledger rows go with it.
    also_forget: list[int] = []


class StateFix(BaseModel):
    """A change to recorded state the ledger justifies (settling a dirty version)."""

    version: int
    action: Literal["mark-clean", "remove"]
    reason: str


class DatabasePlan(BaseModel):
    database: str
    case: str
    state: DatabaseState
    steps: list[Step] = []
    batches: list[list[int]] = []  # versions per run_sql
    fixes: list[StateFix] = []
    prunable: list[int] = []  # stale keys of squashed originals (`state prune`)
    notes: list[str] = []
    warnings: list[str] = []
    edited: list[int] = []  # applied versions whose up.sql changed since

    @property
    def sql_bytes(self) -> int:
        return sum(len(step.sql.encode()) for step in self.steps)


@dataclass(frozen=True)
class Selection:
    """A partial deploy, in the Hasura CLI's `migrate apply` terms; at most one field is set."""

    version: int | None = None  # exactly this pending version (`--version V`)
    goto: int | None = None  # every pending version up to and including this one (`--goto V`)
    up: int | None = None  # the oldest N pending versions (`--up N`)


@dataclass(frozen=True)
class PlanOptions:
    transaction: TransactionMode = "all"
    strict: bool = False  # versions applied on the server but unknown locally are an error
    strict_order: bool = False  # a pending version older than the newest applied one is an error
    allow_edited: bool = False
    supports_no_transaction: bool = False
    server_version: str = "unknown"
    selection: Selection | None = None  # None: every pending version


def plan_database(
    migrations: DatabaseMigrations, cli_state: CliState, ledger: Ledger, options: PlanOptions
) -> DatabasePlan:
    """The plan for one database.

    Raises:
        ProjectError: the plan cannot be made safely (an unsettled dirty version, edited
            migrations, a partial squash that is not a prefix, a tampered archive, strict checks).
    """
    database = migrations.database
    recorded = dict(cli_state.versions(database))
    fixes = _settle_dirty(migrations, recorded, ledger)
    for fix in fixes:
        if fix.action == "remove":
            recorded.pop(fix.version, None)
        else:
            recorded[fix.version] = False
    state = compare_state(migrations, recorded)
    plan = DatabasePlan(database=database, case="up to date", state=state, fixes=fixes)

    if state.missing_locally:
        message = (
            f"{plural(len(state.missing_locally), 'version')} applied on the server "
            f"{verb(len(state.missing_locally), 'is', 'are')} not in this project: "
            + ", ".join(map(str, state.missing_locally))
            + " (a different branch or folder?)"
        )
        if options.strict:
            raise ProjectError(message, hint="check out the right branch, or drop --strict to continue")
        plan.warnings.append(message)
    if state.out_of_order and options.strict_order:
        raise ProjectError(
            f"pending {noun(len(state.out_of_order), 'version')} older than the newest applied one "
            f"({state.newest_applied}): " + ", ".join(map(str, state.out_of_order)),
            hint="give the migration a newer version, or drop --strict-order to apply it anyway "
            "(as the CLI does)",
        )

    pending: list[tuple[Migration, Literal["migrations", "archive"]]] = [
        (m, "migrations") for m in migrations.migrations if m.version in state.pending
    ]
    squashed_again = {name for squash in state.squashes for name in squash.earlier}
    for squash in state.squashes:
        if squash.archive not in squashed_again:  # planned with the squash that links to it
            pending = _apply_squash_case(migrations, squash, state.squashes, recorded, pending, plan)
    plan.edited = edited_versions(migrations, state, ledger)
    if plan.edited and not options.allow_edited:
        raise ProjectError(
            f"applied {noun(len(plan.edited), 'migration')} changed since "
            f"{verb(len(plan.edited), 'it was', 'they were')} applied "
            f"(the ledger's sha256 differs): {', '.join(map(str, plan.edited))}",
            hint="revert the edit and add a new migration instead; --allow-edited deploys anyway",
        )
    plan.steps = [_step(m, origin) for m, origin in sorted(pending, key=lambda item: item[0].version)]
    if options.selection is not None:
        every = len(plan.steps)
        plan.steps = _select(plan.steps, migrations, state, options.selection)
        plan.notes.append(
            f"partial deploy: {plural(every - len(plan.steps), 'pending version')} left for later"
        )
    plan.batches = _batches(plan.steps, options, plan)
    if plan.steps and plan.case == "up to date":
        plan.case = f"{len(plan.steps)} pending"
    return plan


def _select(
    steps: list[Step], migrations: DatabaseMigrations, state: DatabaseState, selection: Selection
) -> list[Step]:
    """The pending steps a partial deploy applies, oldest first.

    Raises:
        UsageError: the version is unknown or applied already, a --goto below the newest applied
            version (that is a rollback), or --up below 1.
    """
    database = migrations.database
    pending = {step.version for step in steps}
    known = {m.version for m in migrations.migrations} | set(state.applied)
    target = selection.version if selection.version is not None else selection.goto
    if target is not None and target not in known:
        raise UsageError(
            f"version {target} is not a migration of {database} in this project",
            hint="check the version with `kedge-hasura status`",
        )
    if selection.version is not None:
        if selection.version not in pending:
            raise UsageError(
                f"version {selection.version} of {database} is applied already: nothing to apply",
                hint="`kedge-hasura rollback` undoes it; `state show` lists what is applied",
            )
        return [step for step in steps if step.version == selection.version]
    if selection.goto is not None:
        newest = state.newest_applied
        if newest is not None and selection.goto < newest:
            raise UsageError(
                f"--goto {selection.goto} is below the newest applied version of {database} ({newest}): "
                "that is a rollback, which deploy never does",
                hint=f"use `kedge-hasura rollback --to {selection.goto}`",
            )
        return [step for step in steps if step.version <= selection.goto]
    if selection.up is not None:
        if selection.up < 1:
            raise UsageError("--up must be at least 1")
        return steps[: selection.up]
    return steps


def unsettleable_dirty(migrations: DatabaseMigrations, dirty: list[int], ledger: Ledger) -> list[int]:
    """The dirty versions deploy cannot settle by itself (it refuses, asking for `state mark-applied`
    or `mark-unapplied`): all of them without a ledger, else those missing from the ledger that run
    outside a transaction (their ledger row is written by a second request, so a missing row does
    not prove they did not run)."""
    if not ledger.exists:
        return list(dirty)
    return [
        v for v in dirty
        if v not in ledger.entries and (m := migrations.by_version(v)) is not None and m.up is not None
        and _step(m, "migrations").outside_transaction
    ]  # fmt: skip


def _settle_dirty(
    migrations: DatabaseMigrations, recorded: dict[int, bool], ledger: Ledger
) -> list[StateFix]:
    database = migrations.database
    dirty = sorted(v for v, is_dirty in recorded.items() if is_dirty)
    if not dirty:
        return []
    unprovable = unsettleable_dirty(migrations, dirty, ledger)
    if unprovable:
        raise ProjectError(
            f"database {database}: {listing('version', unprovable)} "
            f"{verb(len(unprovable), 'is', 'are')} dirty (a migration was interrupted) "
            "and the kedge-hasura ledger cannot tell whether "
            f"{verb(len(unprovable), 'it', 'they')} committed",
            hint="check the database, then run `kedge-hasura state mark-applied V` or "
            "`kedge-hasura state mark-unapplied V` "
            "(the Hasura CLI: `hasura migrate delete --version V --server`)",
        )
    fixes = []
    for version in dirty:
        if version in ledger.entries:
            fixes.append(
                StateFix(
                    version=version,
                    action="mark-clean",
                    reason="the ledger shows it committed before the state was written",
                )
            )
        else:
            fixes.append(
                StateFix(
                    version=version,
                    action="remove",
                    reason="not in the ledger, so it has not committed (an interrupted deploy, or one "
                    "about to apply it); it is applied once, by whichever deploy gets there first",
                )
            )
    return fixes


def _chain(
    squash: SquashedRange, squashes: list[SquashedRange], recorded: dict[int, bool]
) -> tuple[list[int], set[int]]:
    """The true original versions behind `squash` (project.chain), and the versions that count as
    applied: those recorded, and every original of an earlier squash whose version is recorded
    (its migration reuses its last original's version, so the server ran it or all of them)."""
    by_name = {s.archive: s for s in squashes}
    applied = set(recorded)

    def expand(current: SquashedRange, seen: tuple[str, ...]) -> list[int]:
        earlier = {
            s.consolidated_version: s
            for name in current.earlier
            if name not in seen and (s := by_name.get(name)) is not None
        }
        versions: list[int] = []
        for version in current.versions:
            if version not in earlier:
                versions.append(version)
                continue
            inner = expand(earlier[version], (*seen, current.archive))  # innermost counted first
            if version in applied:
                applied.update(inner)
            versions += inner
        return versions

    return expand(squash, ()), applied


def _apply_squash_case(
    migrations: DatabaseMigrations,
    squash: SquashedRange,
    squashes: list[SquashedRange],
    recorded: dict[int, bool],
    pending: list[tuple[Migration, Literal["migrations", "archive"]]],
    plan: DatabasePlan,
) -> list[tuple[Migration, Literal["migrations", "archive"]]]:
    versions, counted = _chain(squash, squashes, recorded)
    applied = [v for v in versions if v in counted]
    last = squash.consolidated_version
    name = f"{squash.archive} → {squash.consolidated_folder}"
    if applied == versions:
        plan.notes.append(f"{name}: the server applied every original, so the squashed migration is applied")
        plan.prunable = [v for v in versions[:-1] if v in recorded]
        plan.case = "squash: all originals applied"
        return pending
    if not applied:
        if last not in recorded:
            plan.notes.append(
                f"{name}: the server applied none of the originals: the squashed migration runs"
            )
            plan.case = "squash: none applied"
        return pending
    if applied == [last]:
        plan.notes.append(f"{name}: the squashed migration is applied")
        return pending
    if applied != versions[: len(applied)]:
        raise ProjectError(
            f"database {migrations.database}: the server applied {len(applied)} "
            f"of the {len(versions)} "
            f"squashed originals, but not the first {len(applied)} in order ({', '.join(map(str, applied))})",
            hint="bring that environment up to date with the originals (`kedge-hasura archive restore`), "
            "or fix its state with `kedge-hasura state`",
        )
    folder = migrations.directory / squash.archive
    for archive in chain_folders(migrations, folder):
        manifest = read_manifest(archive)
        if not check_archive(archive, manifest).ok or chain_problems(migrations, archive, manifest):
            raise ProjectError(
                f"{archive}: archived files do not match MANIFEST.json, "
                "so the remaining originals cannot be trusted",
                hint="run `kedge-hasura archive verify`",
            )
    originals = [original.migration for original in expanded_originals(migrations, folder)]
    remaining = [m for m in originals if m.version not in counted]
    plan.notes.append(
        f"{name}: the server applied the first {len(applied)} originals; the remaining {len(remaining)} run "
        "from the archive (never the squashed SQL over a partial state)"
    )
    plan.case = "squash: prefix applied"
    kept = [(m, origin) for m, origin in pending if m.version != last]
    return kept + [(m, "archive") for m in remaining]


def edited_versions(migrations: DatabaseMigrations, state: DatabaseState, ledger: Ledger) -> list[int]:
    """Applied versions whose current up.sql differs from what the ledger recorded."""
    local = {m.version: m for m in migrations.migrations}
    # A squashed migration reuses its last original's version: a server that ran the original
    # recorded that file's checksum, which the archive's manifest keeps.
    originals = {
        s.consolidated_version: s.original_up_sha256.get(s.consolidated_version) for s in state.squashes
    }
    edited = []
    for version in state.applied:
        entry = ledger.entries.get(version)
        migration = local.get(version)
        if entry is None or migration is None or migration.up is None or entry.applied_by != "deploy":
            continue
        if entry.up_sha256 not in (migration.up.sha256, originals.get(version)):
            edited.append(version)
    return edited


def _step(migration: Migration, origin: Literal["migrations", "archive"]) -> Step:
    sql_file: SqlFile | None = migration.up
    if sql_file is None:
        raise UsageError(f"migration {migration.key} has no up.sql")
    parsed = sql_file.parsed
    reasons = []
    non_transactional = [s.non_transactional for s in parsed.statements if s.non_transactional]
    control = [s.transaction_control for s in parsed.statements if s.transaction_control]
    commit_before_use = any(s.commit_before_use for s in parsed.statements)
    outside = bool(non_transactional) or parsed.has_no_transaction_marker
    if outside:
        reasons.append(
            "runs outside a transaction: "
            + (", ".join(sorted(set(non_transactional))) or "-- hasura:no-transaction")
        )
    if control:
        reasons.append(f"runs alone: it holds {', '.join(sorted(set(control)))}")
    return Step(
        version=migration.version,
        name=migration.name,
        path=sql_file.path,
        origin=origin,
        sql=sql_file.text,
        sha256=sql_file.sha256,
        outside_transaction=outside,
        alone=outside or bool(control),
        ends_batch=commit_before_use,
        reasons=reasons,
    )


def _batches(steps: list[Step], options: PlanOptions, plan: DatabasePlan) -> list[list[int]]:
    batches: list[list[int]] = []
    current: list[int] = []
    for step in steps:
        if step.outside_transaction and not options.supports_no_transaction:
            raise ProjectError(
                f"{step.path}: {step.reasons[0]}, and Hasura {options.server_version} cannot (run_sql's "
                "no_transaction needs v2.45.3 or later)",
                hint="upgrade Hasura, or run that statement outside Hasura "
                "and `kedge-hasura state mark-applied`",
            )
        if step.reasons:
            plan.warnings.append(
                f"{migration_folder_name(step.version, step.name)}: {'; '.join(step.reasons)}"
            )
        if options.transaction == "each" or step.alone:
            if current:
                batches.append(current)
            batches.append([step.version])
            current = []
            continue
        current.append(step.version)
        if step.ends_batch:
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches
