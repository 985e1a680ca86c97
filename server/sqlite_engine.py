"""Piccolo's SQLite engine, with a small pool of persistent connections.

Piccolo opens a new aiosqlite connection (a new thread) and runs `PRAGMA foreign_keys` for every
query outside a transaction and for every transaction; that costs about 3 ms a query here and
caps the service near a tenth of what SQLite itself does (stack-notes §2). Connections are opened
once with the PRAGMAs set and reused; writes are still serialized by server.db's write lock.

An aiosqlite call is a round trip to the connection's thread, which costs more CPU than the indexed
statements of the hot path take to run. So BEGIN, ROLLBACK and server/sql.py's statements run in the
event loop's thread, on the same sqlite3 connection, whenever that cannot wait on a lock: reads
(WAL readers never wait on the writer), and anything inside this process's IMMEDIATE transaction
(the write lock is already held). BEGIN IMMEDIATE is tried without a busy timeout and goes to the
thread when another connection holds the lock, so the loop never sleeps in SQLite's busy handler.
COMMIT after a write stays in the thread: it waits for fsync. A statement that once took more CPU
than SLOW_SECONDS goes to the thread from then on, so a long report does not stall other requests.
Piccolo's query builder keeps the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

POOL_SIZE = 4
SLOW_SECONDS = 0.02


def _is_read(query: str) -> bool:
    return query.lstrip()[:6].upper() == "SELECT"


def _run_here(connection: aiosqlite.Connection, query: str, args: Sequence[Any] = ()) -> list[Any]:
    """The statement on the connection's sqlite3 object, in this thread (opened with
    check_same_thread=False; its own thread is idle: the connection has one user at a time)."""
    cursor = connection._conn.execute(query, args)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


async def _run_in_thread(connection: aiosqlite.Connection, query: str) -> None:
    # The cursor is closed: aiosqlite's thread keeps its last result alive until its next call,
    # and an unfinished statement keeps its lock (a later BEGIN IMMEDIATE elsewhere gets SQLITE_BUSY).
    async with connection.execute(query) as cursor:
        await cursor.fetchall()


def _ran_unless_busy(connection: aiosqlite.Connection, query: str, busy_ms: int) -> bool:
    """The statement here if no other connection holds the write lock; False if one does."""
    raw = connection._conn
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        raw.execute(query)
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
            raise
        return False
    finally:
        raw.execute(f"PRAGMA busy_timeout = {busy_ms}")
    return True


class PooledSQLiteTransaction(SQLiteTransaction):
    __slots__ = ("_changes_at_begin",)

    async def get_connection(self) -> aiosqlite.Connection:
        engine = self.engine
        assert isinstance(engine, PooledSQLiteEngine)  # noqa: S101
        return await engine.acquire()

    async def begin(self) -> None:
        engine = self.engine
        assert isinstance(engine, PooledSQLiteEngine)  # noqa: S101
        self._changes_at_begin = self.connection._conn.total_changes
        try:
            if self.transaction_type == TransactionType.deferred:  # takes no lock yet: cannot wait
                _run_here(self.connection, "BEGIN DEFERRED")
            else:
                begin = f"BEGIN {self.transaction_type.value}"
                if not _ran_unless_busy(self.connection, begin, engine.busy_ms):
                    # Another connection writes (another process, or one of ours outside the write
                    # lock): wait in a thread, on a fresh connection: the refused BEGIN can leave
                    # this one holding a stale read snapshot (SQLITE_BUSY_SNAPSHOT on retry).
                    await engine.discard(self.connection)
                    self.connection = await engine.acquire()
                    self._changes_at_begin = self.connection._conn.total_changes
                    await _run_in_thread(self.connection, begin)
        except BaseException:
            # BEGIN IMMEDIATE fails on a read-only file; __aexit__ never runs after a failed
            # __aenter__, so the connection (and its non-daemon thread) would leak here.
            await engine.discard(self.connection)
            await engine.close_all()
            raise

    async def commit(self) -> None:
        # After a write, in the thread: with synchronous=FULL the commit waits for fsync, which takes
        # longer than the rest of the transaction; the loop serves other requests meanwhile.
        if self.connection._conn.total_changes == self._changes_at_begin:
            _run_here(self.connection, "COMMIT")  # nothing written: no fsync to wait for
        else:
            await _run_in_thread(self.connection, "COMMIT")
        self._committed = True

    async def rollback(self) -> None:
        _run_here(self.connection, "ROLLBACK")  # releases locks; never waits for one
        self._rolled_back = True

    def runs_here(self, query: str) -> bool:
        """Whether a statement can run in the loop's thread without waiting on a lock."""
        return self.transaction_type == TransactionType.immediate or _is_read(query)

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
    __slots__ = ("_closing", "_idle", "_opened", "_slow", "busy_ms")

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._idle: list[aiosqlite.Connection] = []
        self._closing: set[asyncio.Future[None]] = set()
        self._opened = 0
        self._slow: set[str] = set()
        self.busy_ms = int(float(self.connection_kwargs.get("timeout", 5.0)) * 1000)

    async def _open(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs, check_same_thread=False)
        try:
            connection.row_factory = dict_factory  # type: ignore[assignment]
            await _run_in_thread(connection, "PRAGMA foreign_keys = 1")
            await _run_in_thread(connection, "PRAGMA journal_mode = WAL")
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

    async def fetch(self, query: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        """A compiled statement (`?` placeholders), in the loop's thread when it cannot wait on a
        lock and has been quick so far; else through aiosqlite's thread as Piccolo would."""
        transaction = self.current_transaction.get()
        here = query not in self._slow
        if transaction is not None:
            assert isinstance(transaction, PooledSQLiteTransaction)  # noqa: S101
            if here and transaction.runs_here(query):
                return self._timed(transaction.connection, query, args)
            rows: list[dict[str, Any]] = await self._run_in_existing_connection(
                transaction.connection, query, list(args)
            )
            return rows
        if not (here and _is_read(query)):
            return await self._run_in_new_connection(query, list(args))  # type: ignore[no-any-return]
        connection = await self.acquire()
        try:
            rows = self._timed(connection, query, args)
        except BaseException:
            await self.discard(connection)
            raise
        self.release(connection)
        return rows

    def runs_in_thread(self, query: str) -> bool:
        """Whether a statement was found slow: it no longer runs in the loop's thread."""
        return query in self._slow

    def _timed(self, connection: aiosqlite.Connection, query: str, args: Sequence[Any]) -> list[Any]:
        # CPU time of this thread: a statement preempted on a busy machine is not a slow one.
        started = time.thread_time()
        rows = _run_here(connection, query, args)
        if time.thread_time() - started > SLOW_SECONDS:
            self._slow.add(query)
        return rows

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> PooledSQLiteTransaction:
        return PooledSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )
