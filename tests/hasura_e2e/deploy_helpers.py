"""Helpers for the deploy / rollback / verify / state end-to-end tests against the Hasura double.

Every observation goes through the double's HTTP API (run_sql read-only, get_catalog_state,
export_metadata), exactly as an operator would check a real server; nothing reads the double's
internals. Projects are either copies of the Kedge project (tests/conftest.py) or small projects
written by `write_project` (an empty metadata directory, migrations given as SQL text).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedge_hasura.hasura import HasuraClient
from kedge_hasura.hasura.cli_state import CliState

from ..hasura_double import HasuraDouble

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "deploy"
LEDGER = "kedge_hasura.migration_ledger"
KEDGE_SCHEMA = "kedge_practice"


@dataclass(repr=False)
class Run:
    """One CLI invocation: its exit code and everything it printed."""

    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)

    def __repr__(self) -> str:  # shown by failing asserts (`assert run.exit_code == 0, run`)
        return f"$ kedge-hasura {' '.join(self.args)}\n[exit {self.exit_code}]\n{self.stdout}\n{self.stderr}"


@dataclass
class Cli:
    """Runs `kedge-hasura` in-process against one double and remembers every output (secret scan)."""

    run_cli: Callable[..., Any]
    double: HasuraDouble
    runs: list[Run] = field(default_factory=list)

    def __call__(
        self, project: Path, *args: str, secret: str | None = None, timeout: float | None = None
    ) -> Run:
        given = self.double.admin_secret if secret is None else secret
        head = ["--project", str(project), "--endpoint", self.double.url, "--admin-secret", given or ""]
        if timeout is not None:
            head += ["--timeout", str(timeout)]
        result = self.run_cli(*head, *args)
        run = Run(tuple(args), result.exit_code, result.stdout, result.stderr)
        self.runs.append(run)
        return run

    def deploy(self, project: Path, *args: str, **options: Any) -> Run:
        return self(project, "deploy", *args, **options)

    def secrets_leaked(self, *secrets: str) -> list[str]:
        """The runs whose output contains one of `secrets` (or the double's own)."""
        wanted = [s for s in (*secrets, self.double.admin_secret) if s]
        return [str(run) for run in self.runs if any(s in run.output for s in wanted)]


# -- observing the server ------------------------------------------------------------------------


def client(double: HasuraDouble) -> HasuraClient:
    return HasuraClient(base_url=double.url, admin_secret=double.admin_secret, retry_backoff=0.0)


def sql_rows(double: HasuraDouble, sql: str, *, source: str = "default") -> list[list[str | None]]:
    with client(double) as hasura:
        return hasura.run_sql(sql, source=source, read_only=True, check_metadata_consistency=None).rows


def cli_state(double: HasuraDouble) -> dict[str, Any]:
    with client(double) as hasura:
        return hasura.get_catalog_state().cli_state


def versions(double: HasuraDouble, database: str = "default") -> dict[int, bool]:
    """Catalog state's recorded versions of a database → dirty (what `hasura migrate status` reads)."""
    return CliState(cli_state(double)).versions(database)


def ledger(double: HasuraDouble, source: str = "default") -> list[tuple[int, str, str]] | None:
    """The ledger's rows (version, up_sha256, applied_by), or None when it does not exist."""
    exists = sql_rows(double, f"SELECT to_regclass('{LEDGER}') IS NOT NULL", source=source)
    if exists != [["t"]]:
        return None
    rows = sql_rows(double, f"SELECT version::text, up_sha256, applied_by FROM {LEDGER} ORDER BY version")
    return [(int(v or 0), sha or "", by or "") for v, sha, by in rows]


def ledger_versions(double: HasuraDouble) -> list[int]:
    return [row[0] for row in ledger(double) or []]


def exists(double: HasuraDouble, relation: str) -> bool:
    return sql_rows(double, f"SELECT to_regclass('{relation}') IS NOT NULL") == [["t"]]


def relations(double: HasuraDouble, schema: str) -> set[str]:
    """Tables, views and materialized views of one schema."""
    rows = sql_rows(
        double,
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'v', 'm', 'p')",
    )
    return {row[0] or "" for row in rows}


def tracked_tables(double: HasuraDouble, source: str = "default") -> set[str]:
    with client(double) as hasura:
        metadata = hasura.export_metadata().metadata
    for entry in metadata.get("sources") or []:
        if entry.get("name") == source:
            return {f"{t['table']['schema']}.{t['table']['name']}" for t in entry.get("tables") or []}
    return set()


def inconsistent(double: HasuraDouble) -> list[Any]:
    with client(double) as hasura:
        return list(hasura.get_inconsistent_metadata().inconsistent_objects)


def run_sql(double: HasuraDouble, sql: str) -> None:
    """Change the server by hand (the metadata check off, as a migration would run)."""
    with client(double) as hasura:
        hasura.run_sql(sql, check_metadata_consistency=False)


@dataclass(frozen=True)
class Snapshot:
    """Everything a deploy may change, to compare before/after (dry runs, refused deploys)."""

    cli_state: dict[str, Any]
    ledger: list[tuple[int, str, str]] | None
    relations: dict[str, set[str]]
    metadata: dict[str, Any]


def snapshot(double: HasuraDouble, schemas: Iterable[str] = (KEDGE_SCHEMA, "public")) -> Snapshot:
    with client(double) as hasura:
        metadata = hasura.export_metadata().metadata
    return Snapshot(
        cli_state=cli_state(double),
        ledger=ledger(double),
        relations={schema: relations(double, schema) for schema in schemas},
        metadata=metadata,
    )


# -- projects ------------------------------------------------------------------------------------


def project_versions(project: Path, database: str = "default") -> list[int]:
    """The versions of the migration folders (top level only, as the CLI scans them)."""
    folder = project / "migrations" / database
    return sorted(
        int(p.name.split("_", 1)[0]) for p in folder.iterdir() if p.is_dir() and p.name[0].isdigit()
    )


def write_project(
    root: Path, migrations: Sequence[tuple[int, str, str, str | None]], *, allow_untracked: bool = True
) -> Path:
    """A minimal config-v3 project: migrations (version, name, up, down-or-None), empty metadata.

    The metadata tracks nothing, so the metadata stays consistent and deploy's tracking check
    lists every table as untracked; with `allow_untracked` (the default) config.yaml allows that
    (`kedge: check: ignore_untracked: ["*.*"]`), so a deploy exits 0 rather than 1.
    """
    project = root / "hasura"
    shutil.copytree(FIXTURES / "empty_project", project)
    if allow_untracked:
        config = project / "config.yaml"
        config.write_text(config.read_text() + 'kedge:\n  check:\n    ignore_untracked: ["*.*"]\n')
    (project / "migrations" / "default").mkdir(parents=True)
    for version, name, up, down in migrations:
        add_migration(project, version, name, up, down)
    return project


def add_migration(project: Path, version: int, name: str, up: str, down: str | None = None) -> Path:
    folder = project / "migrations" / "default" / f"{version}_{name}"
    folder.mkdir(parents=True)
    (folder / "up.sql").write_text(up)
    if down is not None:
        (folder / "down.sql").write_text(down)
    return folder


def keep_first(project: Path, count: int) -> list[int]:
    """Delete all but the first `count` migration folders of a (17 originals) project copy."""
    folders = sorted(
        (p for p in (project / "migrations" / "default").iterdir() if p.is_dir() and p.name[0].isdigit()),
        key=lambda p: int(p.name.split("_", 1)[0]),
    )
    for folder in folders[count:]:
        shutil.rmtree(folder)
    return [int(p.name.split("_", 1)[0]) for p in folders[:count]]


# -- processes -----------------------------------------------------------------------------------


def deploy_process(double: HasuraDouble, project: Path, *args: str) -> subprocess.Popen[str]:
    """`python -m kedge_hasura --project P deploy ARGS` as its own process (endpoint/secret by env)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HASURA_GRAPHQL_", "KEDGE_")) or k.startswith("KEDGE_TEST_")
    }
    env.update(
        HASURA_GRAPHQL_ENDPOINT=double.url,
        HASURA_GRAPHQL_ADMIN_SECRET=double.admin_secret or "",
        NO_COLOR="1",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "kedge_hasura", "--project", str(project), "deploy", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# -- expectations --------------------------------------------------------------------------------

KEDGE_RELATIONS = {
    "attachments", "knowledge_points", "knowledge_points_metadata", "practice_answers",
    "practice_sessions", "practice_statistics", "practice_strategies", "quizzes", "student_mistakes",
    "student_weaknesses", "users",
}  # fmt: skip


def assert_deployed(
    double: HasuraDouble, expected_versions: Iterable[int], *, ledgered: Iterable[int] | None = None
) -> None:
    """What a clean deploy of the Kedge project leaves: every version recorded clean, one ledger row
    each, the schema complete, every table tracked, metadata consistent."""
    expected = sorted(expected_versions)
    assert versions(double) == dict.fromkeys(expected, False)
    assert cli_state(double).get("isStateCopyCompleted") is True
    assert ledger_versions(double) == sorted(expected if ledgered is None else ledgered)
    assert relations(double, KEDGE_SCHEMA) == KEDGE_RELATIONS
    assert tracked_tables(double) == {f"{KEDGE_SCHEMA}.{name}" for name in KEDGE_RELATIONS}
    assert inconsistent(double) == []
