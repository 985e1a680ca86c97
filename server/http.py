"""Helpers for thin route handlers: the caller, the request id, and exactly-once execution."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import HeaderParameter

from server.clock import utcnow
from server.config import Settings
from server.core.auth import Principal
from server.core.exactly_once import fingerprint, run_once
from server.core.permissions import principal_of

T = TypeVar("T")

IdempotencyKey = Annotated[
    UUID,
    HeaderParameter(
        name="Idempotency-Key",
        description=(
            "A UUID the client makes once per write and repeats on every retry: a replay returns "
            "the first answer and changes nothing; the same id with a different body is a 409."
        ),
    ),
]


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return principal_of(request)


DEPENDENCIES = {"principal": Provide(provide_principal)}

# The signed-in caller, injected into handlers as ``principal: Caller``.
Caller = NamedDependency[Principal]


async def once(
    request: Request[Any, Any, Any],
    key: UUID,
    principal: Principal,
    result_type: type[T],
    write: Callable[[], Awaitable[T]],
    stored: Callable[[T], T] | None = None,
) -> T:
    settings: Settings = request.app.state.settings
    raw = await request.body()
    body = json.loads(raw) if raw else None
    print_ = fingerprint(
        secret_key=settings.secret_key,
        actor=principal.actor,
        method=request.method,
        path=request.url.path,
        body=body,
    )
    return await run_once(
        key,
        actor=principal.actor,
        print_=print_,
        result_type=result_type,
        now=utcnow(),
        write=write,
        stored=stored,
    )
