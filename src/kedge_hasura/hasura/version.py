"""Hasura server versions from `GET /v1/version`, their order, and the features they gate.

Real servers answer `v2.36.0`, `v2.48.5-ce`, `v2.40.0-cloud.1`, `v2.0.0-beta.3` (contract §1.7,
§10.1). An edition suffix (`-ce`, `-ee`, `-cloud`, `-pro`) names a build of that release; only
`alpha`, `beta` and `rc` suffixes are pre-releases, which sort before their release, so a gate at
2.45.3 is not opened by `v2.45.3-beta.1`. Development builds report a commit hash and do not parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Self

_VERSION = re.compile(
    r"^v?(?P<major>\d+)\.(?P<minor>\d+)\.(?P<patch>\d+)"
    r"(?:-(?P<suffix>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_PRE_RELEASE = re.compile(r"^(alpha|beta|rc)", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class ServerVersion:
    """A parsed server version; compares by (major, minor, patch, release over pre-release)."""

    major: int
    minor: int
    patch: int
    is_release: bool = True
    suffix: str = field(default="", compare=False)
    raw: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str) -> Self:
        """Parse `v2.48.5`, `2.48.5`, `v2.48.5-ce`, `v2.0.0-beta.3`; raises ValueError otherwise."""
        match = _VERSION.match(text.strip())
        if match is None:
            raise ValueError(f"not a Hasura server version: {text!r}")
        suffix = match["suffix"] or ""
        return cls(
            major=int(match["major"]),
            minor=int(match["minor"]),
            patch=int(match["patch"]),
            is_release=not _PRE_RELEASE.match(suffix),
            suffix=suffix,
            raw=text.strip(),
        )

    def __str__(self) -> str:
        return self.raw or f"v{self.major}.{self.minor}.{self.patch}"

    @property
    def supports_no_transaction(self) -> bool:
        """`run_sql` honours `no_transaction` (changelog v2.45.3; v2.44 accepted and ignored it, #10707)."""
        return self >= NO_TRANSACTION_SINCE

    @property
    def supports_pg_track_tables(self) -> bool:
        """`pg_track_tables` / `pg_untrack_tables` exist (contract §8.2: v2.26.0)."""
        return self >= PG_TRACK_TABLES_SINCE


NO_TRANSACTION_SINCE = ServerVersion(2, 45, 3)
# Config v3 (metadata v3, catalog state, /v2/query) needs a v2 server (contract §1.1).
OLDEST_SUPPORTED = ServerVersion(2, 0, 0)
PG_TRACK_TABLES_SINCE = ServerVersion(2, 26, 0)
