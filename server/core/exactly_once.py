"""Exactly-once writes (design invariant 2).

A write carries a client-generated id. The id is claimed inside the write's own
transaction, so the write and its id commit or roll back together: a replay
returns the stored answer and changes nothing, and the same id with another
body is refused. On PostgreSQL a concurrent duplicate waits on the unique index
until the first commits, then reads its answer.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec

from server import sql
from server.core.audit import canonical_json
from server.core.tables import ClientWrite
from server.db import write_transaction
from server.errors import Conflict

T = TypeVar("T")

_CLAIM_SQL = (
    "INSERT INTO client_write (key, actor, fingerprint, response, created_at) VALUES ({}, {}, {}, '', {}) "
    "ON CONFLICT (key) DO NOTHING RETURNING id"
)


def fingerprint(*, secret_key: str, actor: str, method: str, path: str, body: Any) -> str:
    # Keyed, because a body may hold a new password.
    text = canonical_json({"actor": actor, "method": method, "path": path, "body": body})
    return hmac.new(secret_key.encode(), text.encode("utf-8"), hashlib.sha256).hexdigest()


async def run_once(
    key: UUID,
    *,
    actor: str,
    print_: str,
    result_type: type[T],
    now: datetime,
    write: Callable[[], Awaitable[T]],
    stored: Callable[[T], T] | None = None,
) -> T:
    """Run ``write`` once for ``key``; replays decode the stored answer as ``result_type``.

    ``stored`` turns the answer into what may be kept (a new API token's secret is not).
    """
    async with write_transaction():
        claimed = await sql.fetch(_CLAIM_SQL, key, actor, print_, now)
        if not claimed:
            return await _replay(key, print_, result_type)
        result = await write()
        answer = msgspec.json.encode(stored(result) if stored else result).decode()
        await sql.fetch("UPDATE client_write SET response = {} WHERE key = {}", answer, key)
        return result


async def _replay(key: UUID, print_: str, result_type: type[T]) -> T:
    row = await ClientWrite.select().where(ClientWrite.key == key).first()
    if row is None or row["fingerprint"] != print_:
        raise Conflict(
            "This request id was already used for a different request. Send a new id.",
            code="idempotency_key_reused",
        )
    return msgspec.json.decode(row["response"], type=result_type)
