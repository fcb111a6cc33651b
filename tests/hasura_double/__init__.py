"""A TEST DOUBLE of Hasura GraphQL Engine v2. It is NOT Hasura, and it is not a Hasura emulator.

It answers the calls kedge-hasura makes, shaped as in /work/shared/hasura-contract.md, and does the
work on a REAL PostgreSQL database so that transactions, SQLSTATEs and the catalog are real:

- POST /v2/query: `run_sql` (the whole string in ONE transaction, simple protocol, last result,
  text values; `read_only`; `no_transaction` only when emulating v2.45.3 or newer) and `bulk`
  (items in separate transactions, stop at the first failure, `path: $.args[i].args`).
- POST /v1/metadata: export (v1, v2), replace (v1, v2 with allow_inconsistent_metadata and
  resource_version → 409), reload, get_inconsistent_metadata, get/set_catalog_state (a real
  `hdb_catalog.hdb_version` row, replaced whole), pg_get_source_tables, pg_track_table,
  pg_untrack_table, pg_track_tables (v2.26.0+), and `bulk` (saved once, at the end).
- GET /v1/version (configurable, default "v2.48.5"), GET /healthz (and ?strict=true).
- The admin secret (401 shapes of §1.5; a non-admin X-Hasura-Role gets 400 access-denied).
- Fault injection (faults.py): fail the Nth request of an operation, reset the connection after
  committing, delay an answer past the client's timeout.

Where it differs from a real server (do not rely on these behaving like Hasura):
- No GraphQL, no remote schemas, actions, event triggers, functions, computed fields, remote
  relationships, cron triggers or data connectors; metadata sections other than `sources` are
  stored and returned but never checked.
  So the seeds of `deploy --with-seeds` (plain run_sql, after the metadata) never create events
  here, where on a real server a seeded table with an event trigger queues one event per row.
- Inconsistency checks cover only: missing tables/views, relationships naming a missing table,
  column or foreign key (or an untracked remote table), permissions for role `admin` or naming a
  missing column. Filters, checks, presets and computed fields are not checked; `name`/`reason`
  texts are close to Hasura's, not byte-exact.
- With the metadata check on, run_sql only detects dropped tracked tables (dependency-error, or
  untracking with cascade); renames are not propagated, functions are not checked, and the
  inconsistency list is rebuilt after the commit without failing the call.
- replace_metadata produces no `warnings` and ignores allow_warnings; drop_inconsistent_metadata,
  clear_metadata, bulk_keep_going, bulk_atomic and concurrent_bulk do not exist; a /v2/query
  bulk accepts only run_sql items.
- The answer of pg_track_tables with warnings and every error text not quoted in the contract
  (unknown operations: 400 parse-failed) are our best guess.
- Isolation level is always READ COMMITTED; statements for no_transaction are split with
  PostgreSQL 18's grammar (the real server's splitter is unknown, §11).
- A lost source database gives 500 `unexpected`, not Hasura's source-connection errors; the
  metadata database is assumed to be up (/healthz never answers plain `ERROR`).
- `internal` is always sent with an error unless DoubleConfig.hide_internal_errors (a real server
  decides by HASURA_GRAPHQL_DEV_MODE / HASURA_GRAPHQL_ADMIN_INTERNAL_ERRORS, §2.6); run_sql's
  BEGIN, the text and COMMIT run on one connection, so `SET LOCAL` and a RAISE at the end of the
  text roll back everything before it (test_behaviour.py checks this on a live server).
- Sources: `default` is the database it was started with; more through DoubleConfig.extra_sources.

Start it on its own with `python -m tests.hasura_double --port 8089` (see __main__.py), or in
tests with the `hasura_double` fixture (tests/hasura_e2e/conftest.py).
"""

from .api import DoubleConfig, HasuraAPI
from .faults import FaultKind, Faults
from .server import HasuraDouble

__all__ = ["DoubleConfig", "FaultKind", "Faults", "HasuraAPI", "HasuraDouble"]
