"""Hasura's error JSON (QErr, contract §1.4) as an exception the double's handlers raise."""

from __future__ import annotations

from typing import Any


class QErr(Exception):
    """An error answer: `{"path", "error", "code", "internal"?}` with an HTTP status."""

    def __init__(self, status: int, code: str, error: str, *, path: str = "$.args", internal: Any = None):
        super().__init__(error)
        self.status = status
        self.code = code
        self.error = error
        self.path = path
        self.internal = internal

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"path": self.path, "error": self.error, "code": self.code}
        if self.internal is not None:
            body["internal"] = self.internal
        return body

    def under(self, prefix: str) -> QErr:
        """The same error seen from inside a bulk item: `$.args` → `$.args[2].args` (§3.1)."""
        self.path = prefix + self.path.removeprefix("$")
        return self


def parse_failed(error: str, path: str = "$.args") -> QErr:
    return QErr(400, "parse-failed", error, path=path)


def not_exists(error: str, path: str = "$.args") -> QErr:
    return QErr(400, "not-exists", error, path=path)
