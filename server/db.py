"""Engine helpers shared by every feature: write transactions, start-up and readiness."""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import Finder
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from server.sqlite_engine import PooledSQLiteEngine

# One lock per event loop: SQLite allows one writer, and queuing writers here
# (instead of in SQLite's busy handler) keeps tail latency low and avoids the
# aiosqlite thread leak when a waiting task is cancelled.
_sqlite_write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def engine() -> Engine[Any]:
    db = Finder().get_engine()
    if db is None:
        raise RuntimeError("Piccolo found no engine: is PICCOLO_CONF set to server.piccolo_conf?")
    return db


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


def _write_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _sqlite_write_locks.get(loop)
    if lock is None:
        lock = _sqlite_write_locks[loop] = asyncio.Lock()
    return lock


def in_transaction() -> bool:
    db = engine()
    return db.current_transaction.get() is not None


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """Every write goes through here: IMMEDIATE on SQLite, a plain transaction on PostgreSQL.

    Nested calls join the outer transaction.
    """
    db = engine()
    if db.current_transaction.get() is not None:
        yield
        return
    if isinstance(db, SQLiteEngine):
        async with _write_lock(), db.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with db.transaction():
            yield


async def prepare_engine() -> None:
    """Per-database settings that must hold before the first write."""
    db = engine()
    if isinstance(db, SQLiteEngine):
        # WAL lets readers work while a write is in progress; it persists in the file.
        await db.run_ddl("PRAGMA journal_mode=WAL")


async def _keep_session(_: Any) -> None:
    """asyncpg rolls back an open transaction on release either way; its default reset adds a
    round trip (RESET ALL, UNLISTEN, advisory unlocks) to every checkout. Pooled connections keep no
    session state here: a feature that needs some (LISTEN, session advisory locks) takes a
    dedicated connection instead."""


class _OneLine(logging.Filter):
    """asyncpg's pool logs a full traceback each time it fails to reconnect while the database is
    down (every few seconds): keep its one line and the reason; the outage is not a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()}: {record.exc_info[1]!r}"
            record.args, record.exc_info, record.exc_text = None, None, None
        return True


async def start_pool(max_size: int) -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        pool_log = logging.getLogger("asyncpg.pool")
        if not any(isinstance(f, _OneLine) for f in pool_log.filters):
            pool_log.addFilter(_OneLine())
        await db.start_connection_pool(min_size=1, max_size=max_size, reset=_keep_session)


async def close_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()
    elif isinstance(db, PooledSQLiteEngine):
        await db.close_all()


_MIGRATION_ID = re.compile(r'^ID = "([^"]+)"', re.MULTILINE)


def _migration_ids(folder: str) -> list[str]:
    """The ids of a folder's migrations, read from their text: importing them (Piccolo's way) put
    3.5 MiB of modules in every worker that answers /readyz and added the folder to sys.path again
    on every call."""
    files = (f for f in Path(folder).glob("*.py") if f.name != "__init__.py")
    found = (_MIGRATION_ID.search(f.read_text()) for f in files)
    return sorted(m.group(1) for m in found if m)


async def pending_migrations() -> list[str]:
    """Migration ids on disk that the database has not run yet."""
    pending: list[str] = []
    if not await Migration.table_exists().run():
        return ["(no migration table)"]
    for app_config in Finder().get_app_configs():
        on_disk = _migration_ids(app_config.resolved_migrations_folder_path)
        ran = set(await Migration.get_migrations_which_ran(app_name=app_config.app_name))
        pending.extend(f"{app_config.app_name}:{mid}" for mid in on_disk if mid not in ran)
    return pending


async def run_migrations() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    await prepare_engine()
    response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migrations failed: {response.message}")
