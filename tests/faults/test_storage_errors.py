"""Which database faults become which clear answer (server.errors.storage_fault), from errors the
real drivers raise."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import asyncpg
import pytest

from server.errors import storage_fault
from tests.faults.helpers import free_port


def sqlite_error(db: Path, *setup: str, statement: str) -> sqlite3.Error:
    conn = sqlite3.connect(db)
    try:
        for sql in setup:
            conn.execute(sql)
        with pytest.raises(sqlite3.Error) as caught:
            conn.execute(statement)
            conn.commit()
    finally:
        conn.close()
    return caught.value


def test_a_full_sqlite_file_is_507_storage_full(tmp_path: Path) -> None:
    db = tmp_path / "full.sqlite3"
    # The file may not grow past its current pages: SQLite answers SQLITE_FULL, as on a full disk.
    error = sqlite_error(
        db,
        "CREATE TABLE t (x TEXT)",
        "PRAGMA max_page_count = 2",
        statement="INSERT INTO t SELECT hex(randomblob(3000)) FROM (SELECT 1 UNION SELECT 2 UNION SELECT 3)",
    )
    fault = storage_fault(error)
    assert fault is not None and (fault.status, fault.code) == (507, "storage_full")
    assert "disk is full" in fault.detail


def test_a_read_only_sqlite_file_is_503_database_read_only(tmp_path: Path) -> None:
    db = tmp_path / "ro.sqlite3"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.close()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.execute("INSERT INTO t VALUES (1)")
    conn.close()
    fault = storage_fault(caught.value)
    assert fault is not None and (fault.status, fault.code) == (503, "database_read_only")


def test_postgres_refusing_connections_is_503_database_unavailable() -> None:
    async def connect() -> BaseException:
        try:
            await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{free_port()}/postgres", timeout=5)
        except Exception as exc:
            return exc
        raise AssertionError("connected to a port nothing listens on")

    fault = storage_fault(asyncio.run(connect()))
    assert fault is not None and (fault.status, fault.code) == (503, "database_unavailable")


def test_a_bug_stays_a_bug() -> None:
    assert storage_fault(ValueError("not a database fault")) is None
    assert storage_fault(sqlite3.IntegrityError("UNIQUE constraint failed: t.x")) is None
    assert storage_fault(ConnectionRefusedError("not from the database driver")) is None
