"""`impact`: build both sides' surfaces and classify each role's changes, with their causes."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from graphql import print_schema
from pydantic import BaseModel

from kedge_hasura.actions.impact.sides import Side, load_side, project_root_in, replay_side
from kedge_hasura.errors import ProjectError, UsageError
from kedge_hasura.git.repo import GitRepo
from kedge_hasura.graphql.catalog import TableKey
from kedge_hasura.graphql.changes import ChangeClass, SurfaceChange, compare_surfaces
from kedge_hasura.graphql.surface import NOT_MODELLED, Surface
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.project.layout import Project, open_project
from kedge_hasura.project.metadata_model import MetadataProject, TableEntry, TrackedFunction

Progress = Callable[[str], None]
DEFAULT_FAIL_ON = frozenset({ChangeClass.BREAKING, ChangeClass.EXPOSURE})


class Cause(BaseModel):
    path: str  # relative to the project folder
    line: int | None = None
    note: str
    side: Literal["base", "head"] = "head"  # whose file the line is in (a removal's is the base's)


class Change(BaseModel):
    change_class: ChangeClass
    code: str
    coordinate: str
    description: str
    causes: list[Cause] = []


class RoleImpact(BaseModel):
    role: str
    breaking: list[Change] = []
    dangerous: list[Change] = []
    exposure: list[Change] = []
    safe: int = 0


class ImpactResult(BaseModel):
    project: str  # the project folder in the user's tree (causes are relative to it)
    base: str  # the revision and commit, as shown
    head: str
    database: str
    roles: list[RoleImpact]
    fail_on: list[ChangeClass]
    not_modelled: list[str]
    notes: list[str] = []

    @property
    def ok(self) -> bool:
        return not any(getattr(role, cls.value) for role in self.roles for cls in self.fail_on)


@dataclass(frozen=True)
class ImpactRequest:
    base: str | None = None  # a revision; None: the merge base with origin/HEAD's branch
    head: str | None = None  # a revision; None: the working tree
    database: str = "default"
    fail_on: frozenset[ChangeClass] = DEFAULT_FAIL_ON
    sdl_dir: Path | None = None  # when given, <dir>/base/<role>.graphql and <dir>/head/<role>.graphql


def print_role_schema(
    project: Project, role: str, *, database: str, cluster: Callable[[], ScratchCluster]
) -> str:
    """The SDL of one role for the working tree.

    Raises:
        UsageError: the role is not in the role set (admin and every role named in a permission).
    """
    with ExitStack() as stack, ThreadPoolExecutor(max_workers=1) as pool:
        starting = pool.submit(lambda: stack.enter_context(cluster()))  # initdb while the project loads
        side = load_side("working tree", project, database)
        scratch = starting.result()
        surface = replay_side(side, scratch, database)
    if role not in surface.roles:
        raise UsageError(
            f"role {role!r} has no permission in the metadata of database {database!r}",
            hint=f"roles: {', '.join(surface.roles)}",
        )
    return print_schema(surface.roles[role].schema)


def impact(
    request: ImpactRequest, *, project: Project, cluster: Callable[[], ScratchCluster], progress: Progress
) -> ImpactResult:
    """Compare the GraphQL surface of every role between two revisions of the project.

    Raises:
        UsageError: a revision is unknown, or the base is missing from a shallow clone.
        GitError: git failed. ProjectError: a side's project does not load.
        MigrationFailed: a side's migrations do not replay.
    """
    repo = GitRepo.containing(project.root)
    inside = project_root_in(repo.root, project.root)
    with ExitStack() as stack:
        temp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kedge-impact-")))
        head_commit = repo.commit_of(request.head) if request.head else None
        if request.base:
            base_commit, base_label = repo.commit_of(request.base), request.base
        else:
            branch = repo.default_branch()
            base_commit = repo.merge_base(branch, head_commit or "HEAD")
            base_label = f"merge base with {branch}"

        def export(commit: str, name: str) -> Project:
            if not repo.has_path(commit, inside or "."):
                raise ProjectError(
                    f"{commit[:12]} has no project folder {inside or '.'}",
                    hint="choose a base revision that has the Hasura project",
                )
            return open_project(repo.export(commit, inside, temp / name))

        # The scratch server starts (initdb, mostly waiting on a subprocess) while git exports and
        # the metadata loads. The pool is left before the stack closes, so a server started while
        # an export failed is still registered on the stack and stopped.
        with ThreadPoolExecutor(max_workers=2) as pool:
            starting = pool.submit(lambda: stack.enter_context(cluster()))
            progress(f"exporting {base_label} ({base_commit[:12]})")
            base = load_side(f"base {base_commit[:12]}", export(base_commit, "base"), request.database)
            head_project = export(head_commit, "head") if head_commit else project
            head_label = (
                f"{request.head} ({head_commit[:12]})" if head_commit and request.head else "working tree"
            )
            head = load_side(head_label, head_project, request.database)
            progress("replaying both sides on scratch databases")
            scratch = starting.result()
            futures = [pool.submit(replay_side, side, scratch, request.database) for side in (base, head)]
            base_surface, head_surface = (future.result() for future in futures)
        if request.sdl_dir is not None:
            write_sdl(request.sdl_dir / "base", base_surface)
            write_sdl(request.sdl_dir / "head", head_surface)
        progress("comparing each role's schema")
        per_role = compare_surfaces(base_surface, head_surface)
        roles = [_role_impact(r.role, r.changes, r.safe, base, head) for r in per_role]
        notes = sorted(set(base_surface.notes) | set(head_surface.notes))
        return ImpactResult(
            project=str(project.root),
            base=f"{base_label} ({base_commit[:12]})",
            head=head_label,
            database=request.database,
            roles=roles,
            fail_on=sorted(request.fail_on),
            not_modelled=list(NOT_MODELLED),
            notes=notes,
        )


def write_sdl(folder: Path, surface: Surface) -> None:
    """Write each role's SDL to `<folder>/<role>.graphql` (for review; files of other roles stay).

    Raises:
        UsageError: the folder cannot be created or written.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for role, schema in surface.roles.items():
            (folder / f"{role}.graphql").write_text(print_schema(schema.schema) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot write the SDL to {folder}: {exc.strerror}", hint="name a writable folder"
        ) from None


def _role_impact(role: str, changes: list[SurfaceChange], safe: int, base: Side, head: Side) -> RoleImpact:
    out = RoleImpact(role=role, safe=safe)
    for change in changes:
        entry = Change(
            change_class=change.change_class,
            code=change.code,
            coordinate=change.coordinate,
            description=change.description,
            causes=causes_of(change, base, head),
        )
        getattr(out, change.change_class.value).append(entry)
    return out


def causes_of(change: SurfaceChange, base: Side, head: Side) -> list[Cause]:
    """Where a change comes from: metadata that differs for its table (and role), and, when the
    table's database shape differs, new or edited migrations that mention the table (best effort:
    a text match on the table's name)."""
    if change.code == "ROLE_REMOVED":
        return _role_causes(change.role, base)
    if change.table is None:
        return []
    if any(side.surface is not None and change.table in side.surface.functions for side in (base, head)):
        return _function_causes(change.table, base, head)
    causes = _metadata_causes(change, base.metadata, head.metadata, base.project.root, head.project.root)
    if _database_shape(base, change.table) != _database_shape(head, change.table):
        # Only when the table's columns, keys or enum rows differ: a migration that merely
        # mentions it (an index) did not change its GraphQL fields.
        causes += _migration_causes(change.table, base, head)
    return causes


def _database_shape(side: Side, key: TableKey) -> tuple[Any, ...]:
    """What the database gives a table's fields: columns and keys, enum rows, computed-field functions."""
    if side.surface is None:
        return ()
    tracked = side.surface.tables.get(key)
    computed = tracked.computed if tracked else None
    return side.surface.catalog.table(key), side.surface.catalog.enum_rows.get(key), computed


def _metadata_causes(
    change: SurfaceChange, base: MetadataProject, head: MetadataProject, base_root: Path, head_root: Path
) -> list[Cause]:
    assert change.table is not None
    old, new = _entry(base, change.table), _entry(head, change.table)
    parts_old, parts_new = _parts(old, change.role), _parts(new, change.role)
    causes: list[Cause] = []
    side: Literal["base", "head"]
    for name in sorted(set(parts_old) | set(parts_new)):
        before, after = parts_old.get(name), parts_new.get(name)
        if before is not None and after is not None and before[0] == after[0]:
            continue
        if after is not None:
            location, root, side = head.location(after[1]), head_root, "head"
            note = f"{name} changed" if before is not None else f"{name} added"
        else:
            assert before is not None
            location, root, side = base.location(before[1]), base_root, "base"
            note = f"{name} removed; the line is on the base side"
        if location is not None:
            causes.append(
                Cause(path=_relative(location.path, root), line=location.line, note=note, side=side)
            )
    return causes


def _role_causes(role: str, base: Side) -> list[Cause]:
    """A role that is gone: the base side's lines that gave it access (permissions, and its
    inherited-role entry)."""
    metadata = base.metadata
    found: list[tuple[str, Any]] = [
        (f"{permission.KIND} permission of {role} removed", permission)
        for source in metadata.metadata.sources
        for entry in source.tables
        for permission in entry.permissions()
        if permission.role == role
    ]
    found += [
        (f"function permission of {role} removed", permission)
        for source in metadata.metadata.sources
        for function in source.functions
        for permission in function.permissions
        if permission.role == role
    ]
    found += [
        (f"inherited role {role} removed", inherited)
        for inherited in metadata.metadata.inherited_roles
        if inherited.role_name == role
    ]
    causes = []
    for note, obj in found:
        location = metadata.location(obj)
        if location is not None:
            causes.append(
                Cause(
                    path=_relative(location.path, base.project.root),
                    line=location.line,
                    note=f"{note}; the line is on the base side",
                    side="base",
                )
            )
    return causes


def _function_causes(key: TableKey, base: Side, head: Side) -> list[Cause]:
    """A tracked function's field changed: its metadata entry if that differs, and new or edited
    migrations that mention it if its definition in the database differs."""

    def entry(side: Side) -> TrackedFunction | None:
        functions = (f for s in side.metadata.metadata.sources for f in s.functions)
        return next((f for f in functions if f.function.key == key), None)

    causes: list[Cause] = []
    old, new = entry(base), entry(head)
    if (old.to_json() if old else None) != (new.to_json() if new else None):
        where: Literal["base", "head"] = "head" if new is not None else "base"
        owner, found = (head, new) if new is not None else (base, old)
        location = owner.metadata.location(found) if found is not None else None
        if location is not None:
            note = (
                "function entry changed"
                if old and new
                else "function tracked"
                if new
                else "function untracked"
            )
            causes.append(
                Cause(
                    path=_relative(location.path, owner.project.root),
                    line=location.line,
                    note=note + ("; the line is on the base side" if where == "base" else ""),
                    side=where,
                )
            )

    def definition(side: Side) -> Any:
        return side.surface.catalog.functions.get(key) if side.surface is not None else None

    if definition(base) != definition(head):
        causes += _migration_causes(key, base, head)
    return causes


def _entry(metadata: MetadataProject, key: TableKey) -> TableEntry | None:
    return next((t for s in metadata.metadata.sources for t in s.tables if t.table.key == key), None)


def _parts(entry: TableEntry | None, role: str) -> dict[str, tuple[Any, Any]]:
    """The parts of a table entry that shape `role`'s schema: its permissions, relationships, config."""
    if entry is None:
        return {}
    parts: dict[str, tuple[Any, Any]] = {"table entry": (entry.table.to_json(), entry)}
    if entry.configuration is not None:
        parts["configuration"] = (entry.configuration.to_json(), entry.configuration)
    parts["is_enum"] = (entry.is_enum, entry)
    for rel in entry.relationships():
        parts[f"relationship {rel.name}"] = (rel.to_json(), rel)
    for permission in entry.permissions():
        if permission.role == role:
            parts[f"{permission.KIND} permission of {role}"] = (permission.to_json(), permission)
    return parts


def _migration_causes(table: TableKey, base: Side, head: Side) -> list[Cause]:
    old = {m.version: (m.up.text if m.up else "") for m in base.migrations}
    pattern = re.compile(rf"\b{re.escape(table[1])}\b", re.IGNORECASE)
    causes = []
    for migration in head.migrations:
        if migration.up is None or old.get(migration.version) == migration.up.text:
            continue
        match = pattern.search(migration.up.text)
        if match:
            line = migration.up.text.count("\n", 0, match.start()) + 1
            state = "edited" if migration.version in old else "new"
            causes.append(
                Cause(
                    path=_relative(migration.up.path, head.project.root),
                    line=line,
                    note=f"{state} migration mentioning {table[1]}",
                )
            )
    return causes


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
