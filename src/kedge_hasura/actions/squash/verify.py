"""Squash verification: the squashed migration must build the same schema and rows as the originals.

It is called identical only when nothing differs at all; otherwise equivalent, with the definitions
that differ only in how PostgreSQL prints them listed (see actions.squash.roundtrip).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import BaseModel

from kedge_hasura.actions.squash.equivalence import SquashNotEquivalent
from kedge_hasura.actions.squash.roundtrip import EquivalentDefinition, equivalent_only
from kedge_hasura.actions.squash.steps import Work, apply_scripts, read_both, script, take_candidate
from kedge_hasura.findings import Severity
from kedge_hasura.pg.catalog import PsycopgExecutor
from kedge_hasura.pg.scratch import ScratchDatabase
from kedge_hasura.schemadiff.compare import CompareOptions, Difference, SchemaDiff, compare
from kedge_hasura.schemadiff.data import DataDiff, DataOptions, compare_data
from kedge_hasura.schemadiff.model import Snapshot


class Verification(BaseModel):
    verified: bool
    schema_differences: list[Difference] = []  # the accepted ones (info) when verified
    schema_identical: bool = False  # no difference of any severity (what pg_dump of both shows)
    equivalent_only: list[EquivalentDefinition] = []  # differ only in how PostgreSQL prints them
    data_identical: bool = True  # every table compared, and equal
    tables_compared: int = 0  # tables whose rows were compared (and found equal, when verified)
    tables_total: int = 0
    down_verified: bool | None = None  # None: not checked (a concat range with missing downs)
    idempotent_verified: bool | None = None


def verify(
    work: Work,
    before: ScratchDatabase,
    replayed: ScratchDatabase,
    final: Snapshot,
    up_sql: str,
    down_sql: str,
    frozen: list[str],
) -> tuple[Verification, float]:
    work.say("verifying: applying the squashed migration on a fresh copy")
    candidate = take_candidate(work, before)
    started = time.perf_counter()
    apply_scripts(work, candidate, [script(work, "up.sql", up_sql)])
    seconds = time.perf_counter() - started
    variation = work.variation
    varying = (*variation.nondeterministic_tables, *variation.nondeterministic_sequences)
    schema, data = compare_states(work, replayed.conninfo, candidate.conninfo, frozen, varying)
    idempotent = None
    if work.request.idempotent and not schema.failing(Severity.WARNING) and data.identical:
        apply_scripts(work, candidate, [script(work, "up.sql (again)", up_sql)])
        again, again_data = compare_states(work, replayed.conninfo, candidate.conninfo, frozen, varying)
        idempotent = not again.failing(Severity.WARNING) and again_data.identical
    if schema.failing(Severity.WARNING) or not data.identical or idempotent is False:
        raise SquashNotEquivalent(
            "the squashed migration does not build the same database as the originals; nothing was written",
            hint="the differences are listed above; please report the case, it is a bug in kedge-hasura "
            "or a migration whose result depends on when it runs",
            schema=schema,
            data=data,
        )
    down_verified = None
    if not (work.request.strategy == "concat" and any(m.down is None for m in work.selected)):
        work.say("verifying: applying the squashed down.sql")
        apply_scripts(work, candidate, [script(work, "down.sql", down_sql)])
        down_schema, down_data = compare_states(work, before.conninfo, candidate.conninfo, [])
        down_verified = not down_schema.failing(Severity.WARNING) and down_data.identical
        if not down_verified:
            raise SquashNotEquivalent(
                "the squashed down.sql does not return the database to its state before the range; "
                "nothing was written",
                schema=down_schema,
                data=down_data,
            )
    work.cluster.drop_database(candidate)
    infos = [d for d in schema.differences if d.severity is Severity.INFO]
    compared = [table for table in data.tables if table.status == "identical"]
    return (
        Verification(
            verified=True,
            schema_differences=infos,
            schema_identical=not schema.differences,
            equivalent_only=equivalent_only(schema.differences),
            data_identical=len(compared) == len(data.tables),
            tables_compared=len(compared),
            tables_total=len(data.tables),
            down_verified=down_verified,
            idempotent_verified=idempotent,
        ),
        seconds,
    )


def compare_states(
    work: Work, source: str, target: str, frozen: list[str], varying: Sequence[str] = ()
) -> tuple[SchemaDiff, DataDiff]:
    """Schema and rows of two states; `frozen` columns and `varying` tables and sequences
    (which differ between replays of the same history) are left out of the row comparison."""
    with (
        PsycopgExecutor(source, label="the replayed originals") as a,
        PsycopgExecutor(target, label="the squashed migration") as b,
    ):
        snapshot_a, snapshot_b = read_both(a, b, work.scope)
        schema = compare(
            snapshot_a,
            snapshot_b,
            options=CompareOptions(),
            source_label="originals",
            target_label="squashed",
        )
        data = compare_data(
            (a, snapshot_a),
            (b, snapshot_b),
            DataOptions(
                max_rows=10**9,
                ignore_columns=frozenset(frozen),
                nondeterministic_tables=frozenset(varying),
                nondeterministic_sequences=frozenset(varying),
            ),
            scope=work.scope,
        )
    return schema, data
