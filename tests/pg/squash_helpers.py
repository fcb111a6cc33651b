"""Helpers for the squash and archive tests: fixture projects, tree fingerprints, fresh databases.

Every case under tests/fixtures/squash/<case>/ is a minimal Hasura project (config v3, database
`default`). A case may hold `pre.sql`: objects the platform creates before any migration runs,
given to squash with --pre-sql. Its `expected.yaml` says what the round trip expects of it
beyond the checks every case gets (`CaseExpectations`).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql

from kedge_hasura.actions.squash.plan import SquashRequest
from kedge_hasura.actions.squash.run import SquashResult, squash
from kedge_hasura.pg.catalog import PsycopgExecutor
from kedge_hasura.pg.scratch import ScratchCluster, ScratchDatabase
from kedge_hasura.project.layout import open_project
from kedge_hasura.schemadiff.compare import SchemaDiff, compare
from kedge_hasura.schemadiff.data import DataDiff, DataOptions, compare_data
from kedge_hasura.schemadiff.snapshot import read_snapshot
from kedge_hasura.sql.pgdump import SECTIONS

SQUASH_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "squash"
CASES = sorted(p.name for p in SQUASH_FIXTURES.iterdir() if (p / "config.yaml").is_file())
SECTION_TITLES = [title for title, _ in SECTIONS]
_BANNER = re.compile(r"^-- -{72}\n-- (?P<title>.+)\n-- -{72}$", re.MULTILINE)


@dataclass(frozen=True)
class CaseExpectations:
    """A case's expected.yaml: what the round trip expects of it beyond the common checks."""

    refused_strategies: list[str] = field(default_factory=list)  # must refuse (not round-tripped)
    bugs: dict[str, str] = field(default_factory=dict)  # strategy → known bug (strict xfail)
    frozen_values: list[str] = field(default_factory=list)  # schema.table.column frozen at squash
    missing_downs: list[str] = field(default_factory=list)  # originals without a down.sql
    dump_contains: list[str] = field(default_factory=list)  # text in the dump strategy's up.sql
    dump_sections: list[str] | None = None  # section titles in order, if not the usual order
    not_in_up: list[str] = field(default_factory=list)  # text in neither the new up.sql nor down.sql
    dump_warnings_mention: list[str] = field(default_factory=list)  # text some dump warning holds
    round_trip_forms: bool = False  # pg_dump's text does not round-trip; verified forms replace it


def expectations(case: str) -> CaseExpectations:
    """Read tests/fixtures/squash/<case>/expected.yaml (every case has one; unknown keys fail)."""
    path = SQUASH_FIXTURES / case / "expected.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(data) - {f.name for f in fields(CaseExpectations)}
    assert not unknown, f"{path}: unknown keys {sorted(unknown)}"
    return CaseExpectations(**data)


# -- projects on disk ---------------------------------------------------------------------------


def copy_case(case: str, target: Path) -> Path:
    """A private copy of fixture `case` at `target/<case>`; returns the project folder."""
    root = target / case
    shutil.copytree(SQUASH_FIXTURES / case, root)
    return root


def migrations_dir(root: Path) -> Path:
    return root / "migrations" / "default"


def pre_sql_of(root: Path) -> Path | None:
    path = root / "pre.sql"
    return path if path.is_file() else None


def original_migrations(case: str) -> list[Path]:
    """The fixture's migration folders in version order (numeric, as the Hasura CLI orders them)."""
    folders = [p for p in migrations_dir(SQUASH_FIXTURES / case).iterdir() if p.is_dir()]
    return sorted(folders, key=lambda p: int(p.name.split("_", 1)[0]))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_digest(root: Path) -> dict[str, str]:
    """Every file and folder under `root`: relative path → sha256 of the content (or "<dir>")."""
    digest = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        digest[relative] = "<dir>" if path.is_dir() else sha256_bytes(path.read_bytes())
    return digest


def leftovers(root: Path) -> list[str]:
    """Staging folders or temporary files a write could leave behind."""
    patterns = (".kedge-staging-*", ".kedge-previous-*", "*.kedge-tmp")
    return sorted(p.relative_to(root).as_posix() for pattern in patterns for p in root.rglob(pattern))


def contents(root: Path) -> dict[str, bytes]:
    """Every file's bytes, by relative path (to show that no file content was lost)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# -- running squash ---------------------------------------------------------------------------


def cluster_factory(pg_cluster: ScratchCluster) -> Callable[[], ScratchCluster]:
    """What squash calls for its scratch databases: new ones on the session's server."""
    return lambda: ScratchCluster(scratch_url=pg_cluster.conninfo("postgres"))


def run_squash(root: Path, pg_cluster: ScratchCluster, **request: Any) -> SquashResult:
    """`squash` on the project at `root` (with its pre.sql, if the case has one)."""
    request.setdefault("pre_sql", pre_sql_of(root))
    step = request.pop("step", None)
    return squash(
        open_project(root), SquashRequest(**request), cluster=cluster_factory(pg_cluster), step=step
    )


# -- databases ------------------------------------------------------------------------------------


def apply_sql(conninfo: str, sql: str) -> None:
    """Run a migration's text as Hasura's run_sql does: one simple query inside BEGIN ... COMMIT."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(b"BEGIN")
        if sql.strip():
            connection.execute(sql.encode())
        connection.execute(b"COMMIT")


_TEMPLATES: dict[int, str] = {}


@contextmanager
def fresh_database(pg_cluster: ScratchCluster, label: str, *scripts: str) -> Iterator[ScratchDatabase]:
    """A new database like squash's scratch ones (pgcrypto in public), with `scripts` applied.

    Copied from a per-session template with STRATEGY FILE_COPY where the server knows it (15+): on a
    small database that is about twice as fast as the default, and these tests create many.
    """
    if id(pg_cluster) not in _TEMPLATES:
        _TEMPLATES[id(pg_cluster)] = pg_cluster.create_database("squash_tests_template").name
    name = f"squash_tests_{label}_{secrets.token_hex(4)}"
    strategy = sql.SQL(" STRATEGY FILE_COPY") if pg_cluster.major >= 15 else sql.SQL("")
    with psycopg.connect(pg_cluster.conninfo("postgres"), autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(_TEMPLATES[id(pg_cluster)])
            )
            + strategy
        )
    database = ScratchDatabase(name=name, conninfo=pg_cluster.conninfo(name))
    try:
        for script in scripts:
            apply_sql(database.conninfo, script)
        yield database
    finally:
        with psycopg.connect(pg_cluster.conninfo("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def compare_databases(
    source: str, target: str, *, ignore_columns: frozenset[str] = frozenset()
) -> tuple[SchemaDiff, DataDiff]:
    """Schema and rows of two databases, compared as squash's verification does."""
    with PsycopgExecutor(source) as a, PsycopgExecutor(target) as b:
        snapshot_a, snapshot_b = read_snapshot(a), read_snapshot(b)
        schema = compare(snapshot_a, snapshot_b, source_label="originals", target_label="squashed")
        data = compare_data(
            (a, snapshot_a),
            (b, snapshot_b),
            DataOptions(max_rows=10**6, ignore_columns=ignore_columns),
        )
    return schema, data


def explain(schema: SchemaDiff, data: DataDiff | None = None) -> str:
    lines = [
        f"{d.severity.value} {d.kind} {d.change} {d.object} {d.field or ''}: {d.source!r} -> {d.target!r}"
        for d in schema.differences
    ]
    if data is not None:
        lines += [f"rows of {t.table}: {t.differences[:3]}" for t in data.tables if t.status == "different"]
        lines += [f"sequence {s.sequence}: {s.source} -> {s.target}" for s in data.sequences]
    return "\n".join(lines) or "(no differences)"


# -- reading a squashed up.sql --------------------------------------------------------------------


def section_titles(up_sql: str) -> list[str]:
    """The titles of the section banners of a dump-strategy up.sql, in file order."""
    return [match["title"] for match in _BANNER.finditer(up_sql)]


def header_lines(up_sql: str) -> list[str]:
    """The leading comment block (the header), without the `-- ` prefixes."""
    lines = []
    for line in up_sql.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[3:] if line.startswith("-- ") else line[2:])
    return lines
