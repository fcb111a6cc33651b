"""Scratch databases: cheap, uniquely named, dropped afterwards; on our own server or an existing one.

Every scratch database is a copy of a template database prepared once per run, so creating one
costs a file copy (tens of milliseconds), and the squash verifier and the tests can use many.

The template mimics a Hasura-managed database by default: Hasura installs `pgcrypto` in `public`
when it initialises its catalogue, and many real histories call `public.gen_random_uuid()`
without creating the extension. `Preconditions` records what the template got, so snapshots and
generated SQL can leave those objects out (they belong to Hasura, not to the migrations).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from kedge_hasura.errors import DatabaseError
from kedge_hasura.pg.binaries import PgInstallation, choose_installation, find_installations
from kedge_hasura.pg.server import ScratchServer
from kedge_hasura.settings import redact_url

# Extensions that Hasura-managed databases have, and that the embedded PostgreSQL 18 lacks.
HASURA_EXTENSIONS = ("pgcrypto",)
EMBEDDED_MISSING_EXTENSIONS = ("pgcrypto", "uuid-ossp")


@dataclass(frozen=True)
class Preconditions:
    """What the template database holds before any migration runs."""

    hasura_mimic: bool
    extensions: tuple[str, ...] = ()  # created by the precondition, e.g. ("pgcrypto",)
    unavailable: tuple[str, ...] = ()  # asked for but not installable on this server
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ScratchDatabase:
    """One scratch database; `conninfo` connects to it as a superuser."""

    name: str
    conninfo: str


class ScratchCluster:
    """Where scratch databases live: our own `ScratchServer`, or an existing server (--scratch-url).

    Use as a context manager; on exit every database it created is dropped and an own server is
    stopped. `database()` gives one database for the length of a `with` block.
    """

    def __init__(
        self,
        *,
        scratch_url: str | None = None,
        installation: PgInstallation | None = None,
        hasura_preconditions: bool = True,
    ):
        self._scratch_url = scratch_url
        self._installation = installation
        self._hasura_preconditions = hasura_preconditions
        self._server: ScratchServer | None = None
        self._prefix = f"kedge_{secrets.token_hex(4)}"
        self._counter = itertools.count(1)
        self._created: list[str] = []
        self._template: str | None = None
        self.preconditions = Preconditions(hasura_mimic=hasura_preconditions)
        self.server_version_num = 0

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> Self:
        """Start our server (or check the existing one) and prepare the template database.

        Raises:
            ToolError: no PostgreSQL server binaries (and no --scratch-url).
            DatabaseError: the server could not be started or reached.
        """
        try:
            if self._scratch_url is None:
                if self._installation is None:
                    self._installation = choose_installation()
                self._server = ScratchServer(self._installation).start()
            self._prepare_template()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Drop every database we created, then stop our server (idempotent)."""
        if self._server is not None:
            # The whole cluster goes away with its folder: no need to drop databases one by one.
            # The watchdog deletes the folder on its own (seconds for a large history): not waited for.
            self._server.stop(wait_for_removal=False)
            self._server = None
            self._created.clear()
            return
        if self._scratch_url is not None and self._created:
            try:
                with self._connect_admin() as connection:
                    for name in reversed(self._created):
                        connection.execute(
                            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                        )
            except psycopg.Error as exc:
                raise DatabaseError(
                    f"could not drop scratch databases {', '.join(self._created)} on "
                    f"{redact_url(self._scratch_url)}: {exc}",
                    hint="drop them by hand with DROP DATABASE ... WITH (FORCE)",
                ) from exc
            self._created.clear()

    @property
    def major(self) -> int:
        return self.server_version_num // 10000

    @property
    def installation(self) -> PgInstallation | None:
        """The binaries of our own server (None with --scratch-url)."""
        return self._installation if self._server is not None else None

    def client_installation(self) -> PgInstallation:
        """Binaries whose pg_dump can read this server (same major, else the newest newer one).

        Raises:
            ToolError: no pg_dump of this major version or newer.
        """
        if self._server is not None and self._installation is not None:
            return self._installation
        candidates = [i for i in find_installations() if i.major >= self.major]
        if not candidates:
            from kedge_hasura.errors import ToolError

            raise ToolError(
                f"no pg_dump for PostgreSQL {self.major} or newer (the --scratch-url server's version)",
                hint=f"install the PostgreSQL {self.major} client programs",
            )
        return min(candidates, key=lambda i: (i.major != self.major, i.major))

    def describe(self) -> str:
        """A line for progress output: which server the scratch databases live on."""
        if self._server is not None and self._installation is not None:
            return f"scratch PostgreSQL {self._installation.version} ({self._installation.source})"
        return f"PostgreSQL {self.major} at {redact_url(self._scratch_url or '')}"

    def conninfo(self, dbname: str) -> str:
        if self._server is not None:
            return self._server.conninfo(dbname)
        assert self._scratch_url is not None
        return make_conninfo(self._scratch_url, dbname=dbname)

    def create_database(
        self, label: str = "db", *, empty: bool = False, copy_of: ScratchDatabase | None = None
    ) -> ScratchDatabase:
        """A new database copied from the template, from another scratch database (`copy_of`,
        which must have no open connections), or empty (from template0).

        Raises:
            DatabaseError: CREATE DATABASE failed.
        """
        name = f"{self._prefix}_{label}_{next(self._counter)}"
        template = "template0" if empty else copy_of.name if copy_of else self._template
        with self._connect_admin() as connection:
            try:
                connection.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template or "template0")
                    )
                )
            except psycopg.Error as exc:
                raise DatabaseError(f"could not create scratch database {name}: {exc}") from exc
        self._created.append(name)
        return ScratchDatabase(name=name, conninfo=self.conninfo(name))

    def template_database(self) -> ScratchDatabase:
        """The template every scratch database is copied from, to read or copy, never to change.

        Raises:
            DatabaseError: the cluster has not been started.
        """
        if self._template is None:
            raise DatabaseError("the scratch cluster has not been started")
        return ScratchDatabase(name=self._template, conninfo=self.conninfo(self._template))

    def drop_database(self, database: ScratchDatabase) -> None:
        """Drop a scratch database now (all are dropped at the end anyway)."""
        with self._connect_admin() as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database.name))
            )
        if database.name in self._created:
            self._created.remove(database.name)

    def cancel_queries(self, database: ScratchDatabase) -> None:
        """Cancel whatever runs on `database` now (a replay being abandoned after Ctrl-C)."""
        with self._connect_admin() as connection:
            connection.execute(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database.name,),
            )

    @contextmanager
    def database(
        self, label: str = "db", *, empty: bool = False, copy_of: ScratchDatabase | None = None
    ) -> Iterator[ScratchDatabase]:
        """A scratch database for the length of a `with` block."""
        database = self.create_database(label, empty=empty, copy_of=copy_of)
        try:
            yield database
        finally:
            self.drop_database(database)

    def missing_extension_hint(self, message: str) -> str | None:
        """A hint when a failure looks like an extension this server lacks (embedded PostgreSQL)."""
        lowered = message.lower()
        looks_related = any(
            word in lowered
            for word in (
                "pgcrypto",
                "uuid-ossp",
                "uuid_generate",
                "gen_random_uuid",
                "crypt(",
                "digest(",
                "gen_salt",
            )
        )
        if not looks_related:
            return None
        if self.installation is not None and self.installation.is_embedded:
            return (
                "the embedded PostgreSQL 18 lacks pgcrypto and uuid-ossp; install PostgreSQL server "
                "packages with those extensions (Debian: postgresql-contrib is included in postgresql), "
                "or pass --scratch-url to a server that has them"
            )
        if not self._hasura_preconditions:
            return (
                "Hasura installs pgcrypto in public on every database it manages; "
                "drop --no-hasura-preconditions to mimic that"
            )
        return None

    def _connect_admin(self) -> psycopg.Connection[tuple[object, ...]]:
        conninfo = self._server.conninfo("postgres") if self._server is not None else self._scratch_url
        assert conninfo is not None
        try:
            return psycopg.connect(conninfo, autocommit=True, connect_timeout=15)
        except psycopg.Error as exc:
            where = "the scratch server" if self._server is not None else redact_url(conninfo)
            raise DatabaseError(
                f"cannot connect to {where}: {str(exc).strip()}",
                hint=None if self._server is not None else "check --scratch-url (KEDGE_SCRATCH_URL)",
            ) from None

    def _prepare_template(self) -> None:
        with self._connect_admin() as connection:
            row = connection.execute("SELECT current_setting('server_version_num')::int").fetchone()
            self.server_version_num = int(str(row[0])) if row else 0
            name = f"{self._prefix}_template"
            connection.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        self._created.append(name)
        self._template = name
        created: list[str] = []
        unavailable: list[str] = []
        if self._hasura_preconditions:
            with psycopg.connect(self.conninfo(name), autocommit=True) as template:
                for extension in HASURA_EXTENSIONS:
                    available = template.execute(
                        "SELECT 1 FROM pg_available_extensions WHERE name = %s", (extension,)
                    ).fetchone()
                    if available:
                        template.execute(
                            sql.SQL("CREATE EXTENSION IF NOT EXISTS {} SCHEMA public").format(
                                sql.Identifier(extension)
                            )
                        )
                        created.append(extension)
                    else:
                        unavailable.append(extension)
        self.preconditions = Preconditions(
            hasura_mimic=self._hasura_preconditions,
            extensions=tuple(created),
            unavailable=tuple(unavailable),
            notes=tuple(
                f"{extension} is not available on this server, so the Hasura precondition "
                f"(CREATE EXTENSION {extension} SCHEMA public) was skipped"
                for extension in unavailable
            ),
        )


def conninfo_database(conninfo: str) -> str:
    """The database name a connection string points at (for messages)."""
    return str(conninfo_to_dict(conninfo).get("dbname", ""))
