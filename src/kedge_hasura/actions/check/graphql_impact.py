"""`check --base REF`: `impact`'s changes as check findings (breaking and exposure errors,
dangerous warnings), each at its first cause in the project's own files."""

from __future__ import annotations

from collections.abc import Callable

from kedge_hasura.actions.check.codes import FindingSink
from kedge_hasura.actions.impact import run as impact_run
from kedge_hasura.graphql.changes import ChangeClass
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.project.layout import Project

_CODES = {
    ChangeClass.BREAKING: "graphql-breaking",
    ChangeClass.EXPOSURE: "graphql-exposure",
    ChangeClass.DANGEROUS: "graphql-dangerous",
}


def check_impact(
    project: Project,
    base: str,
    database: str | None,
    cluster: Callable[[], ScratchCluster],
    sink: FindingSink,
    say: Callable[[str], None],
) -> None:
    """Add a finding per change of each role's API between `base` and the working tree.

    Raises:
        UsageError: the revision is unknown (or missing from a shallow clone).
        GitError, ProjectError, MigrationFailed: as `impact`.
    """
    say(f"comparing each role's GraphQL API with {base}")
    request = impact_run.ImpactRequest(base=base, database=database or "default")
    result = impact_run.impact(request, project=project, cluster=cluster, progress=say)
    for role in result.roles:
        for change_class, code in _CODES.items():
            for change in getattr(role, change_class.value):
                where = next((c for c in change.causes if c.side == "head"), None)
                # A removed role's coordinate is the role itself: named once.
                subject = f"role {role.role}" + (
                    "" if change.coordinate == f"role {role.role}" else f": {change.coordinate}"
                )
                sink.add(
                    code,
                    f"{subject}: {change.description}",
                    path=project.root / where.path if where else None,
                    line=where.line if where else None,
                    database=result.database,
                )
