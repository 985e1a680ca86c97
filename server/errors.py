"""One domain error tree, mapped once to RFC 9457 problem details.

Every error carries a stable ``code`` the client translates; ``detail`` is plain
English for logs and API users.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from typing import Any

import asyncpg
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    SerializationException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

log = logging.getLogger("clinitrack.errors")

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        fields: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.fields = fields or []
        self.headers = headers or {}


class InvalidInput(DomainError):
    status = 400
    code = "invalid_input"
    title = "Some values are not valid"


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"
    title = "Please sign in"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "You are not allowed to do this"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "This conflicts with what is already recorded"


class RuleViolation(DomainError):
    status = 422
    code = "rule_violation"
    title = "This breaks a rule"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_attempts"
    title = "Too many attempts"


class StorageUnavailable(DomainError):
    """The database cannot be reached or written: an outage or a full or read-only disk, not a bug.

    Whatever was being written was rolled back with its transaction, so the client keeps the write
    and sends it again with the same Idempotency-Key (the web client's outbox retries any 5xx).
    """

    status = 503
    code = "database_unavailable"
    title = "The database cannot be reached"


def _fault(code: str, title: str, detail: str, status: int = 503) -> StorageUnavailable:
    error = StorageUnavailable(detail, code=code)
    error.title, error.status = title, status
    return error


def _unreachable() -> StorageUnavailable:
    return _fault(
        "database_unavailable",
        StorageUnavailable.title,
        "The service cannot reach its database right now, so nothing was saved. Try again in a minute.",
    )


def _read_only() -> StorageUnavailable:
    return _fault(
        "database_read_only",
        "The database is read-only",
        "The database is read-only, so nothing was saved. Ask whoever runs the server to make the "
        "database file writable (and its -wal and -shm files next to it), then try again.",
    )


def _full() -> StorageUnavailable:
    return _fault(
        "storage_full",
        "The server's disk is full",
        "The server's disk is full, so nothing was saved. Ask whoever runs the server to free some "
        "space, then try again.",
        status=507,
    )


def _storage_fault(exc: BaseException) -> StorageUnavailable | None:
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "")
        if name.startswith("SQLITE_READONLY"):
            return _read_only()
        if name == "SQLITE_FULL":
            return _full()
        if name.startswith("SQLITE_IOERR"):  # a write refused part-way: a full or failing disk
            return _fault(
                "storage_error",
                "The server cannot write to its disk",
                "The server could not write to its disk (full or failing), so nothing was saved. Ask "
                "whoever runs the server to check the disk, then try again.",
            )
        if name.startswith("SQLITE_CANTOPEN"):
            return _unreachable()
        return None
    if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
        return _read_only()
    if isinstance(exc, asyncpg.DiskFullError):
        return _full()
    if isinstance(
        exc,
        asyncpg.PostgresConnectionError  # the connection broke (class 08)
        | asyncpg.CannotConnectNowError  # starting up or shutting down
        | asyncpg.AdminShutdownError
        | asyncpg.CrashShutdownError
        | asyncpg.TooManyConnectionsError,
    ):
        return _unreachable()
    if isinstance(exc, asyncpg.InterfaceError) and "connection" in str(exc) and "closed" in str(exc):
        return _unreachable()
    if isinstance(exc, OSError | TimeoutError) and _raised_by_driver(exc):
        return _unreachable()  # connection refused, reset, timed out
    return None


def _raised_by_driver(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if "/asyncpg/" in tb.tb_frame.f_code.co_filename:
            return True
        tb = tb.tb_next
    return False


def storage_fault(exc: BaseException) -> StorageUnavailable | None:
    """The clear error for a database fault, looking through the exceptions it was raised from
    (a failed rollback after a failed statement hides the first one); None for anything else."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        fault = _storage_fault(current)
        if fault is not None:
            return fault
        current = current.__cause__ or current.__context__
    return None


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    fields: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"https://clinitrack.invalid/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if fields:
        body["errors"] = fields
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    return problem(
        exc.status,
        exc.code,
        exc.title,
        exc.detail,
        instance=request.url.path,
        fields=exc.fields,
        headers=exc.headers,
    )


_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")


def _validation_fields(extra: Any) -> list[dict[str, str]]:
    fields: list[dict[str, str]] = []
    if isinstance(extra, list):
        for item in extra:
            if isinstance(item, dict):
                message = str(item.get("message", "is not valid"))
                field = str(item.get("key") or item.get("source") or "body")
                unknown = _UNKNOWN_FIELD.search(message)
                if unknown:
                    field, message = unknown.group(1), "is not a known field"
                fields.append({"field": field, "message": message})
    return fields


_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("not_authenticated", "Please sign in"),
    403: ("forbidden", "You are not allowed to do this"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "This action is not available here"),
    413: ("too_large", "The request is too large"),
    415: ("unsupported_media_type", "Send JSON"),
    429: ("too_many_attempts", "Too many attempts"),
}


def http_exception_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    code, title = _HTTP_CODES.get(status, ("error", "Something went wrong"))
    detail = str(exc.detail) if exc.detail else title
    fields: list[dict[str, str]] = []
    if isinstance(exc, ValidationException):
        code, title = "validation_error", "Some values are not valid"
        fields = _validation_fields(exc.extra)
    elif isinstance(exc.__cause__, SerializationException):
        code, title = "malformed_json", "The request body is not valid JSON"
        detail = f"The request body is not valid JSON: {detail}"
    elif isinstance(exc, NotFoundException):
        detail = "Nothing is here. Check the address."
    elif isinstance(exc, NotAuthorizedException):
        detail = detail if exc.detail else "Please sign in."
    elif isinstance(exc, PermissionDeniedException):
        detail = detail if exc.detail else "Your role does not allow this."
    if status >= 500:
        log.error("HTTP %s on %s: %s", status, request.url.path, detail)
        code, title, detail = "internal_error", "Something went wrong", "Something went wrong on our side."
    return problem(status, code, title, detail, instance=request.url.path, fields=fields, headers=exc.headers)


def _unstorable_text(exc: BaseException) -> bool:
    """PostgreSQL text cannot hold NUL (\\x00): input carrying one is bad input, not a server fault.
    (SQLite stores it, so the two engines differ only in this answer.)"""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, asyncpg.CharacterNotInRepertoireError | asyncpg.UntranslatableCharacterError):
            return True
        current = current.__cause__ or current.__context__
    return False


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if _unstorable_text(exc):
        return problem(
            400,
            "invalid_text",
            "Some values are not valid",
            "Text cannot contain the NUL character. Check for pasted or scanned control characters.",
            instance=request.url.path,
        )
    fault = storage_fault(exc)
    if fault is not None:
        log.error(
            "%s on %s %s: %s: %s", fault.code, request.method, request.url.path, type(exc).__name__, exc
        )
        return problem(
            fault.status,
            fault.code,
            fault.title,
            fault.detail,
            instance=request.url.path,
            headers={"Retry-After": "10"},
        )
    # The trace goes to the log, never to the client.
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        "Something went wrong",
        "Something went wrong on our side. Nothing was saved; try again.",
        instance=request.url.path,
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: domain_error_handler,
    HTTPException: http_exception_handler,
    Exception: internal_error_handler,
}

__all__ = [
    "PROBLEM_JSON",
    "Conflict",
    "DomainError",
    "Forbidden",
    "InvalidInput",
    "NotAuthenticated",
    "NotFound",
    "RuleViolation",
    "StorageUnavailable",
    "TooManyRequests",
    "storage_fault",
]
