"""Human renderings of squash, squash --check and archive results."""

from __future__ import annotations

from rich.markup import escape

from kedge_hasura.actions.squash.archive import ArchiveChange, ArchiveList
from kedge_hasura.actions.squash.check import SquashCheck
from kedge_hasura.actions.squash.roundtrip import EquivalentDefinition, equivalent_summary
from kedge_hasura.actions.squash.run import NothingToSquash, SquashResult
from kedge_hasura.render.human import display_path, render_table
from kedge_hasura.words import plural


def render_squash(result: SquashResult | NothingToSquash) -> list[str]:
    if isinstance(result, NothingToSquash):
        return [f"nothing to squash: {escape(result.reason)}", "nothing written"]
    count = len(result.migrations)
    lines = [
        f"[bold]Squash of {count} migration{'s' if count != 1 else ''}[/bold] of database "
        f"{escape(result.database)} ({result.strategy} strategy, PostgreSQL {result.postgres_major}): "
        f"{result.from_version} .. {result.to_version}",
        f"  new migration: {escape(display_path(result.folder))}/ (up.sql {len(result.up_sql.splitlines())} "
        f"lines, down.sql {len(result.down_sql.splitlines())} lines)",
    ]
    if result.archive_folder is not None:
        lines.append(f"  originals:     {escape(display_path(result.archive_folder))}/ (with MANIFEST.json)")
    else:
        lines.append("  originals:     deleted (--no-archive)")
    for earlier in result.earlier_archives:
        lines.append(
            f"                 linked to {escape(display_path(earlier))}/, the earlier squash's originals"
        )
    verification = result.verification
    if verification.verified:
        notes = [
            "schema identical"
            if verification.schema_identical
            else "schema "
            + (
                equivalent_summary(len(verification.equivalent_only))
                if verification.equivalent_only
                else "equivalent"
            ),
            _rows_note(result),
        ]
        if verification.down_verified:
            notes.append("down.sql returns to the state before")
        elif verification.down_verified is None:
            notes.append("down.sql not verified (missing downs)")
        if verification.idempotent_verified:
            notes.append("applying up.sql twice works")
        lines.append(f"  verified:      {', '.join(notes)}")
        lines += _equivalents(verification.equivalent_only)
        for difference in verification.schema_differences:
            if difference.classification == "probably-equivalent":
                continue  # listed above, with both texts
            what = f"{difference.kind} {difference.object} {difference.field or ''}"
            lines.append(
                f"    info: {escape(what)} text differs, {escape(difference.classification or 'accepted')}"
            )
    else:
        lines.append("  verified:      [yellow]no[/yellow] (--no-verify)")

    lines.append("")
    speedup = result.seconds_replay / result.seconds_squashed if result.seconds_squashed else 0.0
    rows = [
        ["lines of SQL", str(result.lines_before), str(result.lines_after), ""],
        [
            "apply time",
            f"{result.seconds_replay:.2f} s",
            f"{result.seconds_squashed:.2f} s",
            _speed(speedup),
        ],
    ]
    for kind in sorted(set(result.statements.before) | set(result.statements.after)):
        rows.append(
            [
                f"  {kind}",
                str(result.statements.before.get(kind, 0)),
                str(result.statements.after.get(kind, 0)),
                "",
            ]
        )
    lines += render_table(["", "originals", "squashed", ""], rows, right={1, 2})
    objects = ", ".join(plural(count, kind) for kind, count in result.objects.items())
    lines += ["", f"objects the migrations create: {escape(objects)}"]
    if result.warnings:
        lines.append("")
        lines += [f"[yellow]warning:[/yellow] {escape(warning)}" for warning in result.warnings]
    lines.append("")
    if result.written:
        lines.append("written: commit the new migration and the archive")
    else:
        lines.append("dry run: nothing written")
    return lines


def _rows_note(result: SquashResult) -> str:
    """ "rows identical" only when every table was compared and found equal."""
    verification = result.verification
    frozen = f" except {plural(len(result.frozen_values), 'frozen column')}" if result.frozen_values else ""
    if verification.data_identical:
        return "rows identical" + frozen
    tables = result.nondeterministic_tables
    return (
        f"rows identical in {verification.tables_compared} of {verification.tables_total} tables{frozen}; "
        f"{plural(len(tables), 'table')} non-deterministic: {escape(', '.join(tables))}"
    )


def render_squash_check(result: SquashCheck) -> list[str]:
    if not result.items:
        return ["no squashed migrations to check (no archive records one)"]
    lines = []
    for item in result.items:
        state = "[red]differs[/red]"
        if item.equivalent and item.checksums_ok:
            state = (
                "identical"
                if item.schema_identical
                else equivalent_summary(len(item.equivalent_only))
                if item.equivalent_only
                else "equivalent"
            )
        lines.append(f"{escape(display_path(item.archive))} → {escape(item.consolidated or '?')}: {state}")
        if not item.checksums_ok:
            lines.append("  archived files do not match MANIFEST.json (run `kedge-hasura archive verify`)")
        if item.edited_since_squash:
            lines.append("  note: the squashed up.sql was edited after the squash (its checksum differs)")
        if item.problem:
            lines.append(f"  {escape(item.problem)}")
        for difference in item.schema_differences:
            lines.append(
                f"  {escape(difference.change)} {escape(difference.kind)} {escape(difference.object)} "
                f"{escape(difference.field or '')}"
            )
        if item.data is not None and not item.data.identical:
            lines.append("  rows differ (see --output json for the rows)")
        if item.nondeterministic_tables:
            tables = item.nondeterministic_tables
            count = plural(len(tables), "non-deterministic table")
            lines.append(f"  rows not compared in {count}: " + escape(", ".join(tables)))
        if item.equivalent:
            lines += _equivalents(item.equivalent_only)
    lines.append("")
    lines.append("squash check: ok" if result.ok else "squash check: differences found")
    return lines


def _equivalents(definitions: list[EquivalentDefinition]) -> list[str]:
    lines = []
    for definition in definitions:
        field = f" {definition.field}" if definition.field else ""
        lines += [
            f"    equivalent: {escape(definition.kind)} {escape(definition.object)}{escape(field)}",
            f"      originals: {escape(definition.original)}",
            f"      squashed:  {escape(definition.squashed)}",
        ]
    return lines


def render_archive_list(result: ArchiveList) -> list[str]:
    if not result.archives:
        return ["no archives"]
    rows = []
    for info in result.archives:
        manifest = info.manifest
        if manifest is None:
            rows.append([info.folder.name, info.database, "", "", "", f"unreadable: {info.error}"])
            continue
        check = info.check
        chain = len(info.chain_problems)  # broken links to earlier squashes' archives
        if check is None:
            state = "not checked"
        elif check.ok and not chain:
            state = f"ok ({plural(check.checked, 'file')} checked)"
        else:
            problems = len(check.mismatched) + len(check.missing) + len(check.unexpected) + chain
            state = f"{plural(problems, 'problem')} in {plural(check.checked, 'file')}"
        rows.append([
            info.folder.name, info.database, str(len(manifest.migrations)),
            manifest.consolidated.folder if manifest.consolidated else "(not squashed)",
            manifest.created_at.isoformat(), state,
        ])  # fmt: skip
    lines = render_table(
        ["ARCHIVE", "DATABASE", "MIGRATIONS", "SQUASHED INTO", "CREATED (UTC)", "CHECKSUMS"], rows
    )
    for info in result.archives:
        if info.check and not info.check.ok:
            for label, paths in (("changed", info.check.mismatched), ("missing", info.check.missing),
                                 ("not in the manifest", info.check.unexpected)):  # fmt: skip
                lines += [f"  {escape(info.folder.name)}: {label}: {escape(path)}" for path in paths]
    for info in result.archives:
        lines += [f"  {escape(problem)}" for problem in info.chain_problems]
    chained = [(info, info.manifest.earlier_archives) for info in result.archives if info.manifest]
    for info, earlier in chained:
        if earlier:
            lines.append(
                f"  {escape(info.folder.name)}: squashed again an earlier squash, whose originals are in "
                + escape(", ".join(earlier))
            )
    return lines


def render_archive_change(result: ArchiveChange) -> list[str]:
    verb = {"create": "archived", "restore": "restored"}[result.action]
    head = "would be " + verb if result.dry_run else verb
    count = len(result.migrations)
    lines = [f"{plural(count, 'migration')} {head} ({escape(display_path(result.archive))}):"]
    lines += [f"  {escape(name)}" for name in result.migrations]
    removal = "would remove" if result.dry_run else "removed"
    lines += [f"  {removal} the squashed migration {escape(display_path(path))}" for path in result.removed]
    restoring = "would restore" if result.dry_run else "with"
    lines += [
        f"  {restoring} the earlier squash's archive {escape(display_path(path))} (the chain of squashes)"
        for path in result.earlier_archives
    ]
    if result.dry_run:
        lines.append("dry run: nothing changed")
    return lines


def _speed(ratio: float) -> str:
    """The squashed migration's apply time against the originals': `2.3x faster`, `1.2x slower`."""
    if not ratio:
        return ""
    if ratio >= 1:
        return f"{ratio:.1f}x faster"
    return f"{1 / ratio:.1f}x slower"
