"""The HTTP edge: one httpx pool per endpoint, safe retries, `-v` lines, transport errors mapped once.

`_map_errors()` turns httpx's transport errors into `HasuraUnreachable` (saying whether the
request may have reached the server); `_answers.decode_json()` turns every answer that is not a
2xx JSON body into the matching `HasuraError`. Nothing else in the package maps failures.

Retries: only failures before the request left this process (the connection was never
established: `ConnectError`, `ConnectTimeout`, `PoolTimeout`) are retried. A read timeout, a
reset after sending or any answer is never re-sent: `run_sql` is not idempotent, and a request
that reached the server may have committed (contract §2.4, §4.4).

The admin secret travels only in the `X-Hasura-Admin-Secret` header of POSTs; log lines carry
method, path, status and time, and every text taken from a response passes through `redact()`.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from kedge_hasura import __version__
from kedge_hasura.errors import HasuraBadResponse, HasuraError, HasuraUnreachable, UsageError
from kedge_hasura.hasura._answers import ENDPOINT_HINT, decode_json
from kedge_hasura.settings import clean_admin_secret, redact, redact_url

LogLine = Callable[[str], None]

SECRET_HEADER = "X-Hasura-Admin-Secret"  # noqa: S105 - a header name
# The largest answer read into memory. Our biggest legitimate answers (export_metadata of a large
# project, a catalog snapshot) are a few MiB; an endless or hostile body must not fill the memory.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TLS_MARKERS = ("CERTIFICATE_VERIFY_FAILED", "SSL", "TLS", "certificate")
_RETRY_HINT = (
    "check the server's state before retrying (for run_sql: whether the SQL was applied); "
    "raise --timeout (KEDGE_TIMEOUT) for long operations"
)


class HttpSession:
    """One httpx connection pool for one Hasura endpoint."""

    def __init__(
        self,
        *,
        base_url: str,
        admin_secret: SecretStr | None,
        timeout: float,
        verify: bool | str | Path,
        transport: httpx.BaseTransport | None,
        log: LogLine | None,
        connect_retries: int,
        retry_backoff: float,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ):
        self.base_url = base_url.rstrip("/")
        self._secret = _checked_secret(admin_secret)
        self._timeout = timeout
        self._log = log
        self._connect_retries = connect_retries
        self._retry_backoff = retry_backoff
        self._max_response_bytes = max_response_bytes
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            # A dead host should fail fast; a long migration may legitimately take `timeout` to answer.
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            verify=_ssl_verify(verify),
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": f"kedge-hasura/{__version__}"},
        )

    def close(self) -> None:
        self._http.close()

    @property
    def secret(self) -> str | None:
        return self._secret.get_secret_value() if self._secret is not None else None

    @property
    def endpoint(self) -> str:
        """The base URL for messages, with any password masked."""
        return redact_url(self.base_url)

    @property
    def timeout(self) -> float:
        """Seconds to wait for an answer."""
        return self._timeout

    def post(self, path: str, body: Any, *, operation: str, item_count: int | None = None) -> Any:
        """POST a JSON envelope and return the decoded 2xx JSON answer.

        Raises:
            HasuraUnreachable, HasuraBadResponse, HasuraAPIError (and subclasses).
        """
        headers = {"Content-Type": "application/json"}
        if self._secret is not None:
            headers[SECRET_HEADER] = self._secret.get_secret_value()
        content = json.dumps(body, ensure_ascii=False).encode()
        request = self._http.build_request("POST", path, content=content, headers=headers)
        response = self._send(request, operation=operation)
        return decode_json(response, operation=operation, secret=self.secret, item_count=item_count)

    def get(self, path: str, *, operation: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        """GET without the admin secret (/v1/version and /healthz need none); the raw response."""
        request = self._http.build_request("GET", path, params=params)
        return self._send(request, operation=operation)

    def _send(self, request: httpx.Request, *, operation: str) -> httpx.Response:
        with self._map_errors(request, operation):
            for attempt in range(self._connect_retries + 1):
                started = time.perf_counter()
                try:
                    response = self._receive(request, deadline=time.monotonic() + self._timeout)
                except _NOT_SENT as exc:
                    self._log_line(request, None, started)
                    if attempt == self._connect_retries or _is_tls_failure(exc):
                        raise
                    time.sleep(self._retry_backoff * (2**attempt))
                    continue
                except httpx.RequestError:
                    self._log_line(request, None, started)
                    raise
                self._log_line(request, response.status_code, started)
                return response
        raise AssertionError("unreachable")  # the loop returns or raises

    def _receive(self, request: httpx.Request, *, deadline: float) -> httpx.Response:
        """Send and read the whole answer within one deadline and `max_response_bytes`.

        httpx's read timeout bounds each wait for bytes, not the whole answer: a server that
        trickles one byte at a time would never hit it. So the body is read in chunks against an
        overall deadline (checked after every chunk, so it may be overrun by one read wait) and a
        size cap (checked on the decoded bytes, so a compressed bomb is caught too).
        """
        response = self._http.send(request, stream=True)
        try:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self._max_response_bytes:
                raise self._too_large(request, response.status_code)
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self._max_response_bytes:
                    raise self._too_large(request, response.status_code)
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the answer did not arrive within the deadline", request=request)
                chunks.append(chunk)
        finally:
            response.close()
        # The body is decoded already: drop the headers that would make httpx decode it again.
        headers = [
            (k, v)
            for k, v in response.headers.multi_items()
            if k not in ("content-encoding", "content-length")
        ]
        return httpx.Response(
            response.status_code, headers=headers, content=b"".join(chunks), request=request
        )

    def _too_large(self, request: httpx.Request, status: int) -> HasuraBadResponse:
        limit = self._max_response_bytes / (1024 * 1024)
        return HasuraBadResponse(
            f"the answer to {request.method} {request.url.path} is larger than {limit:g} MiB and was not "
            "read; the request reached the server and may have been applied",
            status=status,
            hint=f"is {self.endpoint} a Hasura server? {ENDPOINT_HINT}",
            details={"max_response_bytes": self._max_response_bytes, "may_have_reached_server": True},
        )

    def _log_line(self, request: httpx.Request, status: int | None, started: float) -> None:
        # Method, path, status and time only: never headers (the secret), never bodies (SQL).
        if self._log is not None:
            elapsed = time.perf_counter() - started
            shown = str(status) if status is not None else "no answer"
            self._log(f"{request.method} {request.url.path} {shown} {elapsed:.3f}s")

    @contextmanager
    def _map_errors(self, request: httpx.Request, operation: str) -> Iterator[None]:
        """The one translation of httpx's exceptions into `HasuraUnreachable` / `HasuraBadResponse`."""
        try:
            yield
        except httpx.DecodingError as exc:
            raise HasuraBadResponse(
                f"Hasura's answer to {operation} could not be decoded: {self._reason(exc)}",
                status=None,
                hint=ENDPOINT_HINT,
            ) from exc
        except httpx.RequestError as exc:
            raise self._unreachable(exc, request, operation) from exc

    def _unreachable(
        self, exc: httpx.RequestError, request: httpx.Request, operation: str
    ) -> HasuraUnreachable:
        reason = self._reason(exc)
        details = {"endpoint": self.endpoint, "request": f"{request.method} {request.url.path}"}
        not_sent = " (the request was not sent)"
        message: str
        hint: str
        if isinstance(exc, httpx.ConnectTimeout):
            message = f"could not connect to Hasura at {self.endpoint} in time{not_sent}"
            hint = "check the endpoint, the network and any firewall; raise --timeout on a slow link"
        elif isinstance(exc, httpx.PoolTimeout):
            message = f"no free connection to Hasura at {self.endpoint} in time{not_sent}"
            hint = "raise --timeout (KEDGE_TIMEOUT)"
        elif isinstance(exc, httpx.ConnectError):
            message, hint = _connect_failure(self.endpoint, reason)
            message += not_sent
        elif isinstance(exc, httpx.UnsupportedProtocol | httpx.ProxyError):
            message = f"cannot send {operation} to {self.endpoint}: {reason}{not_sent}"
            hint = f"{ENDPOINT_HINT}; check HTTP(S)_PROXY and NO_PROXY"
        elif isinstance(exc, httpx.ReadTimeout):
            message = (
                f"Hasura did not answer {operation} within {self._timeout:g} s; "
                "the request may have reached the server and may have been applied"
            )
            hint = _RETRY_HINT
        else:
            # WriteTimeout, WriteError, ReadError, RemoteProtocolError: a connection reset or
            # closed while sending or reading. Part or all of the request may have arrived.
            message = (
                f"the connection to Hasura broke during {operation} ({reason}); "
                "the request may have reached the server and may have been applied"
            )
            hint = _RETRY_HINT
        sent = not isinstance(exc, (*_NOT_SENT, httpx.UnsupportedProtocol, httpx.ProxyError))
        details["error"] = type(exc).__name__
        return HasuraUnreachable(message, may_have_reached_server=sent, hint=hint, details=details)

    def _reason(self, exc: Exception) -> str:
        return redact(str(exc).strip() or type(exc).__name__, self.secret, echoed=True)


def _checked_secret(secret: SecretStr | None) -> SecretStr | None:
    """The secret without a trailing line break; refused before any request if a header cannot carry it.

    Settings already did this for the CLI; a library caller's value gets the same rule, so httpx
    never sees a value it would quote back in `Illegal header value ...`.
    """
    if secret is None:
        return None
    try:
        cleaned, _ = clean_admin_secret(secret.get_secret_value())
    except ValueError as exc:
        raise UsageError(str(exc), hint="check the admin secret's source") from None
    return SecretStr(cleaned) if cleaned else None


def _ssl_verify(verify: bool | str | Path) -> bool | ssl.SSLContext:
    """`--certificate-authority FILE` adds a CA to the system's roots, as the Hasura CLI does."""
    if isinstance(verify, bool):
        return verify
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(cafile=str(verify))
    except (OSError, ssl.SSLError) as exc:
        raise HasuraError(
            f"cannot use the certificate authority file {verify}: {exc}",
            hint="check --certificate-authority (HASURA_GRAPHQL_CERTIFICATE_AUTHORITY); it must be PEM",
        ) from exc
    return context


def _is_tls_failure(exc: Exception) -> bool:
    return isinstance(exc.__context__, ssl.SSLError) or any(marker in str(exc) for marker in _TLS_MARKERS)


def _connect_failure(endpoint: str, reason: str) -> tuple[str, str]:
    lowered = reason.lower()
    if any(marker in reason for marker in _TLS_MARKERS):
        return (
            f"the TLS handshake with {endpoint} failed: {reason}",
            "for a private CA pass --certificate-authority FILE (HASURA_GRAPHQL_CERTIFICATE_AUTHORITY); "
            "for a test server only, --insecure-skip-tls-verify",
        )
    if any(
        marker in lowered
        for marker in ("name or service not known", "nodename nor servname", "name resolution", "getaddrinfo")
    ):
        return f"cannot resolve the host of {endpoint}: {reason}", f"check the host name in {ENDPOINT_HINT}"
    if "refused" in lowered:
        return (
            f"Hasura at {endpoint} refused the connection",
            "is Hasura running and listening on that host and port? " + ENDPOINT_HINT,
        )
    return f"cannot connect to Hasura at {endpoint}: {reason}", ENDPOINT_HINT
