"""The pooled SQLite engine runs short statements in the event loop's thread: it must never leave a
lock behind, never sleep in SQLite's busy handler on the loop, and leave no thread at the end.

These use their own SQLite file, whatever engine the suite runs on.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from piccolo.engine.sqlite import TransactionType

from server.sqlite_engine import PooledSQLiteEngine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[PooledSQLiteEngine]:
    threads = threading.active_count()
    db = PooledSQLiteEngine(path=str(tmp_path / "t.sqlite3"), timeout=5)
    await db.run_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)")
    yield db
    await db.close_all()
    for _ in range(50):  # closing lets each connection's thread end
        if threading.active_count() <= threads:
            break
        await asyncio.sleep(0.01)
    assert threading.active_count() <= threads


def other_connection(db: PooledSQLiteEngine) -> sqlite3.Connection:
    return sqlite3.connect(db.path, isolation_level=None, timeout=0)


async def test_statements_here_leave_no_lock_for_another_writer(engine: PooledSQLiteEngine) -> None:
    async with engine.transaction(transaction_type=TransactionType.immediate):
        await engine.fetch("INSERT INTO t (n) VALUES (?)", [1])
    assert await engine.fetch("SELECT n FROM t", []) == [{"n": 1}]
    other = other_connection(engine)
    other.execute("BEGIN IMMEDIATE")  # timeout 0: fails at once if anything of ours held on
    other.execute("INSERT INTO t (n) VALUES (2)")
    other.execute("COMMIT")
    other.close()
    assert await engine.fetch("SELECT SUM(n) AS s FROM t", []) == [{"s": 3}]


async def test_a_write_waits_for_another_process_without_stalling_the_loop(
    engine: PooledSQLiteEngine,
) -> None:
    other = other_connection(engine)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t (n) VALUES (10)")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> None:
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await engine.fetch("INSERT INTO t (n) VALUES (?)", [1])

    ticking = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done()  # waiting for the other writer's lock...
    assert ticks >= 10  # ...in a thread: the loop kept running
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(writing, 5)
    ticking.cancel()
    assert await engine.fetch("SELECT n FROM t ORDER BY n", []) == [{"n": 1}, {"n": 10}]


async def test_a_failed_write_rolls_back_and_the_connection_is_reused_cleanly(
    engine: PooledSQLiteEngine,
) -> None:
    with pytest.raises(RuntimeError):
        async with engine.transaction(transaction_type=TransactionType.immediate):
            await engine.fetch("INSERT INTO t (n) VALUES (?)", [1])
            raise RuntimeError("refused")
    assert await engine.fetch("SELECT COUNT(*) AS c FROM t", []) == [{"c": 0}]
    other = other_connection(engine)
    other.execute("BEGIN IMMEDIATE")
    other.execute("ROLLBACK")
    other.close()


async def test_a_statement_that_took_long_runs_in_the_thread_from_then_on(engine: PooledSQLiteEngine) -> None:
    quick = "SELECT COUNT(*) AS n FROM t"
    slow = (
        "SELECT (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) "
        "SELECT COUNT(*) FROM c) AS n"
    )
    assert await engine.fetch(quick, []) == [{"n": 0}]
    assert await engine.fetch(slow, []) == [{"n": 2000000}]
    assert engine.runs_in_thread(slow)
    assert not engine.runs_in_thread(quick)
    assert await engine.fetch(slow, []) == [{"n": 2000000}]  # the same answer, from the thread
