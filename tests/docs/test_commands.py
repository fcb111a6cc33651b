"""Run every console block of the runnable pages (README.md and four pages of docs/) as a user would.

Each page runs in its own folder holding a copy of the shipped project in `hasura/`, block after
block, against one Hasura test double (tests/hasura_double) and scratch databases on the
session's PostgreSQL. `kedge-hasura ...` lines run in-process (as the golden tests do: 80
columns, no colour); any other line runs in bash, with `kedge-hasura` of this checkout on PATH.

What a page shows is compared after these substitutions: the double's URL reads
`https://hasura.example.com`, the page's folder reads `<repo>`, the folder where a failed squash
keeps its candidate reads `/tmp`, and normalise()'s rules (durations, versions, scratch names)
apply to both sides. A squash that succeeded on identical files runs once per session (the
README and from-hasura-squash.md squash the same originals).

Server states a block can ask for (`<!-- doc-test: server=STATE -->`), each set up from scratch
through the Hasura API:

- `empty`: a new Hasura: no user schema, no ledger, empty catalog state, no tracked table.
- `migrate-apply`: `empty`, then what `hasura migrate apply` and `hasura metadata apply` leave:
  each top-level migration of the page's `hasura/` run by its own run_sql and recorded in catalog
  state (`{"migrations": {"default": {"<version>": false}}, ...}`), the metadata replaced.
- `migrate-apply-originals`: the same with the shipped project's 17 original migrations (from its
  squash archive), up to the marker's `through=VERSION` (all by default); the metadata is applied
  only when all of them are.
- `deployed`: `empty`, then `kedge-hasura deploy` of the page's project (which must exit 0).
A `dirty=VERSION` word marks that version dirty afterwards, as an interrupted run leaves it.

Each page's folder is a git repository with the project committed (pages may show `git`). A
squash candidate that fails its verification is kept under the test's folder, shown as `/tmp`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kedge_hasura.hasura import HasuraClient
from kedge_hasura.pg.scratch import ScratchCluster
from kedge_hasura.project.metadata import load_metadata
from kedge_hasura.project.staging import keep_candidate

from ..golden.golden import REPO, Run, golden_environment, run_kedge
from ..hasura_double import DoubleConfig, HasuraDouble
from .blocks import EXAMPLE_ENDPOINT, RUNNABLE_PAGES, Block, Command, blocks, mismatch, shown_output

pytestmark = pytest.mark.pg

SECRET = "docs-double-secret-7f3a"
SHIPPED = REPO / "hasura"
ARCHIVE = SHIPPED / "migrations" / "default" / "squashed_1709284463417_to_1748864944213"
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def double(pg_cluster: ScratchCluster) -> Iterator[HasuraDouble]:
    with (
        pg_cluster.database("hasura") as database,
        HasuraDouble(DoubleConfig(database_url=database.conninfo, admin_secret=SECRET)) as running,
    ):
        yield running


@pytest.fixture(scope="module")
def empty_metadata(double: HasuraDouble) -> dict[str, Any]:
    """The metadata of the double as it started: the default source, nothing tracked."""
    with HasuraClient(base_url=double.url, admin_secret=SECRET, timeout=30.0) as client:
        return client.export_metadata().metadata


def _originals(project: Path) -> None:
    """Put the squash archive's 17 originals back in place of the squashed migration."""
    database = project / "migrations" / "default"
    manifest = json.loads((ARCHIVE / "MANIFEST.json").read_text())
    shutil.rmtree(database / manifest["consolidated"]["folder"])
    for folder in sorted(p for p in (database / ARCHIVE.name).iterdir() if p.is_dir()):
        folder.rename(database / folder.name)
    shutil.rmtree(database / ARCHIVE.name)


def _hasura_squashed(project: Path) -> None:
    """The originals squashed as `hasura migrate squash --from 1709284463417` leaves them: the
    up.sql files joined in ascending order and the down.sql files in descending order, in a folder
    named after the last version; the originals moved to the archive folder, with no manifest."""
    database = project / "migrations" / "default"
    (database / ARCHIVE.name / "MANIFEST.json").unlink()
    shutil.rmtree(database / "1748864944213_squashed")
    originals = sorted(p for p in (database / ARCHIVE.name).iterdir() if p.is_dir())
    squashed = database / "1748864944213_squashed"
    squashed.mkdir()
    (squashed / "up.sql").write_text("".join("\n" + (p / "up.sql").read_text() for p in originals))
    downs = [p / "down.sql" for p in reversed(originals) if (p / "down.sql").is_file()]
    (squashed / "down.sql").write_text("".join("\n" + path.read_text() for path in downs))


_SQUASHES: dict[tuple[tuple[str, ...], str], tuple[Run, dict[str, bytes]]] = {}


def _snapshot(folder: Path) -> dict[str, bytes]:
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    return {str(path.relative_to(folder)): path.read_bytes() for path in files}


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for relative, content in _snapshot(folder).items():
        digest.update(f"{relative}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


class PageRun:
    """One page's blocks, in order, in one folder, against the shared double."""

    def __init__(
        self, root: Path, double: HasuraDouble, empty_metadata: dict[str, Any], scratch: str, kept: Path
    ):
        self.root = root
        self.kept = kept
        self.double = double
        self.empty_metadata = empty_metadata
        self.env = {
            "KEDGE_SCRATCH_URL": scratch,
            "HASURA_GRAPHQL_ENDPOINT": double.url,
            "HASURA_GRAPHQL_ADMIN_SECRET": SECRET,
        }
        self.last_exit = 0
        self.project("shipped")

    def project(self, name: str) -> None:
        target = self.root / "hasura"
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(SHIPPED, target)
        git = ["git", "-c", "user.name=docs", "-c", "user.email=docs@localhost", "-C", str(self.root)]
        if not (self.root / ".git").exists():
            subprocess.run([*git, "init", "-q"], check=True)
        if name == "originals":
            _originals(target)
        elif name == "hasura-squashed":
            _hasura_squashed(target)
        elif name != "shipped":
            raise AssertionError(f"unknown project {name!r}")
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", f"the {name} project"], check=True)

    def server(self, state: str, marker: dict[str, str]) -> None:
        with HasuraClient(base_url=self.double.url, admin_secret=SECRET, timeout=30.0) as client:
            client.replace_metadata(self.empty_metadata, allow_inconsistent=True)
            client.run_sql(
                "DROP SCHEMA IF EXISTS kedge_practice CASCADE; DROP SCHEMA IF EXISTS kedge_hasura CASCADE;"
            )
            client.set_catalog_state({})
            folders: list[Path] = []
            complete = True
            if state == "migrate-apply":
                folders = sorted(
                    p for p in (self.root / "hasura/migrations/default").iterdir() if p.name[0].isdigit()
                )
            elif state == "migrate-apply-originals":
                folders = sorted(p for p in ARCHIVE.iterdir() if p.is_dir())
                if "through" in marker:
                    kept = [p for p in folders if int(p.name.split("_")[0]) <= int(marker["through"])]
                    complete, folders = len(kept) == len(folders), kept
            elif state not in ("empty", "deployed"):
                raise AssertionError(f"unknown server state {state!r}")
            versions: dict[str, bool] = {}
            for folder in folders:
                client.run_sql((folder / "up.sql").read_text(), check_metadata_consistency=False)
                versions[folder.name.split("_")[0]] = False
            if "dirty" in marker and state != "deployed":
                versions[marker["dirty"]] = True
            if versions:
                client.set_catalog_state(
                    {
                        "migrations": {"default": versions},
                        "settings": {"migration_mode": "true"},
                        "isStateCopyCompleted": True,
                    }
                )
            if folders and complete:
                client.replace_metadata(load_metadata(self.root / "hasura/metadata").value)
                client.reload_metadata()
        if state == "deployed":
            deployed = run_kedge("deploy", cwd=self.root, env=self.env)
            assert deployed.exit_code == 0, deployed.stdout + deployed.stderr
        if "dirty" in marker and state == "deployed":
            with HasuraClient(base_url=self.double.url, admin_secret=SECRET, timeout=30.0) as client:
                client.update_cli_state(
                    lambda cli: cli.set_version("default", int(marker["dirty"]), dirty=True)
                )

    def block(self, block: Block) -> list[str]:
        """Run one block; returns the problems found (empty when it shows the truth)."""
        if "project" in block.marker:
            self.project(block.marker["project"])
        if "server" in block.marker:
            self.server(block.marker["server"], block.marker)
        if "file" in block.marker:
            target = self.root / block.marker["file"]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")
        if block.info != "console" or block.not_run is not None:
            return []
        problems: list[str] = []
        commands = block.commands()
        for index, command in enumerate(commands):
            code, lines = self.command(command)
            checked_by_next = index + 1 < len(commands) and commands[index + 1].is_exit_code
            where = f"{block.path.relative_to(REPO)}:{command.lineno}: $ {command.line}"
            if code != 0 and not checked_by_next and not command.is_exit_code:
                problems.append(f"{where}\nexited {code}:\n  " + "\n  ".join(lines))
            reason = mismatch(command.shown, lines)
            if reason is not None:
                problems.append(f"{where}\n{reason}\nthe run printed:\n  " + "\n  ".join(lines))
        return problems

    def command(self, command: Command) -> tuple[int, list[str]]:
        if command.is_exit_code:
            return 0, [str(self.last_exit)]
        arguments = command.kedge_arguments()
        if arguments is not None:
            run = self._squash_once(arguments) if arguments[:1] == ["squash"] else None
            run = run or run_kedge(*arguments, cwd=self.root, env=self.env)
            code, stdout, stderr = run.exit_code, run.stdout, run.stderr
        else:
            with golden_environment(self.root, self.env):
                environment = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
            completed = subprocess.run(
                ["bash", "-c", command.line],
                cwd=self.root,
                env=environment,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            code, stdout, stderr = completed.returncode, completed.stdout, completed.stderr
        self.last_exit = code
        return code, shown_output(self._mask(stdout), self._mask(stderr))

    def _squash_once(self, arguments: list[str]) -> Run | None:
        """A squash that succeeded on the same files runs once per session (the README and
        from-hasura-squash.md both squash the originals): its output and the files it left are
        reused. Squash reads only files, so the same files give the same result."""
        project = self.root / "hasura"
        key = (tuple(arguments), _digest(project))
        if key not in _SQUASHES:
            run = run_kedge(*arguments, cwd=self.root, env=self.env)
            if run.exit_code != 0:
                return run
            _SQUASHES[key] = (run, _snapshot(project))
        run, files = _SQUASHES[key]
        shutil.rmtree(project)
        for relative, content in files.items():
            (project / relative).parent.mkdir(parents=True, exist_ok=True)
            (project / relative).write_bytes(content)
        return run

    def _mask(self, text: str) -> str:
        text = text.replace(self.double.url, EXAMPLE_ENDPOINT)
        for folder, shown in ((self.kept, "/tmp"), (self.root, "<repo>")):
            for form in {str(folder), str(folder.resolve())}:
                text = text.replace(form, shown)
        return text


@pytest.mark.parametrize("page", RUNNABLE_PAGES, ids=lambda path: path.name)
def test_every_console_block_shows_what_the_command_prints(
    page: Path,
    double: HasuraDouble,
    empty_metadata: dict[str, Any],
    pg_cluster: ScratchCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept = tmp_path / "tmp"
    kept.mkdir()
    monkeypatch.setattr(
        "kedge_hasura.actions.squash.failure.keep_candidate", functools.partial(keep_candidate, root=kept)
    )
    run = PageRun(tmp_path / "repo", double, empty_metadata, pg_cluster.conninfo("postgres"), kept)
    problems: list[str] = []
    ran = 0
    for block in blocks(page):
        problems.extend(run.block(block))
        ran += block.info == "console" and block.not_run is None
    assert ran, f"{page.name} has no console block that runs"
    assert not problems, "\n\n".join(problems)
