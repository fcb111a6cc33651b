"""`squash --check`: every archived squash is still equivalent to its originals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel

from kedge_hasura.actions.replay import script_from_file, scripts_for
from kedge_hasura.actions.squash.plan import Progress, SquashRequest
from kedge_hasura.actions.squash.roundtrip import EquivalentDefinition, equivalent_only
from kedge_hasura.actions.squash.steps import Work, apply_scripts, build_before
from kedge_hasura.actions.squash.verify import compare_states
from kedge_hasura.findings import Severity
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.project.layout import Project
from kedge_hasura.schemadiff.compare import Difference
from kedge_hasura.schemadiff.data import REPLAY_SEEDS, DataDiff
from kedge_hasura.schemadiff.snapshot import HASURA_SCHEMAS, Scope


class SquashCheckItem(BaseModel):
    archive: Path
    consolidated: str | None
    equivalent: bool
    checksums_ok: bool
    schema_identical: bool = False  # no difference of any severity (equivalent may still be true)
    equivalent_only: list[EquivalentDefinition] = []  # differ only in how PostgreSQL prints them
    edited_since_squash: bool = False
    problem: str | None = None
    nondeterministic_tables: list[str] = []  # not compared (recorded by the squash)
    schema_differences: list[Difference] = []
    data: DataDiff | None = None


class SquashCheck(BaseModel):
    """The result of `squash --check`: every squash still equivalent to its archived originals."""

    items: list[SquashCheckItem]

    @property
    def ok(self) -> bool:
        return all(item.equivalent and item.checksums_ok for item in self.items)


def check_squash(
    project: Project,
    *,
    database: str | None,
    cluster: Callable[[], ScratchCluster],
    progress: Progress | None = None,
) -> SquashCheck:
    """Re-run each archived squash in scratch databases and compare it with the committed migration.

    A squash of an earlier squash's migration (project.chain) replays the true originals behind
    it, from every archive of the chain; the earlier squash is checked against its migration as
    the later archive keeps it.

    Raises:
        ProjectError: the migrations have errors.
        MigrationFailed: an archived original or the committed migration fails to apply.
    """
    from kedge_hasura.project.chain import chain_folders, expanded_originals, later_archive
    from kedge_hasura.project.manifest import check_archive, read_manifest
    from kedge_hasura.project.migrations import scan_database_folder

    say = progress or (lambda message: None)
    squashes = [
        (migrations, folder, read_manifest(folder))
        for migrations in project.databases(database)
        for folder in migrations.archives
    ]
    squashes = [(m, f, manifest) for m, f, manifest in squashes if manifest.consolidated is not None]
    items: list[SquashCheckItem] = []
    if not squashes:
        return SquashCheck(items=items)
    with cluster() as scratch:
        for migrations, folder, manifest in squashes:
            consolidated = manifest.consolidated
            assert consolidated is not None
            say(f"checking {folder.name} against {consolidated.folder}")
            item = SquashCheckItem(
                archive=folder,
                consolidated=consolidated.folder,
                equivalent=False,
                checksums_ok=check_archive(folder, manifest).ok,
            )
            later = later_archive(migrations, folder.name)
            current = (
                migrations.by_version(consolidated.version)
                if later is None
                else scan_database_folder(migrations.database, later)
                .databases[migrations.database]
                .by_version(consolidated.version)
            )
            if current is None or current.up is None:
                item.problem = f"the squashed migration {consolidated.folder} is missing"
                items.append(item)
                continue
            item.edited_since_squash = current.up.sha256 != consolidated.up_sha256
            originals = tuple(original.migration for original in expanded_originals(migrations, folder))
            # What varied on the replays of every squash of the chain varies on this replay too.
            chain = [read_manifest(f) for f in chain_folders(migrations, folder)]
            frozen = sorted({value for m in chain for value in m.frozen_values})
            tables = sorted({table for m in chain for table in m.nondeterministic_tables})
            sequences = sorted({sequence for m in chain for sequence in m.nondeterministic_sequences})
            request = SquashRequest(
                database=migrations.database, strategy=manifest.strategy or "dump",
                pre_sql=project.root / manifest.pre_sql if manifest.pre_sql else None,
                precondition_files=tuple(project.root / name for name in manifest.preconditions_sql)
                if manifest.preconditions_sql is not None
                else None,
                exclude_schemas=tuple(manifest.exclude_schemas),
            )  # fmt: skip
            work = Work(
                request=request, project=project, migrations=migrations, selected=originals, cluster=scratch,
                say=say, scope=Scope(exclude=(*HASURA_SCHEMAS, *manifest.exclude_schemas)),
            )  # fmt: skip
            before = build_before(work)
            replayed = scratch.create_database("originals", copy_of=before)
            apply_scripts(work, replayed, scripts_for(originals), seed=REPLAY_SEEDS[0])
            committed = scratch.create_database("committed", copy_of=before)
            apply_scripts(work, committed, [script_from_file(current.version, current.name, current.up)])
            schema, data = compare_states(
                work, replayed.conninfo, committed.conninfo, frozen, (*tables, *sequences)
            )
            item.nondeterministic_tables = tables
            item.schema_differences = schema.failing(Severity.WARNING)
            item.schema_identical = not schema.differences
            item.equivalent_only = equivalent_only(schema.differences)
            item.data = data
            item.equivalent = not item.schema_differences and data.identical
            items.append(item)
    return SquashCheck(items=items)
