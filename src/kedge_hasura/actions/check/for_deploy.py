"""The offline part of `check` that deploy's dry run and rehearsal need: does the metadata fit the
schema the migrations build?

The project's migrations are replayed on a scratch database (with the project's preconditions,
as `check` does) and the metadata is checked against the result. Only the findings a deploy's
`replace_metadata` would turn into a refusal are kept: errors of the metadata, replay, tracking,
relationship, permission, computed-field and enum-table checks. Untracked tables are left to
deploy's own tracking report.
"""

from __future__ import annotations

from collections.abc import Callable

from kedge_hasura.actions.check.online import locate_inconsistent
from kedge_hasura.actions.check.run import CheckOptions, check_project
from kedge_hasura.findings import Finding, Severity
from kedge_hasura.hasura.models import InconsistentObject
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.project.layout import Project
from kedge_hasura.project.metadata_model import MetadataProject, load_metadata_model

_DEPLOY_CHECKS = {
    "metadata", "replay", "tracking", "relationships", "permissions", "computed-fields", "enum-tables",
}  # fmt: skip
_LEFT_TO_DEPLOY = {"untracked-table"}


def metadata_findings(
    project: Project, databases: list[str], *, cluster: Callable[[], ScratchCluster]
) -> list[Finding]:
    """Errors that make the metadata unfit for what the migrations of `databases` build.

    Raises:
        ToolError, DatabaseError: no scratch PostgreSQL could be used.
    """
    only = databases[0] if len(databases) == 1 else None
    configured = project.config.kedge.check
    options = CheckOptions(
        database=only, ignore_untracked=configured.ignore_untracked, ignore=configured.ignore
    )
    report = check_project(project, cluster=cluster, options=options)
    return [
        Finding(**finding.model_dump(exclude={"check"}))
        for finding in report.findings
        if finding.severity is Severity.ERROR
        and finding.check in _DEPLOY_CHECKS
        and finding.code not in _LEFT_TO_DEPLOY
        and (finding.database is None or not databases or finding.database in databases)
    ]


def inconsistency_locator(project: Project) -> Callable[[InconsistentObject], str | None]:
    """`file:line` of the local definition of an object Hasura reports inconsistent, as `check
    --online` maps it (None when the project has no such object). The model is loaded once, on
    first use: a deploy whose metadata fits never needs it."""
    loaded: list[MetadataProject] = []

    def locate(item: InconsistentObject) -> str | None:
        if not loaded:
            loaded.append(load_metadata_model(project.metadata_dir, config_version=project.config.version))
        model = loaded[0]
        at = locate_inconsistent(model.metadata, item)
        location = model.location(at) if at is not None else None
        return str(location) if location is not None else None

    return locate
