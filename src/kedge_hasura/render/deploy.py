"""Human renderings of deploy, rollback, verify and state results."""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape

from kedge_hasura.actions.deploy.apply import DeployResult
from kedge_hasura.actions.deploy.rollback import RollbackResult
from kedge_hasura.actions.deploy.seeds import SeedPlan
from kedge_hasura.actions.deploy.state import StateChange, StateReport
from kedge_hasura.actions.deploy.verify import VerifyResult
from kedge_hasura.findings import Severity
from kedge_hasura.render.diff import difference_lines
from kedge_hasura.render.human import display_path, render_table
from kedge_hasura.words import plural


def render_deploy(result: DeployResult) -> list[str]:
    lines = [f"Hasura {escape(result.server_version)} at {escape(result.endpoint)}"]
    if result.legacy_versions_copied:
        verb = "would copy" if result.dry_run else "copied"
        lines.append(
            f"  {verb} {plural(result.legacy_versions_copied, 'version')} of "
            "hdb_catalog.schema_migrations into catalog state"
        )
    for deployed in result.databases:
        plan = deployed.plan
        lines.append("")
        lines.append(f"[bold]Database {escape(plan.database)}[/bold]: {escape(plan.case)}")
        for fix in plan.fixes:
            lines.append(f"  settled {fix.version}: {fix.action} ({escape(fix.reason)})")
        for note in (*plan.notes, *deployed.notes):
            lines.append(f"  {escape(note)}")
        if plan.steps:
            rows = [
                [str(step.version), step.name, step.origin, byte_size(len(step.sql.encode())),
                 "alone" if step.alone else ""]
                for step in plan.steps
            ]  # fmt: skip
            lines += ["  " + line for line in render_table(["VERSION", "NAME", "FROM", "SQL", "NOTE"], rows)]
            lines.append(f"  {_transactions(plan.batches)}")
            if len(plan.batches) > 1:
                lines.append(f"  {_not_atomic(plan.batches)}")
        if deployed.applied:
            count = sum(len(batch.versions) for batch in deployed.applied)
            seconds = sum(batch.seconds for batch in deployed.applied)
            lines.append(f"  applied {plural(count, 'migration')} in {seconds:.2f} s")
        if plan.prunable:
            lines.append(
                f"  {plural(len(plan.prunable), 'stale version')} of squashed originals: "
                "`kedge-hasura state prune` drops them"
            )
    metadata = result.metadata
    if metadata is not None:
        lines.append("")
        if result.dry_run:
            lines.append("[bold]Metadata[/bold] (changes against the server):")
            if not metadata.changes:
                lines.append("  none")
            for change in metadata.changes:
                parts = [f"+{len(change.added)}", f"-{len(change.removed)}", f"~{len(change.changed)}"]
                lines.append(f"  {escape(change.part)}: {' '.join(parts)}")
            if result.metadata_checked:
                lines.append("  fits the schema the pending migrations build (replayed offline)")
        else:
            state = "consistent" if metadata.consistent else "[red]inconsistent[/red]"
            lines.append(f"[bold]Metadata[/bold]: applied, {state}")
            for item in metadata.inconsistent_objects:
                lines.append(f"  {escape(item.type)} {escape(str(item.name))}: {escape(item.reason or '')}")
            for tracking in metadata.tracking:
                lines.append(
                    f"  {escape(tracking.database)}: "
                    f"managed schemas {escape(', '.join(tracking.schemas) or '-')}; "
                    f"untracked: {escape(', '.join(tracking.untracked) or 'none')}; "
                    f"tracked but missing: {escape(', '.join(tracking.missing) or 'none')}"
                )
                for path in tracking.written:
                    lines.append(f"    wrote {escape(display_path(path))}")
                for table in tracking.untracked:
                    if table not in tracking.tracked_now:
                        file = display_path(tracking.files[table]) if table in tracking.files else "-"
                        lines.append(f"    [red]untracked[/red] {escape(table)}: would go in {escape(file)}")
                if tracking.allowed:
                    lines.append(f"    allowed to stay untracked: {escape(', '.join(tracking.allowed))}")
    for seed_plan in result.seeds:
        lines.append("")
        lines += _seed_lines(seed_plan, dry_run=result.dry_run)
    for warning in result.warnings:
        lines.append(f"[yellow]warning:[/yellow] {escape(warning)}")
    lines.append("")
    seeds = f", {plural(result.seeds_applied, 'seed')} applied" if result.seeds else ""
    if result.dry_run:
        lines.append("dry run: nothing changed")
    elif result.failed:
        lines.append(
            f"failed after {plural(result.applied_count, 'migration')}{seeds.replace(' applied', '')} "
            "committed (see the error below)"
        )
    else:
        lines.append(f"deployed: {plural(result.applied_count, 'migration')} applied{seeds}")
        if not result.ok:
            left = result.metadata.untracked_left if result.metadata is not None else []
            lines.append(
                f"[red]{plural(len(left), 'table')} of the managed schemas untracked[/red]: track "
                "them (--track-untracked writes their files) or allow them (--allow-untracked, "
                "kedge.check.ignore_untracked)"
            )
    return lines


def _seed_lines(plan: SeedPlan, *, dry_run: bool) -> list[str]:
    """A table of the seed files: what the deploy does (or did) with each, and when it last ran."""
    if not plan.seeds:
        return [f"[bold]Seeds of {escape(plan.database)}[/bold]: none"]
    rows = []
    for seed in plan.seeds:
        if seed.action == "unchanged":
            action = "skipped: unchanged"
        elif dry_run:
            action = "would apply" + (" again (changed)" if seed.action == "reapply" else "")
        elif seed.file in plan.applied:
            action = "applied" + (" again (changed)" if seed.action == "reapply" else "")
        else:
            action = "failed" if seed.file == plan.failed else "not reached"
        rows.append([seed.file, action, seed.applied_at or "-"])
    lines = [f"[bold]Seeds of {escape(plan.database)}[/bold]:"]
    lines += ["  " + line for line in render_table(["SEED", "ACTION", "PREVIOUSLY APPLIED"], rows)]
    lines += [f"  {escape(note)}" for note in plan.notes]
    return lines


def render_rollback(result: RollbackResult) -> list[str]:
    verb = "would roll back" if result.dry_run else "rolled back"
    if not result.versions:
        return [f"{escape(result.database)}: nothing to roll back"]
    lines = [f"{escape(result.database)}: {verb} {plural(len(result.versions), 'version')}:"]
    lines += [
        f"  {version}  {escape(display_path(path))}"
        for version, path in zip(result.versions, result.files, strict=True)
    ]
    lines += [f"[yellow]warning:[/yellow] {escape(warning)}" for warning in result.warnings]
    return lines


def render_verify(result: VerifyResult) -> list[str]:
    lines = []
    for database in result.databases:
        state = "ok" if database.ok else "[red]differs[/red]"
        lines.append(f"[bold]Database {escape(database.database)}[/bold]: {state}")
        failing = database.schema_diff.failing(Severity.WARNING)
        if failing:
            lines.append(
                f"  the live schema differs from the migrations ({plural(len(failing), 'difference')}):"
            )
            for difference in failing:
                lines += ["  " + line for line in difference_lines(difference)]
        for problem in database.state_problems:
            lines.append(f"  state: {escape(problem)}")
        for note in database.notes:
            lines.append(f"  note: {escape(note)}")
    lines.append(f"metadata: {'consistent' if result.metadata_consistent else '[red]inconsistent[/red]'}")
    for item in result.inconsistent_objects:
        lines.append(f"  {escape(item.type)} {escape(str(item.name))}: {escape(item.reason or '')}")
    lines.append("")
    lines.append("verify: ok" if result.ok else "verify: differences found")
    return lines


def render_state(result: StateReport) -> list[str]:
    lines = []
    for database in result.databases:
        lines.append(
            f"[bold]Database {escape(database.database)}[/bold]"
            + ("" if database.ledger_exists else " (no kedge-hasura ledger yet)")
        )
        rows = [
            [str(v.version), v.name or "?", "applied" if v.recorded else "-", "dirty" if v.dirty else "",
             v.applied_by or ("-" if database.ledger_exists else ""), v.where]
            for v in database.versions
        ]  # fmt: skip
        lines += render_table(["VERSION", "NAME", "STATE", "DIRTY", "LEDGER", "FILES"], rows)
        if database.prunable:
            lines.append(f"prunable (squashed originals): {', '.join(map(str, database.prunable))}")
    return lines


def render_state_change(result: StateChange) -> list[str]:
    if not result.versions:
        return [f"{escape(result.database)}: {escape(result.action)}: nothing to change"]
    return [f"{escape(result.database)}: {escape(result.action)}: {', '.join(map(str, result.versions))}"]


def byte_size(size: int) -> str:
    """812 bytes, 26.0 KiB, 3.4 MiB."""
    if size < 1024:
        return plural(size, "byte")
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / 1024 / 1024:.1f} MiB"


def _not_atomic(batches: Sequence[Sequence[int]]) -> str:
    """The promise a deploy in several transactions cannot keep, and where each one commits."""
    ends = ", ".join(str(batch[-1]) for batch in batches[:-1])
    return (
        "not all-or-nothing: each transaction commits on its own, after versions "
        f"{ends}; a failure in a later one leaves the earlier ones applied"
    )


def _transactions(batches: Sequence[Sequence[object]]) -> str:
    """`1 transaction of 5 migrations`, `3 transactions: 2, 1 and 4 migrations`."""
    if len(batches) == 1:
        return f"1 transaction of {plural(len(batches[0]), 'migration')}"
    sizes = [str(len(batch)) for batch in batches]
    listed = ", ".join(sizes[:-1]) + " and " + sizes[-1]
    return f"{len(batches)} transactions: {listed} migrations"
