"""sql.quoting agrees with the server: quote_ident() and quote_literal() as PostgreSQL computes them."""

from __future__ import annotations

import psycopg

from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.sql.quoting import quote_ident, quote_literal

NAMES = ["users", "name", "user", "select", "Users", "1st", "my table", 'say "hi"', "_x$1", "order", "é"]
TEXTS = ["plain", "it's", "back\\slash", "", "multi\nline"]


def test_quoting_matches_postgresql(pg_cluster: ScratchCluster) -> None:
    with psycopg.connect(pg_cluster.conninfo("postgres")) as connection:
        for name in NAMES:
            row = connection.execute("SELECT quote_ident(%s)", (name,)).fetchone()
            assert row is not None
            assert quote_ident(name) == row[0], name
        for text in TEXTS:
            row = connection.execute("SELECT %s = " + quote_literal(text), (text,)).fetchone()
            assert row == (True,), text
