"""Hand-written SQL for the statements every scan and every movement runs.

Piccolo's query builder spends about 0.5 ms of CPU building a select and 1 ms one with a join,
against 0.04 ms for a raw statement (measured on this 2-core machine with PostgreSQL; see the
README's benchmark notes). On the hot path that was half of the service's CPU, so those statements
are written once here with Piccolo's `{}` placeholders, which it binds for either engine, and run
through Piccolo's own raw path: inside a transaction they use its connection. Everything else
keeps the query builder. On SQLite they skip Piccolo's query object and go straight to the pooled
engine (server/sqlite_engine.py), which runs them in the event loop's thread when that cannot wait
on a lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

from piccolo.querystring import QueryString

from server.core.tables import Site
from server.db import engine, in_transaction
from server.sqlite_engine import PooledSQLiteEngine


@lru_cache(maxsize=1024)
def _for_sqlite(sql: str, arg_count: int) -> str:
    # Piccolo's own compilation of `{}` placeholders, done once per statement.
    return QueryString(sql, *range(arg_count)).compile_string(engine_type="sqlite")[0]


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    db = Site._meta.db
    if isinstance(db, PooledSQLiteEngine) and not any(isinstance(a, QueryString) for a in args):
        return await db.fetch(_for_sqlite(sql, len(args)), args)
    rows: list[dict[str, Any]] = await Site.raw(sql, *args)
    return rows


async def fetchrow(sql: str, *args: Any) -> dict[str, Any] | None:
    rows = await fetch(sql, *args)
    return rows[0] if rows else None


@asynccontextmanager
async def scratch_table(name: str, columns: str) -> AsyncIterator[None]:
    """A temporary table for the statements of the caller's transaction. PostgreSQL drops it at
    commit; on SQLite it would outlive the transaction on the pooled connection, so a leftover
    is dropped first and the table at the end (a rollback undoes its creation anyway)."""
    if isinstance(Site._meta.db, PooledSQLiteEngine):
        await fetch(f"DROP TABLE IF EXISTS temp.{name}")
        await fetch(f"CREATE TEMP TABLE {name} ({columns})")
        yield
        await fetch(f"DROP TABLE temp.{name}")
        return
    await fetch(f"CREATE TEMP TABLE {name} ({columns}) ON COMMIT DROP")
    yield


@asynccontextmanager
async def one_connection() -> AsyncIterator[None]:
    """Run several reads on one pooled connection: a checkout per statement costs more than the
    statement. Joins the caller's transaction when there is one."""
    if in_transaction():
        yield
        return
    async with engine().transaction():
        yield
