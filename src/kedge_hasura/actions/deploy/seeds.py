"""`deploy --with-seeds`: apply `seeds/<database>/*.sql` after the migrations and the metadata, as
`hasura seed apply` runs them (file-name order, one run_sql each), and remember what ran.

Hasura's seeds are stateless: every `hasura seed apply` runs every file again. kedge-hasura
records each seed it applied in `kedge_hasura.seed_ledger` (file name, sha256 of the content),
beside the migration ledger, in the same run_sql as the seed: the row exists exactly when the
seed committed. A later deploy skips a seed whose content is unchanged. A seed changed since it
was applied is refused before anything runs, unless `reapply_changed` is set (docs/decisions.md:
a seed written as plain INSERTs would duplicate its rows).

Each seed is its own transaction (as the items of the CLI's bulk request are, contract §3.1), so
a failure leaves the earlier seeds committed; the failing one rolls back whole. Probes that
always roll back find its failing statement, as for migrations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from kedge_hasura import __version__
from kedge_hasura.actions.deploy import ledger as ledger_sql
from kedge_hasura.errors import HasuraPostgresError, ProjectError, SeedFailed
from kedge_hasura.hasura.client import HasuraClient
from kedge_hasura.project.seeds import Seed
from kedge_hasura.sql.quoting import quote_literal
from kedge_hasura.sql.statements import Statement, parse_sql
from kedge_hasura.words import noun, verb

SEED_LEDGER = f"{ledger_sql.LEDGER_SCHEMA}.seed_ledger"
_CREATE_SEED_LEDGER = (
    f"CREATE SCHEMA IF NOT EXISTS {ledger_sql.LEDGER_SCHEMA};\n"
    f"CREATE TABLE IF NOT EXISTS {SEED_LEDGER} (\n"
    "    file text PRIMARY KEY,\n"
    "    sha256 text NOT NULL,\n"
    "    applied_at timestamptz NOT NULL DEFAULT now(),\n"
    "    tool_version text NOT NULL\n"
    ");\n"
)
SEED_APPLIED_MEANWHILE = "kedge-hasura: seed applied meanwhile by another deploy"
_MISSING = {"42P01", "3F000"}  # undefined table, undefined schema: no seed ledger yet

SeedAction = Literal["apply", "reapply", "unchanged"]


class SeedStep(BaseModel):
    """One seed file of a database and what the deploy does with it."""

    file: str  # the file name: the seed ledger's key
    path: str
    sha256: str
    action: SeedAction
    applied_at: str | None = None  # when the seed ledger says it last ran (UTC, ISO 8601)
    sql: str = Field("", exclude=True)  # the file's text (not in the JSON output)


class SeedPlan(BaseModel):
    database: str
    seeds: list[SeedStep] = []
    applied: list[str] = []  # files this deploy committed
    failed: str | None = None  # the file that failed (the later ones were not tried)
    notes: list[str] = []

    @property
    def to_apply(self) -> list[SeedStep]:
        return [seed for seed in self.seeds if seed.action != "unchanged"]


def read_seed_ledger(client: HasuraClient, database: str) -> dict[str, tuple[str, str]]:
    """file → (sha256, applied_at) of the seeds kedge-hasura applied to `database` ({} if none)."""
    sql = (
        "SELECT file, sha256, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
        f"FROM {SEED_LEDGER} ORDER BY file"
    )
    try:
        result = client.run_sql(sql, source=database, read_only=True, check_metadata_consistency=None)
    except HasuraPostgresError as exc:
        if exc.sqlstate in _MISSING:
            return {}
        raise
    return {str(file): (sha or "", at or "") for file, sha, at in result.rows}


def plan_seeds(
    database: str, seeds: Sequence[Seed], recorded: dict[str, tuple[str, str]], *, reapply_changed: bool
) -> SeedPlan:
    """What to do with each seed file, from the seed ledger.

    Raises:
        ProjectError: a seed changed since it was applied and `reapply_changed` is not set.
    """
    plan = SeedPlan(database=database)
    changed: list[SeedStep] = []
    for seed in seeds:
        known = recorded.get(seed.name)
        action: SeedAction = "apply"
        if known is not None:
            action = "unchanged" if known[0] == seed.file.sha256 else "reapply"
        step = SeedStep(
            file=seed.name,
            path=str(seed.path),
            sha256=seed.file.sha256,
            action=action,
            applied_at=known[1] if known else None,
            sql=seed.file.text,
        )
        plan.seeds.append(step)
        if action == "reapply":
            changed.append(step)
    if changed and not reapply_changed:
        first = changed[0]
        count = "1 seed file" if len(changed) == 1 else f"{len(changed)} seed files"
        raise ProjectError(
            f"database {database}: {count} changed since applied by kedge-hasura, e.g. {first.path} "
            f"(applied at {first.applied_at}); running a seed again may duplicate its rows",
            hint="make the seed safe to run twice (INSERT ... ON CONFLICT DO NOTHING, or DELETE first), "
            "then deploy with --reapply-changed-seeds; or deploy without --with-seeds",
            details={"changed seeds": ", ".join(step.path for step in changed)},
        )
    return plan


def seed_sql(database: str, step: SeedStep, *, probe_statements: int | None = None) -> str:
    """One seed's request: lock, seed ledger, guard, the seed, its ledger row.

    With `probe_statements` the seed is cut after that many statements and the request ends in
    kedge's probe, so it can never commit (see apply.locate_failure).
    """
    parts = [
        "-- kedge-hasura: one deploy at a time; the seed ledger records which seeds committed.\n",
        ledger_sql.prelude([]),
        _CREATE_SEED_LEDGER,
        "DO $kedge$ BEGIN\n"
        f"  IF EXISTS (SELECT 1 FROM {SEED_LEDGER} WHERE file = {quote_literal(step.file)} "
        f"AND sha256 = {quote_literal(step.sha256)}) THEN\n"
        f"    RAISE EXCEPTION '{SEED_APPLIED_MEANWHILE}';\n"
        "  END IF;\n"
        "END $kedge$;\n",
    ]
    sql = step.sql
    if probe_statements is not None:
        statements = _statements(step)
        sql = step.sql[: statements[probe_statements - 1].end] if probe_statements else ""
    parts.append(f"-- kedge-hasura: seed {step.file} of {database}\n{sql}\n;\n")
    if probe_statements is None:
        parts.append(
            f"INSERT INTO {SEED_LEDGER} (file, sha256, tool_version) VALUES ({quote_literal(step.file)}, "
            f"{quote_literal(step.sha256)}, {quote_literal(__version__)}) ON CONFLICT (file) DO UPDATE "
            "SET sha256 = EXCLUDED.sha256, applied_at = now(), tool_version = EXCLUDED.tool_version;\n"
        )
    else:
        parts.append(ledger_sql.probe())
    return "".join(parts)


def apply_seeds(client: HasuraClient, plan: SeedPlan, *, say: Callable[[str], None]) -> None:
    """Apply the plan's seeds one run_sql each, adding each committed file to `plan.applied`.

    Raises:
        SeedFailed: PostgreSQL rejected a seed (it rolled back; the earlier ones stay committed).
    """
    for step in plan.to_apply:
        if step.action == "reapply":
            say(f"seed {step.file} changed since it was applied at {step.applied_at}; applying again")
        else:
            say(f"{plan.database}: applying seed {step.file}")
        try:
            sql = seed_sql(plan.database, step)
            client.run_sql(sql, source=plan.database, check_metadata_consistency=False)
        except HasuraPostgresError as exc:
            if SEED_APPLIED_MEANWHILE in (exc.pg_message or ""):
                plan.notes.append(f"seed {step.file} was applied meanwhile by another deploy; not run twice")
                continue
            plan.failed = step.file
            raise _seed_failed(plan, step, _locate(client, plan.database, step), exc) from exc
        plan.applied.append(step.file)


def _statements(step: SeedStep) -> list[Statement]:
    return list(parse_sql(step.sql).statements)


def _locate(client: HasuraClient, database: str, step: SeedStep) -> Statement | None:
    """The failing statement of a seed, by bisection with requests that always roll back."""
    statements = _statements(step)
    if not statements:
        return None

    def fails(count: int) -> bool:
        try:
            client.run_sql(
                seed_sql(database, step, probe_statements=count), source=database,
                check_metadata_consistency=False,
            )  # fmt: skip
        except HasuraPostgresError as exc:
            return not ledger_sql.is_probe(exc)
        return False  # cannot happen: the probe always fails

    first, last = 1, len(statements)
    while first < last:
        middle = (first + last) // 2
        if fails(middle):
            last = middle
        else:
            first = middle + 1
    return statements[first - 1]


def _seed_failed(
    plan: SeedPlan, step: SeedStep, statement: Statement | None, error: HasuraPostgresError
) -> SeedFailed:
    line = statement.line if statement is not None else None
    where = f"{step.path}:{line}" if line else step.path
    earlier = (
        f"; the {noun(len(plan.applied), 'seed')} applied before it "
        f"{verb(len(plan.applied), 'stays', 'stay')} committed: {', '.join(plan.applied)}"
        if plan.applied
        else ""
    )
    return SeedFailed(
        f"seed {step.file} of database {plan.database} failed at {where}: "
        f"{error.pg_message or error.message}",
        database=plan.database,
        path=Path(step.path),
        line=line,
        sqlstate=error.sqlstate,
        pg_message=error.pg_message or error.message,
        statement_excerpt=statement.excerpt() if statement is not None else None,
        hint=(error.pg_hint + "; " if error.pg_hint else "")
        + f"nothing of {step.file} was committed{earlier}; fix it and deploy again with --with-seeds",
    )
