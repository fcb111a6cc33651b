"""A seeded generator of real-world-shaped Hasura migration histories (issue 11's suite).

`write_history(root, Shape(...))` writes a config-v3 project (config.yaml, minimal metadata,
migrations/default/<version>_<name>/up.sql + down.sql) whose migrations replay in order on a
database that has what Hasura gives one (pgcrypto in public). Every shape is a switch on `Shape`,
so a case can be small and aimed at one thing; the same seed always writes the same bytes.

It tracks what exists (tables, columns, views, functions, types) so that every statement applies,
and what depends on what, so that a drop or a rename never breaks the next migration. Used by
tests/pg/test_generated_histories.py (CI sizes) and bench/gen_histories.py (full size).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from .histgen_model import EVERYTHING, Shape
from .histgen_steps import Builder

__all__ = ["EVERYTHING", "GeneratedHistory", "Shape", "versions", "write_history"]

CONFIG = "version: 3\nendpoint: http://localhost:8080\nmetadata_directory: metadata\n"
CONFIG_V2 = "version: 2\nendpoint: http://localhost:8080\nmetadata_directory: metadata\n"
# The metadata files `hasura metadata export` writes for a config-v2 project with nothing tracked.
METADATA_V2 = {
    "version.yaml": "version: 2\n",
    "tables.yaml": "[]\n",
    "functions.yaml": "[]\n",
    "actions.yaml": "actions: []\ncustom_types: {}\n",
    "allow_list.yaml": "[]\n",
    "cron_triggers.yaml": "[]\n",
    "query_collections.yaml": "[]\n",
    "remote_schemas.yaml": "[]\n",
}
DATABASES = """\
- name: default
  kind: postgres
  configuration:
    connection_info:
      database_url:
        from_env: HASURA_GRAPHQL_DATABASE_URL
      isolation_level: read-committed
  tables: []
"""


@dataclass
class GeneratedHistory:
    """What was written: the project folder and, per migration, its folder and traits."""

    root: Path
    folders: list[Path]
    config: int = 3
    own_transaction: set[Path] = field(default_factory=set)  # files with their own BEGIN/COMMIT
    random_tables: set[str] = field(default_factory=set)  # "schema.table" with a random row count
    volatile_columns: set[str] = field(default_factory=set)  # "schema.table.column" of now() etc.
    broken: Path | None = None  # the up.sql that fails (Shape.breaks_with), on its line 3

    @property
    def database(self) -> Path:
        return self.root / "migrations" / "default" if self.config >= 3 else self.root / "migrations"


def versions(shape: Shape, count: int) -> list[int]:
    """Increasing versions; with several widths, the history switches width part-way (as real ones do)."""
    rng = random.Random(shape.seed * 7919)
    out: list[int] = []
    per = max(1, count // len(shape.digits))
    for index in range(count):
        width = shape.digits[min(index // per, len(shape.digits) - 1)]
        base = 1_600_000_000 if width == 10 else 1_700_000_000_000
        step = rng.randint(30, 90_000) if width == 10 else rng.randint(1_000, 90_000_000)
        last = out[-1] if out and len(str(out[-1])) == width else base
        out.append(last + step)
    return out


def write_history(root: Path, shape: Shape) -> GeneratedHistory:
    """Write the project for `shape` at `root` (created; must not exist)."""
    root.mkdir(parents=True)
    if shape.config == 2:
        (root / "config.yaml").write_text(CONFIG_V2, encoding="utf-8")
        (root / "metadata").mkdir()
        for name, text in METADATA_V2.items():
            (root / "metadata" / name).write_text(text, encoding="utf-8")
    else:
        (root / "config.yaml").write_text(CONFIG, encoding="utf-8")
        (root / "metadata" / "databases").mkdir(parents=True)
        (root / "metadata" / "version.yaml").write_text("version: 3\n", encoding="utf-8")
        (root / "metadata" / "databases" / "databases.yaml").write_text(DATABASES, encoding="utf-8")
    builder = Builder(shape)
    steps = builder.steps()
    if shape.empty_up:
        steps[len(steps) // 2].up = ""
    history = GeneratedHistory(root, [], config=shape.config)
    for table in builder.tables:
        if table.random_rows:
            history.random_tables.add(f"{table.schema}.{table.name}")
        if table.rows:
            history.volatile_columns |= {
                f"{table.schema}.{table.name}.{c.name}" for c in table.columns if c.kind == "volatile"
            }
    database = history.database
    for version, step in zip(versions(shape, len(steps)), steps, strict=True):
        folder = database / f"{version}_{step.name[:60]}"
        folder.mkdir(parents=True)
        up, down = step.up, step.down
        if step.crlf:
            up, down = up.replace("\r\n", "\n").replace("\n", "\r\n"), down.replace("\n", "\r\n")
        (folder / "up.sql").write_bytes(up.encode())
        (folder / "down.sql").write_bytes(down.encode())
        history.folders.append(folder)
        if step.name == "breaks_the_replay":
            history.broken = folder / "up.sql"
        if step.own_transaction:
            history.own_transaction.add(folder)
    return history
