"""The double's HTTP face: Hasura's endpoints, admin-secret checks, fault injection (starlette).

Routes: POST /v2/query and /v1/metadata (JSON envelopes), GET /v1/version, GET /healthz and
/hasura/healthz (plain text, §1.7). Database work runs in worker threads so a delayed answer
never blocks other requests. A dropped connection is a TCP reset (SO_LINGER 0) sent AFTER the
operation committed: the client sees a reset, the database has the change.
"""

from __future__ import annotations

import hmac
import json
import socket
import struct
import threading
from typing import Any

import anyio.to_thread
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .api import HasuraAPI
from .faults import Fault, FaultKind, Faults
from .qerr import QErr

_RAW_SEND = "hasura_double.raw_send"


def _error(status: int, code: str, error: str, path: str = "$") -> Response:
    return JSONResponse({"path": path, "error": error, "code": code}, status_code=status)


class DoubleApp:
    """The ASGI application; `api` does the work, `faults` can break it on purpose."""

    def __init__(self, api: HasuraAPI, faults: Faults, stopping: threading.Event):
        self.api = api
        self.faults = faults
        self.stopping = stopping
        self._starlette = Starlette(
            routes=[
                Route("/v2/query", self._v2_query, methods=["POST"]),
                Route("/v1/metadata", self._v1_metadata, methods=["POST"]),
                Route("/v1/version", self._version, methods=["GET"]),
                Route("/healthz", self._healthz, methods=["GET"]),
                Route("/hasura/healthz", self._healthz, methods=["GET"]),
            ],
        )
        self._starlette.add_exception_handler(404, self._not_found)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Keep the server's own `send`: its owner holds the transport we reset for DROP_AFTER.
        scope[_RAW_SEND] = send
        await self._starlette(scope, receive, send)

    # -- endpoints -------------------------------------------------------------------------------

    async def _v2_query(self, request: Request) -> Response:
        return await self._post(request, self.api.query)

    async def _v1_metadata(self, request: Request) -> Response:
        return await self._post(request, self.api.metadata)

    async def _version(self, request: Request) -> Response:
        fault = self.faults.take("version")
        if fault is not None and fault.kind is FaultKind.FAIL:
            return _injected(fault)
        return await self._finish(JSONResponse({"version": self.api.config.version}), fault)

    async def _healthz(self, request: Request) -> Response:
        fault = self.faults.take("healthz")
        if fault is not None and fault.kind is FaultKind.FAIL:
            return _injected(fault)
        strict = request.query_params.get("strict") == "true"
        if not self.api.inconsistent:
            response: Response = PlainTextResponse("OK")
        elif strict:
            response = PlainTextResponse("ERROR: inconsistent objects in schema", status_code=500)
        else:
            response = PlainTextResponse("WARN: inconsistent objects in schema")
        return await self._finish(response, fault)

    async def _not_found(self, request: Request, exc: Exception) -> Response:
        return _error(404, "not-found", "resource does not exist")

    # -- the common path of a POST ---------------------------------------------------------------

    async def _post(self, request: Request, operation_handler: Any) -> Response:
        denied = self._authorise(request)
        if denied is not None:
            return denied
        try:
            envelope = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return _error(400, "invalid-json", f"Error in $: Failed reading: {exc}")
        if not isinstance(envelope, dict) or not isinstance(envelope.get("type"), str):
            return _error(400, "parse-failed", 'key "type" not found')
        fault = self.faults.take(envelope["type"])
        if fault is not None and fault.kind is FaultKind.FAIL:
            return _injected(fault)
        try:
            result = await run_in_threadpool(operation_handler, envelope)
            response: Response = JSONResponse(result)
        except QErr as error:
            if self.api.config.hide_internal_errors:
                error.internal = None
            response = JSONResponse(error.body(), status_code=error.status)
        return await self._finish(response, fault)

    def _authorise(self, request: Request) -> Response | None:
        """Admin secret as in Auth.hs (§1.5); a non-admin X-Hasura-Role is refused with 400."""
        secret = self.api.config.admin_secret
        if secret is not None:
            given = request.headers.get("x-hasura-admin-secret") or request.headers.get("x-hasura-access-key")
            if given is None:
                return _error(
                    401, "access-denied", "x-hasura-admin-secret/x-hasura-access-key required, but not found"
                )
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return _error(401, "access-denied", "invalid x-hasura-admin-secret/x-hasura-access-key")
        role = request.headers.get("x-hasura-role")
        if role is not None and role != "admin":
            return _error(400, "access-denied", "restricted access : admin only", path="$.args")
        return None

    async def _finish(self, response: Response, fault: Fault | None) -> Response:
        if fault is None:
            return response
        if fault.kind is FaultKind.DROP_AFTER:
            return _ResetConnection()
        if fault.kind is FaultKind.FAIL_AFTER:
            return _injected(fault)
        if fault.kind is FaultKind.DELAY:
            # Wait in a worker thread on the stop event, so stopping the double cuts the delay short.
            await anyio.to_thread.run_sync(self.stopping.wait, fault.seconds)
        return response


def _injected(fault: Fault) -> Response:
    return Response(fault.body, status_code=fault.status, media_type=fault.content_type)


class _ResetConnection(Response):
    """Sends nothing: resets the TCP connection (RST) instead of answering."""

    def __init__(self) -> None:
        super().__init__()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # uvicorn's h11 RequestResponseCycle owns `send`; it holds the asyncio transport.
        cycle = getattr(scope[_RAW_SEND], "__self__", None)
        transport = getattr(cycle, "transport", None)
        if cycle is None or transport is None:
            raise RuntimeError("the test double must run under uvicorn with http='h11' to drop connections")
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        cycle.disconnected = True  # so uvicorn does not try to write its own 500 on the dead socket
