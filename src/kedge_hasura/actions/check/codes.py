"""The catalogue of `check`: every check (a JUnit test case) and every finding code it reports.

Codes are stable: they appear in output, in `kedge: check: ignore:` lists of config.yaml and in
docs/ci.md. A finding's severity and default hint come from here, so a code means the same thing
wherever it is reported. Findings of `status`'s migration scan keep their own codes and severities
and belong to the `migrations` check.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedge_hasura.findings import Finding, Severity
from kedge_hasura.project.bounds import OUTSIDE_CODE
from kedge_hasura.project.metadata import JsonPath
from kedge_hasura.project.metadata_model import MetadataObject, MetadataProject

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

# name → what it verifies (the JUnit test case's name and description), in report order.
CHECKS: dict[str, str] = {
    "config": "config.yaml: every key is one the Hasura CLI reads",
    "metadata": "the metadata directory loads: YAML, includes, keys and value types",
    "replay": "the migrations replay on a scratch database",
    "tracking": "tracked tables, views and functions exist and are usable; every table is tracked",
    "relationships": "relationships name existing tables, columns and foreign keys",
    "permissions": "permissions name existing columns, relationships and tables; no admin role",
    "computed-fields": "computed fields name existing functions with a signature Hasura accepts",
    "roles": "role names are consistent",
    "enum-tables": "enum tables have the shape and rows Hasura requires",
    "migrations": "migration files: up and down, versions, statements that cannot run in a transaction",
    "archives": "squash archives match their manifests",
    "seeds": "seed files replay after the migrations, as `hasura seed apply` runs them",
    "server-consistency": "the server reports no inconsistent metadata (--online)",
    "metadata-drift": "the server's metadata is the local metadata (--online)",
    "migration-state": "the server's applied migrations match the local ones (--online)",
    "graphql-impact": "no role's GraphQL API breaks or exposes more than at --base (`impact`; with --base)",
}
# Checks listed in a report only when asked for (so reports without them keep their shape).
OPTIONAL_CHECKS = ("graphql-impact",)
ONLINE_CHECKS = ("server-consistency", "metadata-drift", "migration-state")
DATABASE_CHECKS = ("relationships", "computed-fields", "enum-tables")


@dataclass(frozen=True)
class Code:
    check: str
    severity: Severity
    hint: str


CODES: dict[str, Code] = {
    # `impact`'s classes as check severities: breaking and exposure are errors, dangerous a warning.
    "graphql-breaking": Code(
        "graphql-impact", ERROR, "clients of this role break: keep the field, or deprecate it first"
    ),
    "graphql-exposure": Code(
        "graphql-impact", ERROR, "the role can now see more: make sure that is intended before merging"
    ),
    "graphql-dangerous": Code(
        "graphql-impact", WARNING, "existing requests still parse but may behave differently"
    ),
    "config-unknown-key": Code(
        "config", WARNING, "rename it if it is a typo; the Hasura CLI and kedge-hasura both ignore it"
    ),
    "metadata-invalid": Code("metadata", ERROR, "fix the file at that line; Hasura would reject it too"),
    # Also made by the migration scan (a warning there): `check` decides, with this severity.
    OUTSIDE_CODE: Code(
        "metadata",
        ERROR,
        "copy the file into the project, or allow files outside it by listing file-outside-project "
        "under kedge: check: ignore in config.yaml",
    ),
    "table-file-not-included": Code(
        "tracking", WARNING, 'add an `- "!include <file>"` line for it to tables.yaml, or delete the file'
    ),
    "migration-replay-failed": Code(
        "replay", ERROR, "fix the migration; on a fresh database `hasura migrate apply` fails the same way"
    ),
    "seed-replay-failed": Code(
        "seeds",
        ERROR,
        "fix the seed for the current schema (a column renamed or dropped since it was written?); "
        "`hasura seed apply` fails the same way",
    ),
    "table-missing": Code(
        "tracking", ERROR, "create it in a migration, or remove the table file and its tables.yaml include"
    ),
    "untracked-table": Code(
        "tracking",
        WARNING,
        "track it (add a table file and include it), or list it under kedge: check: ignore_untracked "
        "in config.yaml",
    ),
    "function-missing": Code("tracking", ERROR, "create the function in a migration, or untrack it"),
    "function-overloaded": Code(
        "tracking", ERROR, "Hasura cannot track overloaded functions; rename one of the overloads"
    ),
    "function-signature": Code(
        "tracking", ERROR, "change the function, or its configuration in the metadata, to what Hasura accepts"
    ),
    "relationship-table-missing": Code(
        "relationships", ERROR, "point the relationship at an existing table, or create the table"
    ),
    "relationship-table-untracked": Code(
        "relationships", ERROR, "track the remote table too: Hasura only relates tracked tables"
    ),
    "relationship-column-missing": Code(
        "relationships", ERROR, "use the column's current name (was it renamed or dropped by a migration?)"
    ),
    "relationship-fk-missing": Code(
        "relationships",
        ERROR,
        "add the foreign key in a migration, or use manual_configuration with a column_mapping",
    ),
    "field-name-conflict": Code(
        "relationships",
        ERROR,
        "rename the relationship or computed field: GraphQL field names must be unique",
    ),
    "permission-admin-role": Code(
        "permissions", ERROR, "remove it: admin always has full access, and Hasura rejects admin permissions"
    ),
    "permission-duplicate": Code("permissions", ERROR, "merge the two entries into one"),
    "permission-column-missing": Code(
        "permissions", ERROR, "use the column's current name, or remove it from the permission"
    ),
    "permission-expression-invalid": Code(
        "permissions",
        ERROR,
        "a filter names columns, relationships and computed fields of its table; "
        "X-Hasura-* session variables are values: {user_id: {_eq: X-Hasura-User-Id}}",
    ),
    "computed-field-function-missing": Code(
        "computed-fields", ERROR, "create the function in a migration, or fix the name in the metadata"
    ),
    "computed-field-signature": Code(
        "computed-fields",
        ERROR,
        "the function takes the table's row type first (or table_argument), an optional json session "
        "argument, is STABLE or IMMUTABLE, and returns a base type or SETOF a tracked table",
    ),
    "role-near-duplicate": Code(
        "roles", INFO, "if it is a typo, rename it; roles are matched exactly against X-Hasura-Role"
    ),
    "enum-table-shape": Code(
        "enum-tables",
        ERROR,
        "an enum table has a single-column text primary key and at most one other column, of type text",
    ),
    "enum-table-empty": Code(
        "enum-tables", ERROR, "insert the enum values in a migration (the rows are part of the schema)"
    ),
    "enum-table-value": Code(
        "enum-tables",
        ERROR,
        "enum values must be GraphQL names: [A-Za-z_][A-Za-z0-9_]*, and not true, false or null",
    ),
    "empty-down": Code("migrations", WARNING, "write a down.sql that undoes up.sql"),
    "version-out-of-order": Code(
        "migrations",
        WARNING,
        "give the migration a new version (a current timestamp): databases that applied the squash "
        "will run it after newer migrations, fresh ones before them",
    ),
    "version-in-future": Code(
        "migrations", WARNING, "rename it with the current time: every later migration would sort before it"
    ),
    "archive-manifest-invalid": Code(
        "archives", ERROR, "restore MANIFEST.json from version control (kedge-hasura wrote it)"
    ),
    "archive-file-changed": Code(
        "archives", ERROR, "archived migrations are history: restore the file from version control"
    ),
    "archive-file-missing": Code("archives", ERROR, "restore the file from version control"),
    "archive-chain-broken": Code(
        "archives", ERROR, "restore the earlier squash's archive from version control: it holds its originals"
    ),
    "archive-file-unexpected": Code(
        "archives", WARNING, "move it out of the archive folder: archives hold only what the manifest lists"
    ),
    "inconsistent-metadata": Code(
        "server-consistency",
        ERROR,
        "fix the object, then `hasura metadata apply` (or reload); `hasura metadata ic list` shows it too",
    ),
    "metadata-drift-added": Code(
        "metadata-drift", WARNING, "apply the metadata (`hasura metadata apply`) if the server is behind"
    ),
    "metadata-drift-removed": Code(
        "metadata-drift",
        WARNING,
        "export it into the project (`hasura metadata export`) if it was made on the server on purpose",
    ),
    "metadata-drift-changed": Code(
        "metadata-drift", WARNING, "apply the local metadata, or export the server's if it is the right one"
    ),
    "migration-missing-locally": Code(
        "migration-state",
        ERROR,
        "the server applied a migration this project does not have: pull it, or find who applied it",
    ),
    "migration-dirty": Code(
        "migration-state",
        ERROR,
        "a migration failed half-way on the server; fix the database, then the state",
    ),
    "migration-pending": Code("migration-state", INFO, "apply it with `kedge-hasura deploy`"),
    "migration-out-of-order": Code(
        "migration-state",
        WARNING,
        "this pending migration is older than the newest applied one; it will run after newer ones",
    ),
}
SCAN_CHECK = "migrations"


class CheckFinding(Finding):
    """A finding of `check`, with the check it belongs to."""

    check: str


class FindingSink:
    """Collects findings of one run; metadata objects are turned into file:line here."""

    def __init__(self, project: MetadataProject | None = None):
        self.project = project
        self.findings: list[CheckFinding] = []

    def add(
        self,
        code: str,
        message: str,
        *,
        at: MetadataObject | JsonPath | None = None,
        path: Path | None = None,
        line: int | None = None,
        hint: str | None = None,
        database: str | None = None,
        version: int | None = None,
    ) -> None:
        spec = CODES[code]
        if at is not None and self.project is not None:
            location = self.project.location(at)
            if location is not None:
                path, line = location.path, location.line
        self.findings.append(
            CheckFinding(
                code=code,
                severity=spec.severity,
                message=message,
                path=path,
                line=line,
                hint=hint or spec.hint,
                database=database,
                version=version,
                check=spec.check,
            )
        )

    def adopt(self, finding: Finding, check: str = SCAN_CHECK) -> None:
        """Take over a finding made elsewhere (the migration scan) as part of `check`.

        A code that is also in `CODES` takes its severity from there: the scan only warns about a
        file outside the project, `check` fails on it.
        """
        data: dict[str, Any] = finding.model_dump()
        if finding.code in CODES:
            data["severity"] = CODES[finding.code].severity
        self.findings.append(CheckFinding(**data, check=check))
