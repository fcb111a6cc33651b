"""Hasura's answers decoded once: 2xx JSON out, every other answer into the matching HasuraError.

Hasura's error JSON (contract §1.4) becomes `HasuraAPIError` or a subclass chosen by status and
`code` (access-denied, conflict, postgres-error, an inconsistency list in `internal`); anything
else (a proxy's HTML page, 413, an empty body, invalid JSON) is a `HasuraBadResponse` quoting the
status and the first line of the body. Every text taken from an answer passes through `redact()`:
a server or proxy that echoes the admin secret must not make us print it.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from kedge_hasura.errors import (
    HasuraAPIError,
    HasuraAuthError,
    HasuraBadResponse,
    HasuraConflict,
    HasuraError,
    HasuraPostgresError,
)
from kedge_hasura.hasura.models import (
    ErrorBody,
    HasuraInconsistentMetadata,
    InconsistentObject,
    PostgresErrorInternal,
)
from kedge_hasura.settings import redact, redact_url

ModelT = TypeVar("ModelT", bound=BaseModel)

_EXCERPT = 200
_STATEMENT_EXCERPT = 300
_BULK_ITEM = re.compile(r"^\$\.args\[(\d+)\]")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)

ENDPOINT_HINT = "check --endpoint (HASURA_GRAPHQL_ENDPOINT) and api_paths in config.yaml"
SECRET_HINT = "admin secret missing or wrong; set HASURA_GRAPHQL_ADMIN_SECRET or --admin-secret"  # noqa: S105
_CODE_HINTS = {
    "conflict": "the metadata changed since it was read (resource_version); export it again and retry",
    "not-found": ENDPOINT_HINT,
    "unexpected": "Hasura reported an internal error; see the server's logs",
    "postgres-max-connections-error": "the database has no free connection; retry later",
}


def decode_json(
    response: httpx.Response, *, operation: str, secret: str | None, item_count: int | None
) -> Any:
    """The JSON of a 2xx answer; anything else becomes the matching HasuraError (raised)."""
    if 200 <= response.status_code < 300:
        return _json_body(response, operation=operation, secret=secret)
    raise error_from_response(response, operation=operation, secret=secret, item_count=item_count)


def decode_model(model: type[ModelT], data: Any, *, operation: str) -> ModelT:
    """Validate an answer against its model; a mismatch is a `HasuraBadResponse`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "the body"
        raise HasuraBadResponse(
            f"Hasura's answer to {operation} has an unexpected shape: {where}: {problem['msg']}",
            status=None,
            hint="is the endpoint a Hasura v2 server? " + ENDPOINT_HINT,
        ) from None


def error_from_response(
    response: httpx.Response, *, operation: str, secret: str | None, item_count: int | None = None
) -> HasuraError:
    """The error for a non-2xx answer: Hasura's error JSON when it is one, else a bad response."""
    status = response.status_code
    if status == 413:
        return HasuraBadResponse(
            f"Hasura or a proxy in front of it refused {operation}: request too large (HTTP 413)",
            status=status,
            excerpt=_first_line(response.text, secret),
            hint="a proxy limit, see client_max_body_size (nginx; 1 MB by default): raise it, "
            "or split the migration",
        )
    if 300 <= status < 400:
        location = redact_url(response.headers.get("location", "?"))
        return HasuraBadResponse(
            f"{operation} was redirected (HTTP {status}) to {location}",
            status=status,
            hint="use the final URL as the endpoint (http or https, path prefix); " + ENDPOINT_HINT,
        )
    body = _maybe_json(response)
    if isinstance(body, dict) and isinstance(body.get("error"), str) and isinstance(body.get("code"), str):
        try:
            parsed = ErrorBody.model_validate(body)
        except ValidationError:  # e.g. a non-string `path`: not Hasura's error after all
            return _not_hasura(response, operation, secret)
        return _api_error(parsed, status, operation, secret, item_count)
    return _not_hasura(response, operation, secret)


def _api_error(
    body: ErrorBody, status: int, operation: str, secret: str | None, item_count: int | None
) -> HasuraAPIError:
    error = redact(body.error, secret)
    internal = _redact_json(body.internal, secret)
    item_index = _bulk_item(body.path) if item_count is not None else None
    what = operation
    if item_index is not None:
        what = f"{operation} item {item_index + 1} of {item_count}"
    common: dict[str, Any] = {
        "status": status,
        "code": body.code,
        "error": error,
        "path": body.path,
        "internal": internal,
        "item_index": item_index,
    }
    if body.code == "access-denied" or status == 401:
        if status == 401:
            message = f"Hasura refused {what}: {error}"
            hint = SECRET_HINT
        else:
            message = f"Hasura refused {what}: the request was not made as admin ({error})"
            hint = "kedge-hasura needs admin access: set HASURA_GRAPHQL_ADMIN_SECRET or --admin-secret"
        return HasuraAuthError(message, hint=hint, **common)
    if status == 409 or body.code == "conflict":
        return HasuraConflict(
            f"Hasura rejected {what} (conflict): {error}", hint=_CODE_HINTS["conflict"], **common
        )
    if body.code == "postgres-error":
        return _postgres_error(what, internal, common)
    objects = _inconsistent_objects(internal)
    if objects is not None:
        return HasuraInconsistentMetadata(
            f"Hasura rejected {what} ({body.code}): {error}",
            inconsistent_objects=tuple(objects),
            hint="fix the objects listed, or apply with allow_inconsistent_metadata",
            details={"inconsistent_objects": [o.describe() for o in objects]},
            **common,
        )
    details = {"internal": internal} if internal is not None else None
    return HasuraAPIError(
        f"Hasura rejected {what} ({body.code}): {error}",
        hint=_CODE_HINTS.get(body.code),
        details=details,
        **common,
    )


def _postgres_error(what: str, internal: Any, common: dict[str, Any]) -> HasuraPostgresError:
    parsed = None
    if isinstance(internal, dict):
        try:
            parsed = PostgresErrorInternal.model_validate(internal)
        except ValidationError:
            parsed = None
    fields = parsed.error if parsed is not None else None
    if fields is None or fields.message is None:
        # The server hides PostgreSQL's details unless admin internal errors are on (§2.6).
        return HasuraPostgresError(
            f"Hasura rejected {what} (postgres-error): {common['error']}",
            sqlstate=fields.status_code if fields else None,
            pg_message=None,
            pg_hint=None,
            pg_detail=None,
            statement=parsed.statement if parsed else None,
            hint="the server hides PostgreSQL's message; an administrator can show it with "
            "HASURA_GRAPHQL_ADMIN_INTERNAL_ERRORS=true (or HASURA_GRAPHQL_DEV_MODE=true)",
            **common,
        )
    assert parsed is not None
    statement = parsed.statement
    details = {
        "sqlstate": fields.status_code,
        "postgres_message": fields.message,
        "postgres_hint": fields.hint,
        "postgres_detail": fields.description,
        "statement": _excerpt(statement, _STATEMENT_EXCERPT) if statement else None,
    }
    code = f"postgres-error {fields.status_code}" if fields.status_code else "postgres-error"
    return HasuraPostgresError(
        f"Hasura rejected {what} ({code}): {fields.message}",
        sqlstate=fields.status_code,
        pg_message=fields.message,
        pg_hint=fields.hint,
        pg_detail=fields.description,
        statement=statement,
        hint=fields.hint,
        details={k: v for k, v in details.items() if v is not None},
        **common,
    )


def _inconsistent_objects(internal: Any) -> list[InconsistentObject] | None:
    """`internal` as inconsistent objects when it is a list of them (§7.2), else None."""
    if not isinstance(internal, list) or not internal:
        return None
    try:
        return [InconsistentObject.model_validate(item) for item in internal]
    except ValidationError:
        return None


def _bulk_item(path: str) -> int | None:
    match = _BULK_ITEM.match(path)
    return int(match.group(1)) if match else None


def _json_body(response: httpx.Response, *, operation: str, secret: str | None) -> Any:
    status = response.status_code
    if not response.content.strip():
        raise HasuraBadResponse(
            f"Hasura answered {operation} with HTTP {status} and an empty body",
            status=status,
            hint="a proxy may have cut the answer; " + ENDPOINT_HINT,
        )
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _not_hasura(response, operation, secret, problem=f"invalid JSON ({exc})") from None


def _not_hasura(
    response: httpx.Response, operation: str, secret: str | None, *, problem: str | None = None
) -> HasuraBadResponse:
    status = response.status_code
    content_type = response.headers.get("content-type", "no content type").split(";")[0]
    text = response.text
    first = _first_line(text, secret)
    title_match = _HTML_TITLE.search(text)
    title = redact(" ".join(title_match.group(1).split()), secret) if title_match else None
    described = problem or f"a body that is not Hasura's JSON ({content_type})"
    if not first:
        message = f"{operation} got HTTP {status} {response.reason_phrase} with an empty body"
    else:
        message = f'{operation} got HTTP {status} {response.reason_phrase} with {described}: "{first}"'
    if title and title != first:
        message += f' (title "{title}")'
    if status >= 500 or "html" in content_type:
        hint = "a proxy or load balancer answered instead of Hasura: is Hasura up? " + ENDPOINT_HINT
    else:
        hint = "is the endpoint a Hasura v2 server? " + ENDPOINT_HINT
    return HasuraBadResponse(message, status=status, excerpt=first or None, hint=hint)


def _maybe_json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _first_line(text: str, secret: str | None) -> str:
    for line in text.splitlines():
        if line.strip():
            return _excerpt(redact(line.strip(), secret), _EXCERPT)
    return ""


def _excerpt(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _redact_json(value: Any, secret: str | None) -> Any:
    """A copy of a JSON value with the secret masked in every string (a server could echo it)."""
    if isinstance(value, str):
        return redact(value, secret)
    if isinstance(value, list):
        return [_redact_json(item, secret) for item in value]
    if isinstance(value, dict):
        return {key: _redact_json(item, secret) for key, item in value.items()}
    return value
