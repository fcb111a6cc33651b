"""Scan `migrations/` the way the official Hasura CLI does, and report everything it would ignore.

The CLI (cli/migrate/source/file/file.go, contract §4.7) looks only at the top level of
`migrations/<database>/` (config v3) or `migrations/` (config v2): folders `<digits>_<name>`
holding `up.sql`/`down.sql`, and flat files `<digits>_<name>.up.sql`/`.down.sql`. Versions are
unsigned 64-bit integers ordered numerically; 0-byte files count as absent. Everything else is
skipped silently by the CLI; we skip it too, but say so in a finding.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from kedge_hasura.errors import ProjectError
from kedge_hasura.findings import Finding, Severity
from kedge_hasura.project.bounds import OUTSIDE_CODE, is_outside
from kedge_hasura.project.naming import (
    migration_folder_name,
    parse_archive_folder,
    parse_flat_file,
    parse_migration_folder,
)
from kedge_hasura.sql.statements import ParsedSql, parse_sql

MAX_VERSION = 2**64 - 1
_UTF8_BOM = b"\xef\xbb\xbf"
# Parsing SQL costs about 40 bytes of memory per byte of text (a 50 MB data dump took 2 GB and
# 100 s in `status`). Files above this size are still read, checksummed and replayed, but the
# per-statement analysis of `status` and `check` skips them (finding `sql-not-analysed`).
MAX_ANALYSED_SQL_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class SqlFile:
    """The text of an up.sql or down.sql file (non-empty; 0-byte files are treated as absent)."""

    path: Path
    text: str
    sha256: str
    size: int

    @cached_property
    def parsed(self) -> ParsedSql:
        return parse_sql(self.text)

    @property
    def analysable(self) -> bool:
        """Small enough for the per-statement analysis of status and check (MAX_ANALYSED_SQL_BYTES)."""
        return self.size <= MAX_ANALYSED_SQL_BYTES


@dataclass(frozen=True)
class Migration:
    """One migration version of one database."""

    database: str
    version: int
    name: str
    location: Path  # the version folder, or the flat up/down file
    up: SqlFile | None
    down: SqlFile | None
    form: Literal["folder", "flat"] = "folder"

    @property
    def key(self) -> str:
        """`<version>_<name>`: the folder name the CLI shows."""
        return migration_folder_name(self.version, self.name)


@dataclass(frozen=True)
class DatabaseMigrations:
    """The migrations of one database (Hasura source), ordered by version."""

    database: str
    directory: Path
    migrations: tuple[Migration, ...]
    archives: tuple[Path, ...] = ()

    def by_version(self, version: int) -> Migration | None:
        return next((m for m in self.migrations if m.version == version), None)

    def select(self, from_version: int | None = None, to_version: int | None = None) -> tuple[Migration, ...]:
        """The migrations with from_version <= version <= to_version (either bound optional)."""
        return tuple(
            m
            for m in self.migrations
            if (from_version is None or m.version >= from_version)
            and (to_version is None or m.version <= to_version)
        )


@dataclass(frozen=True)
class MigrationScan:
    """The result of scanning `migrations/`: databases found and findings (errors and warnings)."""

    root: Path
    layout: Literal["v3", "v2"]
    databases: dict[str, DatabaseMigrations]
    findings: tuple[Finding, ...] = field(default=())

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)


def scan_migrations(
    root: Path,
    *,
    config_version: int = 3,
    declared_databases: set[str] | None = None,
    analyze_sql: bool = True,
) -> MigrationScan:
    """Scan a migrations folder. Never raises for project problems: they become findings.

    `declared_databases` are the source names from metadata; a config v3 database folder that
    metadata does not declare is an error. `analyze_sql` adds per-statement findings
    (non-transactional statements, explicit transaction control, syntax our parser rejects).
    """
    scanner = _Scanner(root)
    if not root.is_dir():
        return MigrationScan(root=root, layout="v3" if config_version >= 3 else "v2", databases={})
    if config_version >= 3:
        for entry in _entries(root):
            if entry.is_dir() and entry.name.startswith("."):
                scanner.note("ignored-folder", Severity.INFO, f"hidden folder {entry.name} ignored", entry)
                continue
            if entry.is_dir():
                if parse_migration_folder(entry.name):
                    scanner.note(
                        "misplaced-migration",
                        Severity.WARNING,
                        f"{entry.name} looks like a config v2 migration; with config v3 the CLI only "
                        "reads migrations/<database>/<version>_<name>/, so it is ignored",
                        entry,
                        hint="move it into migrations/default/ (or the database it belongs to)",
                    )
                    continue
                if declared_databases is not None and entry.name not in declared_databases:
                    scanner.note(
                        "undeclared-database",
                        Severity.ERROR,
                        f"migrations folder for database {entry.name!r}, which metadata does not declare "
                        f"(declared: {', '.join(sorted(declared_databases)) or 'none'})",
                        entry,
                        database=entry.name,
                        hint="add the database to metadata/databases/databases.yaml, or rename the folder "
                        "to the source name used there",
                    )
                scanner.scan_database(entry.name, entry)
            else:
                scanner.ignored_file(entry, "with config v3, migrations live in migrations/<database>/")
        layout: Literal["v3", "v2"] = "v3"
    else:
        scanner.scan_database("default", root)
        layout = "v2"

    findings = list(scanner.findings)
    if analyze_sql:
        for database in scanner.databases.values():
            for migration in database.migrations:
                findings.extend(sql_findings(migration))
    return MigrationScan(root=root, layout=layout, databases=scanner.databases, findings=tuple(findings))


def sql_findings(migration: Migration) -> list[Finding]:
    """Per-statement findings for one migration's up.sql and down.sql."""
    findings: list[Finding] = []
    for sql in (migration.up, migration.down):
        if sql is None:
            continue
        if not sql.analysable:
            limit = f"{MAX_ANALYSED_SQL_BYTES // 2**20} MiB"
            message = f"{sql.path.name} is {sql.size / 2**20:.1f} MiB, over the {limit} statement checks read"
            at = {"path": sql.path, "database": migration.database, "version": migration.version}
            findings.append(Finding(code="sql-not-analysed", severity=Severity.INFO, message=message, **at))
            continue
        parsed = sql.parsed

        def note(code: str, severity: Severity, message: str, line: int | None, hint: str | None) -> None:
            findings.append(
                Finding(
                    code=code,
                    severity=severity,
                    message=message,
                    path=sql.path,  # noqa: B023 - used immediately, inside this iteration
                    line=line,
                    hint=hint,
                    database=migration.database,
                    version=migration.version,
                )
            )

        if parsed.syntax_error:
            error = parsed.syntax_error
            note(
                "sql-syntax",
                Severity.WARNING,
                f"PostgreSQL 18's grammar rejects this file: {error.message} (column {error.column}); "
                "statement boundaries are estimated",
                error.line,
                "a psql meta-command (\\connect, \\restrict, ...) cannot run through Hasura's run_sql; "
                "newer-server syntax is fine if your server accepts it",
            )
        if sql is migration.up and not parsed.statements:
            note("empty-up", Severity.INFO, "up.sql contains no SQL statements (only comments)", None, None)
        for statement in parsed.statements:
            if statement.non_transactional:
                if parsed.has_no_transaction_marker:
                    note(
                        "no-transaction-marker",
                        Severity.INFO,
                        f"{statement.non_transactional} runs outside a transaction "
                        "(the file starts with -- hasura:no-transaction)",
                        statement.line,
                        "needs Hasura v2.45.3 or later, which honours run_sql's no_transaction",
                    )
                else:
                    note(
                        "non-transactional",
                        Severity.WARNING,
                        f"{statement.non_transactional} cannot run inside a transaction block, and "
                        "Hasura's run_sql always opens one (SQLSTATE 25001)",
                        statement.line,
                        "move it into its own migration whose first line is -- hasura:no-transaction "
                        "(Hasura v2.45.3+), or run it outside Hasura",
                    )
            if statement.transaction_control:
                note(
                    "transaction-control",
                    Severity.WARNING,
                    f"explicit {statement.transaction_control}: Hasura already wraps each migration in "
                    "a transaction, so this ends or nests it and breaks all-or-nothing",
                    statement.line,
                    "remove BEGIN/COMMIT from migration files",
                )
            if statement.copy_from_stdin:
                note(
                    "copy-from-stdin",
                    Severity.ERROR,
                    "COPY ... FROM STDIN needs a client data stream, which Hasura's run_sql cannot send",
                    statement.line,
                    "rewrite the data as INSERT statements",
                )
    return findings


class _Scanner:
    def __init__(self, root: Path):
        self.root = root
        self.findings: list[Finding] = []
        self.databases: dict[str, DatabaseMigrations] = {}
        # Files whose reading already produced an error finding (unreadable, not UTF-8): they must
        # not also be reported as missing.
        self.broken_files: set[Path] = set()
        self._directory = root  # the database folder being scanned

    def note(
        self,
        code: str,
        severity: Severity,
        message: str,
        path: Path | None,
        *,
        line: int | None = None,
        hint: str | None = None,
        database: str | None = None,
        version: int | None = None,
    ) -> None:
        self.findings.append(
            Finding(
                code=code,
                severity=severity,
                message=message,
                path=path,
                line=line,
                hint=hint,
                database=database,
                version=version,
            )
        )

    def ignored_file(self, path: Path, why: str, *, database: str | None = None) -> None:
        if path.name.startswith("."):
            self.note(
                "ignored-file", Severity.INFO, f"hidden file {path.name} ignored", path, database=database
            )
            return
        self.note(
            "ignored-file",
            Severity.WARNING,
            f"{path.name} is not a migration file and is ignored by the Hasura CLI ({why})",
            path,
            database=database,
            hint="move it out of the migrations folder, or name it <version>_<name>/up.sql",
        )

    def scan_database(self, database: str, directory: Path) -> None:
        self._directory = directory
        parts: dict[int, list[_Part]] = defaultdict(list)
        archives: list[Path] = []
        for entry in _entries(directory):
            if entry.is_dir():
                folder = parse_migration_folder(entry.name)
                if folder:
                    self._scan_version_folder(database, entry, folder, parts)
                elif parse_archive_folder(entry.name):
                    archives.append(entry)
                    self.note(
                        "archive-folder",
                        Severity.INFO,
                        f"archive {entry.name} (ignored by the Hasura CLI, as intended)",
                        entry,
                        database=database,
                    )
                else:
                    self.note(
                        "ignored-folder",
                        Severity.WARNING,
                        f"folder {entry.name} has no numeric version prefix and is ignored by the Hasura CLI",
                        entry,
                        database=database,
                        hint="migration folders are named <version>_<name>, e.g. 1718000000000_create_users",
                    )
                continue
            flat = parse_flat_file(entry.name)
            if flat:
                version = self._version(flat[0], entry, database)
                if version is not None:
                    sql = self._read_sql(entry, database, version)
                    parts[version].append(_Part(flat[1], entry, "flat", flat[2], sql))
            else:
                self.ignored_file(
                    entry,
                    "only <version>_<name>/ folders and <version>_<name>.up.sql files count",
                    database=database,
                )

        migrations = []
        for version in sorted(parts):
            migration = self._combine(database, version, parts[version])
            if migration is not None:
                migrations.append(migration)
        widths = {len(str(m.version)) for m in migrations}
        if len(widths) > 1:
            self.note(
                "mixed-version-widths",
                Severity.INFO,
                f"versions of {', '.join(str(w) for w in sorted(widths))} digits are mixed; they are "
                "ordered numerically, as the CLI does, so shorter (older-style) versions come first",
                directory,
                database=database,
            )
        self.databases[database] = DatabaseMigrations(
            database=database, directory=directory, migrations=tuple(migrations), archives=tuple(archives)
        )

    def _scan_version_folder(
        self, database: str, folder: Path, match: tuple[str, str], parts: dict[int, list[_Part]]
    ) -> None:
        version = self._version(match[0], folder, database)
        if version is None:
            return
        found: dict[str, SqlFile | None] = {}
        for entry in _entries(folder):
            if entry.is_file() and entry.name in ("up.sql", "down.sql"):
                found[entry.name[:-4]] = self._read_sql(entry, database, version)
            elif entry.is_dir():
                self.note(
                    "ignored-folder",
                    Severity.WARNING,
                    f"sub-folder {entry.name} inside a migration is ignored by the Hasura CLI",
                    entry,
                    database=database,
                    version=version,
                )
            elif entry.name in ("up.yaml", "down.yaml"):
                self.note(
                    "ignored-file",
                    Severity.WARNING,
                    f"{entry.name} holds config v1 metadata steps, which config v2/v3 CLIs ignore",
                    entry,
                    database=database,
                    version=version,
                    hint="metadata lives in metadata/ since config v2; delete the file once it is applied",
                )
            else:
                self.ignored_file(entry, "only up.sql and down.sql are read", database=database)
        parts[version].append(
            _Part(
                match[1],
                folder,
                "folder",
                "up",
                found.get("up"),
                down=found.get("down"),
            )
        )

    def _combine(self, database: str, version: int, pieces: list[_Part]) -> Migration | None:
        # One folder, or one flat up/down pair with the same name; anything else defines the
        # version twice (the CLI would keep whichever file it read last).
        folders = [p for p in pieces if p.form == "folder"]
        flat_directions = [p.direction for p in pieces if p.form == "flat"]
        is_duplicate = (
            len(folders) > 1
            or (folders and flat_directions)
            or len({p.name for p in pieces}) > 1
            or len(flat_directions) != len(set(flat_directions))
        )
        if is_duplicate:
            shown = ", ".join(sorted({str(p.location) for p in pieces}))
            self.note(
                "duplicate-version",
                Severity.ERROR,
                f"version {version} is defined more than once: {shown}",
                pieces[0].location,
                database=database,
                version=version,
                hint="every migration needs its own version; rename one of them with a new timestamp",
            )
            return None
        up = down = None
        first = next((p for p in pieces if p.direction == "up"), pieces[0])
        location = first.location
        up_path = location / "up.sql" if first.form == "folder" else location
        down_path = location / "down.sql" if first.form == "folder" else None
        for piece in pieces:
            if piece.form == "folder":
                up, down = piece.sql, piece.down
            elif piece.direction == "up":
                up = piece.sql
            else:
                down, down_path = piece.sql, piece.location
        if up is None and up_path in self.broken_files:
            return None  # already reported as unreadable or not UTF-8
        if up is None:
            why = (
                "an empty up.sql (0 bytes counts as absent, as in the CLI)"
                if up_path.is_file()
                else "no up.sql"
            )
            self.note(
                "missing-up",
                Severity.ERROR,
                f"migration {migration_folder_name(version, first.name)} has {why}",
                location,
                database=database,
                version=version,
                hint="add the SQL to up.sql; a placeholder migration needs at least a comment in it",
            )
            return None
        if down is None and down_path not in self.broken_files:
            empty = down_path is not None and down_path.is_file()
            self.note(
                "missing-down",
                Severity.WARNING,
                f"migration {migration_folder_name(version, first.name)} has "
                + ("an empty down.sql (0 bytes counts as absent)" if empty else "no down.sql")
                + ", so it cannot be rolled back",
                location,
                database=database,
                version=version,
                hint="write a down.sql that undoes up.sql",
            )
        return Migration(
            database=database,
            version=version,
            name=first.name,
            location=location,
            up=up,
            down=down,
            form=first.form,
        )

    def _version(self, digits: str, path: Path, database: str) -> int | None:
        version = int(digits)
        if version > MAX_VERSION:
            self.note(
                "invalid-version",
                Severity.ERROR,
                f"version {digits} does not fit in an unsigned 64-bit integer",
                path,
                database=database,
                hint="versions are millisecond timestamps such as 1718000000000",
            )
            return None
        return version

    def _read_sql(self, path: Path, database: str, version: int) -> SqlFile | None:
        if is_outside(path, self._directory):
            self.note(
                OUTSIDE_CODE,
                Severity.WARNING,
                f"{path.name} is read from outside the migrations folder ({os.path.realpath(path)})",
                path,
                database=database,
                version=version,
                hint="copy the file into the project; `check` fails on it unless config.yaml lists "
                f"{OUTSIDE_CODE} under kedge: check: ignore",
            )
        try:
            raw = path.read_bytes()
        except OSError as exc:
            self.broken_files.add(path)
            self.note(
                "unreadable-sql",
                Severity.ERROR,
                f"cannot read {path.name}: {exc.strerror}",
                path,
                database=database,
                version=version,
                hint="check the file's permissions",
            )
            return None
        if not raw:
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.broken_files.add(path)
            line = raw[: exc.start].count(b"\n") + 1
            self.note(
                "invalid-encoding",
                Severity.ERROR,
                f"{path.name} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at line {line})",
                path,
                line=line,
                database=database,
                version=version,
                hint="re-save the file as UTF-8 (Hasura sends SQL as a JSON string, which must be UTF-8)",
            )
            return None
        if raw.startswith(_UTF8_BOM):
            self.note(
                "utf8-bom",
                Severity.ERROR,
                f"{path.name} starts with a UTF-8 byte-order mark, which PostgreSQL reads as part of the "
                "first word and rejects",
                path,
                line=1,
                database=database,
                version=version,
                hint="save the file as UTF-8 without BOM",
            )
        return SqlFile(path=path, text=text, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw))


@dataclass
class _Part:
    name: str
    location: Path
    form: Literal["folder", "flat"]
    direction: str
    sql: SqlFile | None
    down: SqlFile | None = None


def _entries(directory: Path) -> list[Path]:
    return sorted(directory.iterdir(), key=lambda p: p.name)


def load_sql_file(path: Path) -> SqlFile:
    """Read one SQL file outside a migrations folder (a `diff` side, `--pre-sql`).

    Raises:
        ProjectError: unreadable, empty, or not UTF-8 (with the line of the bad byte).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProjectError(f"cannot read {path}: {exc.strerror}", hint="check the path") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ProjectError(f"{path}:{line}: not valid UTF-8", hint="save the file as UTF-8") from None
    return SqlFile(path=path, text=text, sha256=hashlib.sha256(raw).hexdigest(), size=len(raw))


def scan_database_folder(database: str, directory: Path, *, analyze_sql: bool = False) -> MigrationScan:
    """Scan one database's folder (a staged copy, or an archive of originals) on its own."""
    scanner = _Scanner(directory)
    scanner.scan_database(database, directory)
    findings = list(scanner.findings)
    if analyze_sql:
        for migration in scanner.databases[database].migrations:
            findings.extend(sql_findings(migration))
    return MigrationScan(root=directory, layout="v3", databases=scanner.databases, findings=tuple(findings))
