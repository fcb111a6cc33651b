"""A TEST DOUBLE of Hasura GraphQL Engine v2. It is NOT Hasura, and it is not a Hasura emulator.

It answers the calls kedge-hasura makes, shaped as in /work/shared/hasura-contract.md, and does the
work on a REAL PostgreSQL database so that transactions, SQLSTATEs and the catalog are real:

- POST /v2/query: `run_sql` (the whole string in ONE transaction, simple protocol, last result,
  text values; `read_only`; `no_transaction` only when emulating v2.45.3 or newer; the metadata
  check of metadata_check.py when `check_metadata_consistency` or the heuristic asks for it) and
  `bulk` (NOT one transaction: each item in its own, stop at the first failure, earlier items
  stay committed, `path: $.args[i].args`).
- POST /v1/metadata: export (v1, v2), replace (v1, v2 with allow_inconsistent_metadata and
  resource_version → 409), reload, get_inconsistent_metadata, get/set_catalog_state (a real
  `hdb_catalog.hdb_version` row, replaced whole), pg_get_source_tables, pg_track_table,
  pg_untrack_table, pg_track_tables (v2.26.0+), and `bulk` (saved once, at the end).
- GET /v1/version (configurable, default "v2.48.5"), GET /healthz (and ?strict=true).
- The admin secret (401 shapes of §1.5; a non-admin X-Hasura-Role gets 400 access-denied).
- pgcrypto where Hasura puts it: in public of the metadata database at start-up, and in a source
  only when metadata first gives one of its tables an event trigger (never in other sources).
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
- A checked run_sql does what RunSQL.hs does in two phases: inside the transaction, objects of
  other tracked tables that depend on a dropped table or column are a `dependency-error` that
  rolls back (with `cascade`: purged), and dropped tracked tables are untracked; after the
  COMMIT, new inconsistent objects fail the call with 400 `unexpected` "cannot continue due to
  new inconsistent metadata" while the SQL stays committed and metadata stays as it was. Tables
  are followed by OID and columns by attnum, so renames are renamed in metadata, except inside
  permission filters and checks (Hasura renames those too). Not modelled: column type changes
  (Hasura: dependency-error when a permission uses the column), functions and computed fields,
  event-trigger SQL triggers.
- reload_metadata is STRICTER than Hasura on purpose: a request that leaves out any of
  `reload_remote_schemas`, `reload_sources`, `recreate_event_triggers`, `reload_data_connectors`
  gets 400 parse-failed, because their defaults changed across versions (facts §2(d)); a real
  server applies its own defaults. All four are otherwise accepted and every source is re-read.
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

Each behaviour above that our results depend on is pinned in the live suite, so a run with
KEDGE_TEST_HASURA_URL checks it against a real server: tests/hasura_e2e/test_behaviour.py
(run_sql, bulk, catalog state, inconsistency kinds) and test_behaviour_server_side.py (the
metadata check's two phases, renames, READ COMMITTED, pgcrypto, reload_metadata's arguments).
The parts a live server cannot be made to show (a source without pgcrypto, the strict reload)
are tested on the double alone there. Not live-tested: type changes, renames inside filters,
warnings, event triggers, hidden `internal`, a lost source (each needs a server set up for it).

Start it on its own with `python -m tests.hasura_double --port 8089` (see __main__.py), or in
tests with the `hasura_double` fixture (tests/hasura_e2e/conftest.py).
"""

from .api import DoubleConfig, HasuraAPI
from .faults import FaultKind, Faults
from .server import HasuraDouble

__all__ = ["DoubleConfig", "FaultKind", "Faults", "HasuraAPI", "HasuraDouble"]
