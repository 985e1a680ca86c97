"""Piccolo's SQLite engine, with a small pool of persistent connections.

Piccolo opens a new aiosqlite connection (a new thread) and runs `PRAGMA foreign_keys` for every
query outside a transaction and for every transaction; that costs about 3 ms a query here and
caps the service near a tenth of what SQLite itself does (stack-notes §2). Connections are opened
once with the PRAGMAs set and reused; writes are still serialized by server.db's write lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

POOL_SIZE = 4


class PooledSQLiteTransaction(SQLiteTransaction):
    __slots__ = ()

    async def get_connection(self) -> aiosqlite.Connection:
        engine = self.engine
        assert isinstance(engine, PooledSQLiteEngine)  # noqa: S101
        return await engine.acquire()

    async def begin(self) -> None:
        try:
            await self.connection.execute(f"BEGIN {self.transaction_type.value}")
        except BaseException:
            # BEGIN IMMEDIATE fails on a read-only file; __aexit__ never runs after a failed
            # __aenter__, so the connection (and its non-daemon thread) would leak here.
            engine = self.engine
            assert isinstance(engine, PooledSQLiteEngine)  # noqa: S101
            await engine.discard(self.connection)
            await engine.close_all()
            raise

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        engine = self.engine
        assert isinstance(engine, PooledSQLiteEngine)  # noqa: S101
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
        except BaseException:
            # A connection in an unknown state is not reused.
            await engine.discard(self.connection)
            self.engine.current_transaction.reset(self.context)
            raise
        if isinstance(exception, sqlite3.Error):
            # A storage fault (read-only file, full disk): connections opened before it was fixed
            # would keep failing (a read-only file is opened read-only), so start afresh.
            await engine.discard(self.connection)
            await engine.close_all()
        else:
            engine.release(self.connection)
        self.engine.current_transaction.reset(self.context)
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    __slots__ = ("_closing", "_idle", "_opened")

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._idle: list[aiosqlite.Connection] = []
        self._closing: set[asyncio.Future[None]] = set()
        self._opened = 0

    async def _open(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        try:
            connection.row_factory = dict_factory  # type: ignore[assignment]
            await connection.execute("PRAGMA foreign_keys = 1")
            await connection.execute("PRAGMA journal_mode = WAL")
        except BaseException:
            # Its thread is not a daemon: left open, it keeps the process from exiting (a full
            # disk made `clinitrack createuser` print its error and then hang).
            await self.discard(connection)
            raise
        self._opened += 1
        return connection

    async def acquire(self) -> aiosqlite.Connection:
        if self._idle:
            return self._idle.pop()
        return await self._open()

    def release(self, connection: aiosqlite.Connection) -> None:
        if len(self._idle) < POOL_SIZE and connection.in_transaction is False:
            self._idle.append(connection)
        else:
            self._closing.add(task := asyncio.ensure_future(connection.close()))
            task.add_done_callback(self._closing.discard)

    async def discard(self, connection: aiosqlite.Connection) -> None:
        with contextlib.suppress(Exception):  # already broken; nothing else to do
            await connection.close()

    async def close_all(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await self.discard(connection)

    async def get_connection(self) -> aiosqlite.Connection:
        return await self.acquire()

    async def _run_in_new_connection(  # Piccolo's signature; RETURNING makes the last two unneeded
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None  # noqa: ARG002
    ) -> Any:
        connection = await self.acquire()
        try:
            async with connection.execute(query, args or []) as cursor:
                rows = await cursor.fetchall()
            await connection.commit()
        except BaseException:
            await self.discard(connection)
            raise
        self.release(connection)
        return rows

    async def _run_in_existing_connection(
        self, connection: Any, query: str, args: list[Any] | None = None,
        query_type: str = "generic", table: Any = None,  # noqa: ARG002  (Piccolo's signature)
    ) -> Any:
        # The PRAGMAs were set when the connection was opened.
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> PooledSQLiteTransaction:
        return PooledSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )
