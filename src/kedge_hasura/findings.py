"""Findings: one problem or remark about the project, with a code, a severity, a file and a line."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    ERROR = "error"  # the official CLI or Hasura would fail or do the wrong thing
    WARNING = "warning"  # works, but is fragile or ignored by the CLI
    INFO = "info"  # worth knowing; never fails a run by default

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Finding(BaseModel):
    """A problem found in the project. `code` is stable (documented, usable in ignore lists)."""

    model_config = ConfigDict(frozen=True)

    code: str
    severity: Severity
    message: str
    path: Path | None = None
    line: int | None = None
    hint: str | None = None
    database: str | None = None
    version: int | None = None

    def location(self) -> str:
        """`path:line` (or just the path) for messages."""
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else str(self.path)


def worst(findings: list[Finding] | tuple[Finding, ...]) -> Severity | None:
    """The highest severity among findings, or None when there are none."""
    return max((finding.severity for finding in findings), key=lambda s: s.rank, default=None)
