"""Fault injection for the Hasura test double, set from Python while it runs (thread-safe).

Each fault is one-shot and counts requests of one operation type from the moment it is added:
`fail("set_catalog_state", nth=2, ...)` fails the second `set_catalog_state` after the call.
The operation type is the envelope's `type` for POSTs (`run_sql`, `bulk`, `replace_metadata`,
...) and `version` / `healthz` for the GETs; items inside a `bulk` are not counted on their own.

`requests` counts every request that passed the admin-secret check, per operation type (tests
and bench/deploy_bench.py read it; `reset_requests()` starts a new count).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    FAIL = "fail"  # answer with the given status and body; the operation is NOT performed
    DROP_AFTER = "drop-after"  # perform (and commit) the operation, then reset the connection
    DELAY = "delay"  # perform the operation, then hold the answer for `seconds`
    # perform (and commit) the operation, then answer with the given status and body: a proxy's
    # 5xx after the server answered, or a checked run_sql whose metadata check failed after commit
    FAIL_AFTER = "fail-after"


@dataclass
class Fault:
    kind: FaultKind
    operation: str
    skip: int  # matching requests still to let through before this one fires
    status: int = 500
    body: bytes = b""
    content_type: str = "application/json"
    seconds: float = 0.0


class Faults:
    """The faults armed on one double; `HasuraDouble.faults`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []
        self.fired: list[Fault] = []
        self.requests: Counter[str] = Counter()

    def fail(
        self,
        operation: str,
        *,
        status: int = 500,
        body: Any = None,
        content_type: str | None = None,
        nth: int = 1,
    ) -> None:
        """Answer the `nth` next `operation` with `status` and `body` without performing it.

        `body`: a dict/list is sent as JSON; str/bytes as is (`text/html` unless told otherwise);
        None sends Hasura's 500 `unexpected` error.
        """
        if body is None:
            body = {"path": "$", "error": "injected failure", "code": "unexpected"}
        if isinstance(body, dict | list):
            raw, default_type = json.dumps(body).encode(), "application/json"
        elif isinstance(body, str):
            raw, default_type = body.encode(), "text/html; charset=utf-8"
        else:
            raw, default_type = bytes(body), "text/html; charset=utf-8"
        self._arm(
            Fault(
                FaultKind.FAIL,
                operation,
                nth - 1,
                status=status,
                body=raw,
                content_type=content_type or default_type,
            )
        )

    def fail_after(self, operation: str, *, status: int = 500, body: Any = None, nth: int = 1) -> None:
        """Perform the `nth` next `operation` (its SQL commits), then answer `status` and `body`
        (a dict, sent as JSON; None: Hasura's 500 `unexpected`) instead of its result."""
        if body is None:
            body = {"path": "$", "error": "injected failure after the operation", "code": "unexpected"}
        self._arm(
            Fault(FaultKind.FAIL_AFTER, operation, nth - 1, status=status, body=json.dumps(body).encode())
        )

    def drop_connection_after(self, operation: str = "run_sql", *, nth: int = 1) -> None:
        """Perform the `nth` next `operation` (its SQL commits), then reset the TCP connection."""
        self._arm(Fault(FaultKind.DROP_AFTER, operation, nth - 1))

    def delay(self, operation: str, seconds: float, *, nth: int = 1) -> None:
        """Perform the `nth` next `operation`, then wait `seconds` before answering."""
        self._arm(Fault(FaultKind.DELAY, operation, nth - 1, seconds=seconds))

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def take(self, operation: str) -> Fault | None:
        """The fault that fires for this request, if any (called by the app once per request)."""
        with self._lock:
            self.requests[operation] += 1
            fired = None
            for fault in list(self._armed):
                if fault.operation != operation:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if fired is None:
                    self._armed.remove(fault)
                    fired = fault
            if fired is not None:
                self.fired.append(fired)
            return fired

    def _arm(self, fault: Fault) -> None:
        if fault.skip < 0:
            raise ValueError("nth counts from 1")
        with self._lock:
            self._armed.append(fault)
