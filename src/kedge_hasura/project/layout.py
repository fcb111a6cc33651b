"""Find the Hasura project on disk and name its parts (config.yaml, migrations/, metadata/, .env)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kedge_hasura.errors import ProjectError, UsageError
from kedge_hasura.project.config import HasuraConfig, load_config, parse_dotenv
from kedge_hasura.project.metadata import V2_DATABASE
from kedge_hasura.project.migrations import DatabaseMigrations, MigrationScan, scan_migrations
from kedge_hasura.project.seeds import Seed, scan_seeds, seeds_folder
from kedge_hasura.project.yamlfile import IncludeTag, read_yaml
from kedge_hasura.words import plural

CONFIG_FILE = "config.yaml"


@dataclass(frozen=True)
class Project:
    """A Hasura project: the folder holding config.yaml, and the parsed config.

    A Project is opened once per invocation, so its scan of migrations/ is cached (a deploy used
    to scan twice). Code that rewrites migrations/ and then needs the new state calls
    `forget_scans()` or opens the project again.
    """

    root: Path
    config: HasuraConfig
    _scans: dict[bool, MigrationScan] = field(default_factory=dict, compare=False, repr=False)

    @property
    def migrations_dir(self) -> Path:
        return self.root / self.config.migrations_directory

    @property
    def metadata_dir(self) -> Path:
        return self.root / self.config.metadata_directory

    @property
    def seeds_dir(self) -> Path:
        return self.root / self.config.seeds_directory

    def seeds_of(self, database: str) -> list[Seed]:
        """The database's seed files in the order `hasura seed apply` runs them ([] when none).

        Raises:
            ProjectError: a seed file is unreadable or not UTF-8.
        """
        folder = seeds_folder(self.seeds_dir, database, config_version=self.config.version)
        return scan_seeds(folder, database)

    @property
    def dotenv_path(self) -> Path:
        return self.root / ".env"

    def dotenv(self, envfile: Path | None = None) -> dict[str, str]:
        """The values of the project's `.env` ({} when there is none), or of `envfile` (`--envfile`),
        as the Hasura CLI loads them: a relative path is taken from the project folder.

        Raises:
            ProjectError: the file cannot be read.
            UsageError: an `envfile` given explicitly does not exist.
        """
        path = self.dotenv_path if envfile is None else self.root / envfile
        try:
            return parse_dotenv(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            if envfile is None:
                return {}
            raise UsageError(
                f"--envfile {envfile}: no such file ({path})",
                hint="a relative path is taken from the project folder, as the Hasura CLI does",
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ProjectError(f"cannot read {path}: {exc}") from exc

    def declared_databases(self) -> set[str] | None:
        """Source names from metadata/databases/databases.yaml; None when that file is absent.

        A config v2 project has one database, `default`, declared by no file.

        Raises:
            ProjectError: the file is invalid YAML or not a list of sources with names.
        """
        kinds = self.database_kinds()
        return None if kinds is None else set(kinds)

    def database_kinds(self) -> dict[str, str] | None:
        """Each declared database and its kind (postgres, citus, mssql, ...); None when
        metadata/databases/databases.yaml is absent from a config v3 project.

        Raises:
            ProjectError: the file is invalid YAML or not a list of sources with names.
        """
        if self.config.version < 3:
            return {V2_DATABASE: "postgres"}
        path = self.metadata_dir / "databases" / "databases.yaml"
        if not path.is_file():
            return None
        document = read_yaml(path)
        sources = document.value or []
        if isinstance(sources, IncludeTag | str):
            raise ProjectError("expected a list of databases, found an include", path=path, line=1)
        if not isinstance(sources, list):
            raise ProjectError("expected a list of databases", path=path, line=1)
        kinds: dict[str, str] = {}
        for index, source in enumerate(sources):
            if not isinstance(source, dict) or not isinstance(source.get("name"), str):
                raise ProjectError("every database needs a name", path=path, line=document.line_of((index,)))
            kinds[source["name"]] = str(source.get("kind") or "postgres")
        return kinds

    def scan_migrations(self, *, analyze_sql: bool = True) -> MigrationScan:
        """Scan migrations/ (see `project.migrations.scan_migrations`); cached per `analyze_sql`."""
        if analyze_sql not in self._scans:
            self._scans[analyze_sql] = scan_migrations(
                self.migrations_dir,
                config_version=self.config.version,
                declared_databases=self.declared_databases(),
                analyze_sql=analyze_sql,
            )
        return self._scans[analyze_sql]

    def forget_scans(self) -> None:
        """Drop the cached scans (after migrations/ was rewritten)."""
        self._scans.clear()

    def valid_migrations(self, *, analyze_sql: bool = False) -> MigrationScan:
        """The scan, refused when it has errors: every command that runs migrations needs them valid.

        `status` and `check` report the errors instead and use `scan_migrations`.

        Raises:
            ProjectError: the migrations have errors (names the first, with its location).
        """
        scan = self.scan_migrations(analyze_sql=analyze_sql)
        if scan.errors:
            first = scan.errors[0]
            where = f"{first.location()}: " if first.location() else ""
            raise ProjectError(
                f"the migrations have {plural(len(scan.errors), 'error')}, e.g. {where}{first.message}",
                hint="run `kedge-hasura status` and fix them first",
            )
        return scan

    def migrations_of(self, database: str, *, analyze_sql: bool = False) -> DatabaseMigrations:
        """The valid migrations of `database`.

        Raises:
            ProjectError: the migrations have errors.
            UsageError: `database` has no migrations folder.
        """
        scan = self.valid_migrations(analyze_sql=analyze_sql)
        if database not in scan.databases:
            found = ", ".join(sorted(scan.databases)) or "none"
            raise UsageError(
                f"no migrations for database {database!r} (found: {found})",
                hint="check --database (KEDGE_DATABASE)",
            )
        return scan.databases[database]

    def require_database(self, database: str | None, *, analyze_sql: bool = False) -> DatabaseMigrations:
        """The one database a command works on: `database` (--database, KEDGE_DATABASE), or the
        project's only one. The single rule for every command that picks one database.

        Raises:
            ProjectError: the migrations have errors.
            UsageError: `database` has no migrations, or none was chosen and the project has several.
        """
        if database is not None:
            return self.migrations_of(database, analyze_sql=analyze_sql)
        scan = self.valid_migrations(analyze_sql=analyze_sql)
        if len(scan.databases) != 1:
            raise UsageError(
                f"the project has several databases ({', '.join(sorted(scan.databases)) or 'none'})"
                if scan.databases
                else "the project has no migrations",
                hint="choose one with --database (KEDGE_DATABASE)",
            )
        return next(iter(scan.databases.values()))

    def databases(self, database: str | None, *, analyze_sql: bool = False) -> list[DatabaseMigrations]:
        """The databases a command works on: `database` alone, or every one (by name).

        Raises:
            ProjectError: the migrations have errors.
            UsageError: `database` has no migrations.
        """
        if database is not None:
            return [self.migrations_of(database, analyze_sql=analyze_sql)]
        scan = self.valid_migrations(analyze_sql=analyze_sql)
        return [scan.databases[name] for name in sorted(scan.databases)]


def find_project_root(start: Path, explicit: Path | None = None) -> Path:
    """The folder holding config.yaml.

    With `explicit` (--project), that folder or its `hasura/` sub-folder. Otherwise walk up from
    `start`, at each level trying `hasura/config.yaml`, then `config.yaml` next to a `migrations/`
    or `metadata/` folder (so it works from inside the hasura folder, like the CLI).

    Raises:
        ProjectError: no project found.
    """
    if explicit is not None:
        for candidate in (explicit, explicit / "hasura"):
            if (candidate / CONFIG_FILE).is_file():
                return candidate.resolve()
        raise ProjectError(
            f"no {CONFIG_FILE} in {explicit} or {explicit / 'hasura'}",
            hint="pass --project with the folder that holds the Hasura config.yaml",
        )
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / "hasura" / CONFIG_FILE).is_file():
            return folder / "hasura"
        if (folder / CONFIG_FILE).is_file() and any(
            (folder / part).is_dir() for part in ("migrations", "metadata")
        ):
            return folder
    raise ProjectError(
        f"no Hasura project found in {here} or any folder above it",
        hint="run inside a project (a folder with hasura/config.yaml), or pass --project DIR",
    )


def open_project(root: Path) -> Project:
    """Load the project whose config.yaml is in `root`.

    Raises:
        ProjectError: config.yaml is missing or invalid.
    """
    return Project(root=root, config=load_config(root / CONFIG_FILE))
