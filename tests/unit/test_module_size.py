"""No module under src/ grows past 600 lines (style.md §10): split it by job before it grows further."""

from __future__ import annotations

from pathlib import Path

LIMIT = 600
SRC = Path(__file__).resolve().parents[2] / "src"


def oversized(root: Path, limit: int = LIMIT) -> list[tuple[str, int]]:
    """(path relative to `root`, physical lines) of every .py file longer than `limit`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        lines = len(path.read_bytes().splitlines())
        if lines > limit:
            found.append((path.relative_to(root).as_posix(), lines))
    return found


def test_no_module_under_src_is_longer_than_600_lines() -> None:
    assert list(SRC.rglob("*.py")), f"no modules found under {SRC}"
    assert oversized(SRC) == []


def test_a_module_one_line_over_the_limit_is_reported_and_one_at_it_is_not(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "long.py").write_text("x = 1\n" * (LIMIT + 1))
    (tmp_path / "pkg" / "at_limit.py").write_text("x = 1\n" * LIMIT)
    (tmp_path / "pkg" / "no_final_newline.py").write_text("x = 1\n" * LIMIT + "x = 1")
    (tmp_path / "notes.txt").write_text("x\n" * (LIMIT * 2))
    assert oversized(tmp_path) == [("pkg/long.py", LIMIT + 1), ("pkg/no_final_newline.py", LIMIT + 1)]
