"""`kedge-hasura diff` against migra and pg_dump×2 + diff, whole process, side by side in one run.

Setup: ONE scratch PostgreSQL server started with kedge-hasura's own ScratchCluster (the Debian 15
or the embedded 18, --pg-version), holding per size N the databases base, b and m of
bench/schema_gen.py, each loaded with `psql -v ON_ERROR_STOP=1 --single-transaction -q -f` of the
same installation (built once per run). migra 3.0.1663481299 runs from its own virtual
environment, bench/.work/migra-venv (created on first use; never a project dependency).

Timed, base → b, each a whole process (start-up, both inspections, comparison, printing to a file):
  kedge   `kedge-hasura diff URL_A URL_B` (exit 1 = differences found: success here)
  migra   `migra --unsafe URL_A URL_B` (exit 2 = differences found)
  pg_dump two `pg_dump --schema-only --restrict-key=bench` of the server's installation, run
          concurrently (as the peer benchmark did), then `diff -u` of the two files
Wall time with time.perf_counter around the process(es); peak RSS of each process from GNU
`/usr/bin/time -f %M` as the peers measured it (fallback: os.wait4's rusage, which cannot go below
this script's own RSS: see `Child`); for pg_dump×2 + diff the largest of the three. "client CPU"
is the median user+system time of the tool's own process(es) (the server's work is not in it).
One untimed warm-up round, then --runs rounds with the tools interleaved; medians are reported,
with RATIOS migra/kedge and (pg_dump×2+diff)/kedge measured in the same run (the machine is shared
and noisy: compare ratios, not absolute numbers).

Correctness, same run, untimed: kedge (`-o json`) and migra report no differences for base vs m
(40 migration-like steps reaching the same schema), pg_dump+diff is shown for information; kedge
reports at least the 10 planted differences for base vs b, each attributed to its object.
Unless --no-phases, one extra in-process kedge run per size splits its time into import, connect,
the two concurrent snapshots, compare and JSON rendering, and times each catalog query of one side.

Run: .venv/bin/python bench/diff_bench.py [--sizes 100,1000,3000] [--runs 3] [--pg-version 15|18]
     [--kedge-ref REF]  (default: the work tree's installed kedge-hasura; REF pins a commit)
Targets (schema-diff notes §7.3 and the issue): at 3000 tables kedge at least 5× faster than
migra, no slower than pg_dump×2 + diff, peak RSS below migra's; kedge under 3 s and 150 MB at
3000 tables and under 1 s at 100.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import time
import venv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import schema_gen
from benchlib import machine
from kedge_hasura.pg.binaries import PgInstallation, choose_installation
from kedge_hasura.pg.scratch import ScratchCluster, ScratchDatabase

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = BENCH / ".work"
MIGRA_VENV = WORK / "migra-venv"
MIGRA_REQUIREMENTS = (
    "migra==3.0.1663481299",
    "schemainspect==3.1.1663587362",
    "sqlalchemy>=2.1,<2.2",
    "psycopg2-binary",
)
KEDGE_SCRIPT = Path(sys.prefix) / "bin" / "kedge-hasura"


@dataclass
class Kedge:
    """How to start kedge-hasura: the installed script (the work tree), or a commit's src/."""

    argv: list[str]
    env: dict[str, str] | None
    label: str


KEDGE = Kedge([str(KEDGE_SCRIPT)], None, "work tree")  # choose_kedge() sets it up


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout


def choose_kedge(ref: str | None) -> Kedge:
    """The installed kedge-hasura (ref None), or the src/ of a commit exported with `git archive`.

    Other people edit the work tree while benchmarks run; --kedge-ref pins what is measured. The
    export (read-only for the repository) goes to bench/.work/kedge-<sha> and runs with the same
    virtual environment, as `python -m kedge_hasura` with PYTHONPATH at its src/.
    """
    if ref is None:
        if not KEDGE_SCRIPT.exists():
            raise SystemExit(f"{KEDGE_SCRIPT} not found: run with the project's .venv/bin/python")
        _compile(REPO / "src" / "kedge_hasura")
        try:
            head = _git("rev-parse", "--short=12", "HEAD").strip()
            dirty = " + uncommitted changes in src/" if _git("status", "--porcelain", "src").strip() else ""
            KEDGE.label = f"work tree at {head}{dirty}"
        except (OSError, subprocess.CalledProcessError):
            pass
        return KEDGE
    sha = _git("rev-parse", "--verify", f"{ref}^{{commit}}").strip()
    dest = WORK / f"kedge-{sha[:12]}"
    if not (dest / "src" / "kedge_hasura").is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha, "src"], cwd=REPO, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    _compile(dest / "src" / "kedge_hasura")
    env = {**os.environ, "PYTHONPATH": str(dest / "src")}
    KEDGE.argv, KEDGE.env = [sys.executable, "-m", "kedge_hasura"], env
    KEDGE.label = f"commit {sha[:12]} ({ref}), src/ exported"
    return KEDGE


def _compile(package: Path) -> None:
    """Write the package's bytecode, as `pip install` does for an installed tool.

    An editable install run with PYTHONDONTWRITEBYTECODE=1 (set on some machines) would otherwise
    compile every module in every timed run, which is not what users pay.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


RESTRICT_KEY = "bench"


# -- environment ------------------------------------------------------------------------------


def ensure_migra() -> Path:
    """migra in its own virtual environment under bench/.work (created once)."""
    migra = MIGRA_VENV / "bin" / "migra"
    if not migra.exists():
        print(f"creating {MIGRA_VENV} for migra ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(MIGRA_VENV)
        subprocess.run(
            [str(MIGRA_VENV / "bin" / "python"), "-m", "pip", "install", "-q", *MIGRA_REQUIREMENTS],
            check=True,
        )
    return migra


def migra_versions() -> str:
    out = subprocess.run(
        [str(MIGRA_VENV / "bin" / "python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wanted = {"migra", "schemainspect", "sqlalchemy", "psycopg2-binary"}
    found = {p["name"].lower(): p["version"] for p in json.loads(out) if p["name"].lower() in wanted}
    return ", ".join(f"{name} {found[name]}" for name in sorted(found))


def conninfo_to_url(conninfo: str) -> str:
    """A libpq conninfo (Unix socket) as postgresql://user@/db?host=<socket dir>&port=N."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(conninfo)
    url = f"postgresql://{quote(str(parts.get('user', 'postgres')))}@/{quote(str(parts['dbname']))}"
    query = [f"host={quote(str(parts['host']), safe='/')}"]
    if parts.get("port"):
        query.append(f"port={parts['port']}")
    return url + "?" + "&".join(query)


def pg_dump_supports_restrict_key(pg_dump: Path) -> bool:
    help_text = subprocess.run([str(pg_dump), "--help"], capture_output=True, text=True, check=False).stdout
    return "--restrict-key" in help_text


# -- databases --------------------------------------------------------------------------------


class Databases:
    """Builds and caches the synthetic databases of one scratch server for this run."""

    def __init__(self, cluster: ScratchCluster, installation: PgInstallation):
        self.cluster = cluster
        self.installation = installation
        self.psql = installation.binary("psql")
        self._built: dict[tuple[str, int], ScratchDatabase] = {}
        self.build_seconds: dict[tuple[str, int], float] = {}
        (WORK / "sql").mkdir(parents=True, exist_ok=True)

    def get(self, variant: str, n: int) -> ScratchDatabase:
        key = (variant, n)
        if key not in self._built:
            path = WORK / "sql" / f"{variant}_{n}.sql"
            path.write_text(schema_gen.render(variant, n), encoding="utf-8")
            database = self.cluster.create_database(f"{variant}_{n}", empty=True)
            started = time.perf_counter()
            subprocess.run(
                [
                    *(str(self.psql), "-X", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-q"),
                    *("-f", str(path), "-d", database.conninfo),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            self.build_seconds[key] = time.perf_counter() - started
            self._built[key] = database
        return self._built[key]

    def url(self, variant: str, n: int) -> str:
        return conninfo_to_url(self.get(variant, n).conninfo)


@contextmanager
def scratch_databases(pg_version: int | None) -> Iterator[Databases]:
    installation = choose_installation(pg_version=pg_version)
    with ScratchCluster(installation=installation, hasura_preconditions=False) as cluster:
        yield Databases(cluster, installation)


# -- measuring whole processes ---------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    rss_kb: int
    cpu: float  # user + system seconds of the process(es), not of the server
    exit_codes: tuple[int, ...]


GNU_TIME = Path("/usr/bin/time")


class Child:
    """One child process whose peak RSS is measured.

    Under GNU time (`/usr/bin/time -f %M`) when present, as the peer benchmark did: os.wait4's
    ru_maxrss of a child forked straight from this Python process starts at this process's own
    RSS (the fork/vfork inherits the address space, and its high-water mark survives exec), so
    it cannot show anything smaller than ~45 MB. Without GNU time it falls back to wait4 and the
    table says so.
    """

    def __init__(self, argv: list[str], stdout: IO[bytes], stderr: IO[bytes] | int, **kwargs: Any):
        self._rss_file: Path | None = None
        if GNU_TIME.exists():
            self._rss_file = WORK / "run" / f"rss-{os.getpid()}-{next(_COUNTER)}.txt"
            argv = [str(GNU_TIME), "-f", "%M", "-o", str(self._rss_file), *argv]
        self.process = subprocess.Popen(argv, stdout=stdout, stderr=stderr, **kwargs)

    def wait(self) -> tuple[int, int, float]:
        """Reap the child: (exit code, peak RSS in kB, CPU seconds user+system).

        wait4's CPU times include the reaped descendants, so they are right under GNU time too.
        """
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = code = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
        if self._rss_file is None:
            return code, usage.ru_maxrss, cpu
        lines = self._rss_file.read_text(encoding="utf-8").split()
        self._rss_file.unlink()
        return code, int(lines[-1]), cpu


_COUNTER = itertools.count()


def run_timed(argv: list[str], stdout: Path, *, env: dict[str, str] | None = None) -> Sample:
    with stdout.open("wb") as out, stdout.with_suffix(".err").open("wb") as err:
        started = time.perf_counter()
        code, rss, cpu = Child(argv, out, err, cwd=REPO, env=env).wait()
        seconds = time.perf_counter() - started
    return Sample(seconds, rss, cpu, (code,))


def run_dump_diff(pg_dump: list[str], url_a: str, url_b: str, out_dir: Path) -> Sample:
    """Two pg_dumps concurrently, then diff -u; wall time of the whole, largest peak RSS."""
    files = [out_dir / "dump_a.sql", out_dir / "dump_b.sql"]
    handles = [path.open("wb") for path in files]
    try:
        started = time.perf_counter()
        children = [
            Child([*pg_dump, url], handle, subprocess.DEVNULL)
            for url, handle in zip((url_a, url_b), handles, strict=True)
        ]
        results = [child.wait() for child in children]
        for handle in handles:
            handle.close()
        with (out_dir / "dump.diff").open("wb") as out:
            results.append(
                Child(["diff", "-u", str(files[0]), str(files[1])], out, subprocess.DEVNULL).wait()
            )
        seconds = time.perf_counter() - started
    finally:
        for handle in handles:
            handle.close()
    return Sample(
        seconds,
        max(rss for _, rss, _ in results),
        sum(cpu for _, _, cpu in results),
        tuple(code for code, _, _ in results),
    )


@dataclass
class Tool:
    name: str
    run: Callable[[], Sample]
    ok_codes: frozenset[int]
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def rss_mb(self) -> float:
        return max(s.rss_kb for s in self.samples) / 1024

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    def measure(self) -> Sample:
        sample = self.run()
        bad = [code for code in sample.exit_codes if code not in self.ok_codes]
        if bad:
            raise SystemExit(f"{self.name} failed with exit code {bad[0]} (see {WORK}/run/)")
        return sample


def migra_url(url: str) -> str:
    """SQLAlchemy 2.1 maps postgresql:// to psycopg 3; migra's venv has psycopg2-binary."""
    return url.replace("postgresql://", "postgresql+psycopg2://", 1)


def tools_for(dbs: Databases, migra: Path, n: int, a: str = "base", b: str = "b") -> list[Tool]:
    url_a, url_b = dbs.url(a, n), dbs.url(b, n)
    run_dir = WORK / "run" / f"{n}"
    run_dir.mkdir(parents=True, exist_ok=True)
    pg_dump = [str(dbs.installation.binary("pg_dump")), "--schema-only"]
    if pg_dump_supports_restrict_key(Path(pg_dump[0])):
        pg_dump.append(f"--restrict-key={RESTRICT_KEY}")
    return [
        Tool(
            "kedge-hasura diff",
            lambda: run_timed([*KEDGE.argv, "diff", url_a, url_b], run_dir / "kedge.out", env=KEDGE.env),
            frozenset({0, 1}),
        ),
        Tool(
            "migra --unsafe",
            lambda: run_timed(
                [str(migra), "--unsafe", migra_url(url_a), migra_url(url_b)], run_dir / "migra.out"
            ),
            frozenset({0, 2}),
        ),
        Tool(
            "pg_dump×2 + diff",
            lambda: run_dump_diff(pg_dump, url_a, url_b, run_dir),
            frozenset({0, 1}),
        ),
    ]


# -- correctness ------------------------------------------------------------------------------


def kedge_json(url_a: str, url_b: str) -> tuple[int, list[dict[str, object]]]:
    """Exit code and differences of `kedge-hasura -o json diff A B`."""
    done = subprocess.run(
        [*KEDGE.argv, "-o", "json", "diff", url_a, url_b],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=KEDGE.env,
        check=False,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"kedge-hasura diff failed ({done.returncode}): {done.stderr.strip()}")
    document = json.loads(done.stdout)
    result = document.get("result", document)
    return done.returncode, list(result.get("differences", []))


def describe_difference(d: dict[str, object]) -> str:
    field_name = f" {d['field']}" if d.get("field") else ""
    return f"{d.get('severity')}: {d.get('kind')} {d.get('object')} {d.get('change')}{field_name}"


def migra_output(migra: Path, url_a: str, url_b: str, *extra: str) -> tuple[int, str]:
    done = subprocess.run(
        [str(migra), "--unsafe", *extra, migra_url(url_a), migra_url(url_b)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 2):
        raise SystemExit(f"migra failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.returncode, done.stdout


def migra_statements(text: str) -> list[str]:
    return [s.strip() for s in re.split(r";\s*\n", text) if s.strip()]


def dump_diff_lines(dbs: Databases, url_a: str, url_b: str, out_dir: Path) -> list[str]:
    """The changed lines (+/-) of diff -u between two schema-only dumps."""
    pg_dump = [str(dbs.installation.binary("pg_dump")), "--schema-only"]
    if pg_dump_supports_restrict_key(Path(pg_dump[0])):
        pg_dump.append(f"--restrict-key={RESTRICT_KEY}")
    run_dump_diff(pg_dump, url_a, url_b, out_dir)
    lines = (out_dir / "dump.diff").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line[:1] in "+-" and not line.startswith(("+++", "---"))]


# -- attributing output to planted differences (schema_gen.manifest) ---------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BODY_START = re.compile(r"\s(?:as|using|references|check|default)\s|\(", re.IGNORECASE)
_COLUMN_STATEMENT = re.compile(r"\b(?:alter|add|drop)\s+column\b", re.IGNORECASE)


def kedge_names(plant: dict[str, object], difference: dict[str, object]) -> bool:
    """Does one kedge difference (JSON) name the planted difference's object?"""
    obj = str(difference.get("object", ""))
    ident = difference.get("id") or {}
    assert isinstance(ident, dict)
    if plant["level"] == "column":
        columns = plant["columns"]
        assert isinstance(columns, list)
        return ident.get("table") == plant["table"] and ident.get("name") in columns
    if plant["level"] == "table":
        return obj == f"{schema_gen.SCHEMA}.{plant['table']}"
    return plant["name"] in _IDENTIFIER.findall(obj.split("(", maxsplit=1)[0])


def sql_names(plant: dict[str, object], text: str) -> bool:
    """Does a SQL statement (migra) or a changed dump line name the planted difference's object?

    Only the head of the text counts, up to AS/USING/CHECK/DEFAULT/REFERENCES or "(": a view body
    or policy expression that mentions the enum is not about the enum. Table-level plants do not
    count a statement about one of the table's columns.
    """
    body = _BODY_START.search(text)
    words = set(_IDENTIFIER.findall(text[: body.start()] if body else text))
    if plant["level"] == "column":
        columns = plant["columns"]
        assert isinstance(columns, list)
        return plant["table"] in words and any(column in words for column in columns)
    if plant["level"] == "table":
        return plant["table"] in words and not _COLUMN_STATEMENT.search(text)
    return plant["name"] in words


def check_correctness(dbs: Databases, migra: Path, n: int) -> list[str]:
    """Lines to print; each starts with ✔ or ✘."""
    base, m, b = dbs.url("base", n), dbs.url("m", n), dbs.url("b", n)
    lines = []
    code, diffs = kedge_json(base, m)
    ok = code == 0 and not diffs
    lines.append(
        f"{'✔' if ok else '✘'} kedge base vs m (40 migrations): exit {code}, {len(diffs)} differences"
    )
    lines += [f"      {describe_difference(d)}" for d in diffs[:10]]
    code, text = migra_output(migra, base, m)
    statements = migra_statements(text)
    ok = code == 0 and not statements
    lines.append(f"{'✔' if ok else '✘'} migra base vs m: exit {code}, {len(statements)} statements")
    lines += [f"      {s[:150]}" for s in statements[:10]]
    changed = dump_diff_lines(dbs, base, m, WORK / "run" / f"{n}")
    lines.append(f"  (info) pg_dump+diff base vs m: {len(changed)} changed lines")
    lines += [f"      {line[:150]}" for line in changed[:6]]

    code, diffs = kedge_json(base, b)
    plants = schema_gen.manifest("b", n)
    found = [p for p in plants if any(kedge_names(p, d) for d in diffs)]
    ok = code == 1 and len(diffs) >= len(plants) and len(found) == len(plants)
    lines.append(
        f"{'✔' if ok else '✘'} kedge base vs b: exit {code}, {len(diffs)} differences, "
        f"{len(found)}/{len(plants)} planted differences attributed"
    )
    missing = [str(p["id"]) for p in plants if p not in found]
    if missing:
        lines.append(f"      missed: {', '.join(missing)}")
    extra = [d for d in diffs if not any(kedge_names(p, d) for p in plants)]
    lines += [f"      not planted: {describe_difference(d)}" for d in extra[:10]]
    code, text = migra_output(migra, base, b)
    lines.append(f"  (info) migra base vs b: exit {code}, {len(migra_statements(text))} statements")
    return lines


# -- phases -----------------------------------------------------------------------------------

PHASES = r"""
import sys, time, threading
t0 = time.perf_counter()
from kedge_hasura.pg.catalog import PsycopgExecutor
from kedge_hasura.schemadiff.snapshot import read_snapshot
from kedge_hasura.schemadiff.compare import compare
t1 = time.perf_counter()
url_a, url_b = sys.argv[1], sys.argv[2]
took = {}
snaps = {}
def side(label, url):
    s = time.perf_counter()
    with PsycopgExecutor(url, label=label) as ex:
        c = time.perf_counter()
        snaps[label] = read_snapshot(ex)
    took[label] = (c - s, time.perf_counter() - c)
threads = [threading.Thread(target=side, args=(l, u)) for l, u in (("a", url_a), ("b", url_b))]
for th in threads: th.start()
for th in threads: th.join()
t2 = time.perf_counter()
result = compare(snaps["a"], snaps["b"], source_label="a", target_label="b")
t3 = time.perf_counter()
text = result.model_dump_json()
t4 = time.perf_counter()
print(f"import {t1-t0:.2f} s; connect {max(v[0] for v in took.values()):.2f} s; "
      f"snapshots (concurrent) {t2-t1:.2f} s [a {took['a'][1]:.2f} s, b {took['b'][1]:.2f} s]; "
      f"compare {t3-t2:.2f} s ({len(result.differences)} differences); json {t4-t3:.2f} s")
"""

SINGLE_SNAPSHOT = r"""
import sys, time
from kedge_hasura.pg.catalog import PsycopgExecutor
from kedge_hasura.schemadiff.snapshot import QUERY_NAMES, Scope, build_snapshot, catalog_query
raw, timings = {}, []
with PsycopgExecutor(sys.argv[1]) as ex:
    for name in QUERY_NAMES:
        s = time.perf_counter()
        raw[name] = ex.fetch_json(catalog_query(name, Scope()))
        timings.append((time.perf_counter() - s, name))
s = time.perf_counter()
build_snapshot(raw, query_count=len(QUERY_NAMES))
built = time.perf_counter() - s
timings.sort(reverse=True)
print("one side alone: %d queries %.2f s (largest: " % (len(timings), sum(t for t, _ in timings))
      + ", ".join(f"{n} {t:.2f}" for t, n in timings[:5]) + f"); build_snapshot {built:.2f} s")
"""


def kedge_phases(url_a: str, url_b: str) -> list[str]:
    lines = []
    for script, args in ((PHASES, [url_a, url_b]), (SINGLE_SNAPSHOT, [url_a])):
        done = subprocess.run(
            [sys.executable, "-c", script, *args], capture_output=True, text=True, env=KEDGE.env, check=False
        )
        text = done.stdout.strip() or f"(failed: {done.stderr.strip().splitlines()[-1:]})"
        lines.append(text)
    return lines


# -- main -------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_size(n: int, dbs: Databases, tools: list[Tool], runs: int) -> None:
    kedge, migra, dump = tools
    builds = ", ".join(f"{v} {dbs.build_seconds[(v, n)]:.1f} s" for v in ("base", "b", "m"))
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n== N = {n} tables · base → b · median of {runs} (min–max) · build: {builds} · load {load}")
    rss_how = "" if GNU_TIME.exists() else " (wait4: floored at this script's RSS)"
    print(f"{'tool':<20} {'median s':>9} {'min–max s':>13} {'peak RSS MB':>12} {'client CPU s':>13}{rss_how}")
    for tool in tools:
        seconds = [s.seconds for s in tool.samples]
        spread = f"{min(seconds):.2f}–{max(seconds):.2f}"
        print(f"{tool.name:<20} {tool.median:>9.2f} {spread:>13} {tool.rss_mb:>12.0f} {tool.cpu:>13.2f}")
    r_migra = migra.median / kedge.median
    r_dump = dump.median / kedge.median
    print(f"ratio migra/kedge            : {r_migra:.2f}")
    print(f"ratio (pg_dump×2+diff)/kedge : {r_dump:.2f}")
    scope = "" if n >= 3000 else "  (the target is set at 3000 tables)"
    print(f"target kedge ≥ 5× faster than migra       : {verdict(r_migra >= 5)}{scope}")
    print(f"target kedge no slower than pg_dump×2+diff: {verdict(r_dump >= 1)}{scope}")
    print(f"target kedge peak RSS below migra's       : {verdict(kedge.rss_mb < migra.rss_mb)}{scope}")
    if n >= 3000:
        print(f"target kedge under 3 s                     : {verdict(kedge.median < 3)}")
        print(f"target kedge under 150 MB                  : {verdict(kedge.rss_mb < 150)}")
    if n <= 100:
        print(f"target kedge under 1 s                     : {verdict(kedge.median < 1)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,3000", help="comma-separated table counts")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg-version", type=int, default=None)
    parser.add_argument(
        "--kedge-ref", default=None, help="measure this commit's src/ instead of the work tree"
    )
    parser.add_argument("--no-phases", dest="phases", action="store_false", help="skip the profile")
    parser.add_argument("--no-check", dest="check", action="store_false", help="skip correctness")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    migra = ensure_migra()
    kedge = choose_kedge(args.kedge_ref)
    with scratch_databases(args.pg_version) as dbs:
        inst = dbs.installation
        print(f"machine: {machine()}")
        print(f"server: PostgreSQL {inst.version} ({inst.source}, {inst.bindir}), one scratch server")
        print(f"kedge-hasura: {kedge.label}")
        print(f"peers: {migra_versions()}; pg_dump {inst.version}")
        failures = 0
        for n in sizes:
            for variant in ("base", "b", "m"):
                dbs.get(variant, n)
            tools = tools_for(dbs, migra, n)
            for tool in tools:  # warm-up: page cache, catalog caches, .pyc files
                tool.measure()
            for _ in range(args.runs):
                for tool in tools:
                    tool.samples.append(tool.measure())
            print_size(n, dbs, tools, args.runs)
            if args.phases:
                for line in kedge_phases(dbs.url("base", n), dbs.url("b", n)):
                    print(f"kedge in-process (one run): {line}")
            if args.check:
                lines = check_correctness(dbs, migra, n)
                failures += sum(line.startswith("✘") for line in lines)
                print("correctness:")
                for line in lines:
                    print(f"  {line}")
            sys.stdout.flush()
    if failures:
        raise SystemExit(f"{failures} correctness check(s) failed")


if __name__ == "__main__":
    main()
