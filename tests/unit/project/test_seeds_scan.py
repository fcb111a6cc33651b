"""Seed files are found as `hasura seed apply` walks the folder (`afero.Walk`): sub-folders too,
each folder's entries in lexical order, `.sql` and `.SQL` only."""

from __future__ import annotations

from pathlib import Path

from kedge_hasura.project.seeds import scan_seeds


def test_seeds_are_walked_in_the_cli_order(tmp_path: Path) -> None:
    for relative in ["b.sql", "ab.sql", "a/2.sql", "a/1.SQL", "a/notes.txt", "README.md", "Z.sql"]:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("SELECT 1;\n", encoding="utf-8")

    seeds = scan_seeds(tmp_path, "default")

    # Byte order: upper case sorts first; a folder is walked where its name sorts.
    assert [seed.name for seed in seeds] == ["Z.sql", "a/1.SQL", "a/2.sql", "ab.sql", "b.sql"]
    assert all(seed.database == "default" for seed in seeds)


def test_a_missing_folder_has_no_seeds(tmp_path: Path) -> None:
    assert scan_seeds(tmp_path / "nowhere", "default") == []
