"""Find the Hasura project on disk and name its parts (config.yaml, migrations/, metadata/, .env)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kedge_hasura.errors import ProjectError
from kedge_hasura.project.config import HasuraConfig, load_config, parse_dotenv
from kedge_hasura.project.metadata import V2_DATABASE
from kedge_hasura.project.migrations import MigrationScan, scan_migrations
from kedge_hasura.project.seeds import Seed, scan_seeds, seeds_folder
from kedge_hasura.project.yamlfile import IncludeTag, read_yaml

CONFIG_FILE = "config.yaml"


@dataclass(frozen=True)
class Project:
    """A Hasura project: the folder holding config.yaml, and the parsed config."""

    root: Path
    config: HasuraConfig

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

    def dotenv(self) -> dict[str, str]:
        """The project's `.env` values ({} when there is none), as the Hasura CLI loads them."""
        try:
            return parse_dotenv(self.dotenv_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise ProjectError(f"cannot read {self.dotenv_path}: {exc}") from exc

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
            raise ProjectError(f"{path}:1: expected a list of databases, found an include")
        if not isinstance(sources, list):
            raise ProjectError(f"{path}:1: expected a list of databases")
        kinds: dict[str, str] = {}
        for index, source in enumerate(sources):
            if not isinstance(source, dict) or not isinstance(source.get("name"), str):
                raise ProjectError(f"{path}:{document.line_of((index,))}: every database needs a name")
            kinds[source["name"]] = str(source.get("kind") or "postgres")
        return kinds

    def scan_migrations(self, *, analyze_sql: bool = True) -> MigrationScan:
        """Scan migrations/ (see `project.migrations.scan_migrations`)."""
        return scan_migrations(
            self.migrations_dir,
            config_version=self.config.version,
            declared_databases=self.declared_databases(),
            analyze_sql=analyze_sql,
        )


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
