"""The OpenAPI document describes the errors the service really sends: RFC 9457 problem details.

Litestar documents a 400 as its own ``{"status_code", "detail", "extra"}`` JSON, but every error here
goes through server/errors.py and is ``application/problem+json``. A client generated from the
schema (or a fuzzer checking answers against it) must see the real shape.
"""

from __future__ import annotations

import msgspec
from litestar import Litestar
from litestar.openapi.datastructures import ResponseSpec

from server.errors import PROBLEM_JSON


class ProblemField(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct, kw_only=True):
    """An error (RFC 9457). ``code`` is stable and is what a client translates."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    instance: str | None = None
    errors: list[ProblemField] | None = None


# What any route may answer besides its success: bad input, not signed in, not allowed, not found,
# a conflict (replayed key, already recorded), too large, a rule broken, throttled, storage down.
_ERRORS = {
    400: "Some values are not valid (problem details, with per-field `errors`)",
    401: "Not signed in",
    403: "Not allowed (role, site or CSRF token)",
    404: "Not found",
    409: "Conflicts with what is recorded, or an Idempotency-Key reused with another body",
    413: "The request body is too large",
    422: "Breaks a rule",
    429: "Too many attempts (see Retry-After)",
    503: "The database is unreachable or read-only",
}


def document_problems(app: Litestar) -> None:
    """Declare the problem responses on every handler; the schema is built later, on first request."""
    specs = {
        status: ResponseSpec(
            data_container=Problem, media_type=PROBLEM_JSON, description=text, generate_examples=False
        )
        for status, text in _ERRORS.items()
    }
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            handler.responses = {**specs, **(handler.responses or {})}
