"""Read catalog queries through Hasura's run_sql (read-only), so a schema can be diffed via Hasura.

All queries of a batch go in ONE run_sql: each becomes a scalar subquery in one row of a VALUES
list aggregated by `json_object_agg` (not arguments of one `json_build_object`, which stops at
PostgreSQL's 100-argument limit: 50 queries), after `SET LOCAL` of the session settings. run_sql
returns only the last statement's result, and one statement means one transaction, hence one
consistent snapshot and one HTTP round trip. TuplesOk values arrive as text (contract §2.5): the
JSON is parsed here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kedge_hasura.errors import HasuraBadResponse
from kedge_hasura.hasura.client import HasuraClient
from kedge_hasura.sql.quoting import quote_literal


class RunSqlExecutor:
    """A schema-snapshot executor (schemadiff.snapshot.Executor) over Hasura's run_sql."""

    def __init__(self, client: HasuraClient, *, source: str = "default"):
        self._client = client
        self._source = source
        self.request_count = 0

    def __enter__(self) -> RunSqlExecutor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def fetch_json(self, sql: str, *, session: Sequence[tuple[str, str]] = ()) -> Any:
        return self._run(f"SELECT ({_strip(sql)})::text", session)

    def fetch_json_batch(
        self, queries: dict[str, str], *, session: Sequence[tuple[str, str]] = ()
    ) -> dict[str, Any]:
        if not queries:
            return {}
        rows = ",\n".join(f"({quote_literal(name)}, ({_strip(sql)})::json)" for name, sql in queries.items())
        value = self._run(f"SELECT json_object_agg(k, v)::text FROM (VALUES\n{rows}) AS batch(k, v)", session)
        if not isinstance(value, dict):
            raise HasuraBadResponse("run_sql returned something other than the catalog batch", status=200)
        return value

    def _run(self, select: str, session: Sequence[tuple[str, str]]) -> Any:
        self.request_count += 1
        # SET LOCAL lasts until the end of this run_sql's transaction: nothing leaks to other calls.
        prefix = "".join(f"SET LOCAL {name} = {quote_literal(value)};\n" for name, value in session)
        result = self._client.run_sql(
            prefix + select, source=self._source, read_only=True, check_metadata_consistency=None
        )
        rows = result.rows
        if not rows or not rows[0] or rows[0][0] is None:
            raise HasuraBadResponse(
                f"run_sql on source {self._source!r} returned no catalog rows", status=200
            )
        return json.loads(rows[0][0])


def _strip(sql: str) -> str:
    # The query is embedded in a larger statement: no trailing semicolon. Comments are harmless,
    # since every line keeps its newline.
    return sql.strip().rstrip(";")
