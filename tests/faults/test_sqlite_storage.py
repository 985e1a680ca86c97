"""The SQLite file turns read-only, or the disk fills up: every write answers a clear problem (503
database_read_only, 507 storage_full) and the CLI one plain line; nothing is half-written, and the
same write lands once after the cause is fixed.

These run as root on CI, and root ignores file modes: the service and the CLI then run without
the capabilities that let root write a file it may not (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH;
dropped from the bounding set before exec), so a 0444 file is read-only to them as to any
account. A full disk is the kernel's file size limit
(RLIMIT_FSIZE, which root cannot lift without CAP_SYS_RESOURCE) on the service process: SQLite's
write fails part-way as on a full disk, but with EFBIG rather than ENOSPC, so SQLite reports an I/O
error (503 storage_error) rather than SQLITE_FULL (507 storage_full; test_storage_errors.py).
"""

from __future__ import annotations

import ctypes
import os
import resource
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.load import Setup, Stats, audit_verify, check_ledger, cli, prepare, serve
from tests.faults.helpers import assert_problem, service_env, token_client

pytestmark = pytest.mark.sqlite_only

PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2


def _file_modes_apply() -> None:
    """In the child before exec: root keeps its uid but loses the power to ignore file modes."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


ROOT_RUNS_AS: dict[str, Any] = {"preexec_fn": _file_modes_apply} if os.geteuid() == 0 else {}


@pytest.fixture
def var_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="clinitrack-fault-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {
            t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("movement", "stock_level", "audit_event", "client_write", "app_user")
        }


async def use(c: httpx.AsyncClient, setup: Setup, stats: Stats, key: str) -> httpx.Response:
    lot, (fridge, _) = setup.lots[0], setup.places
    resp = await c.post(
        f"/api/sites/{setup.site}/movements/use",
        json={"lot_id": lot.lot_id, "location_id": fridge},
        headers={"Idempotency-Key": key},
    )
    if resp.status_code == 201:
        stats.acked[key] = [m["id"] for m in resp.json()["movements"]]
        stats.actors.update(m["actor"] for m in resp.json()["movements"])
    return resp


async def prepared(env: dict[str, str], stats: Stats) -> Setup:
    for step in (("migrate",), ("seed", "demo")):
        done = cli(env, *step, **ROOT_RUNS_AS)
        assert done.returncode == 0, done.stderr
    with serve(env, 1, **ROOT_RUNS_AS) as service:
        setup = await prepare(service.base, lots=1, quantity=5000)
        async with token_client(service.base, setup.token) as c:
            assert (await use(c, setup, stats, str(uuid.uuid4()))).status_code == 201
    return setup


def createuser(env: dict[str, str], **popen: Any) -> str:
    """The CLI's answer to a write it cannot make: exit 1 and one plain line."""
    done = cli(env, "createuser", "newcomer", "--password-stdin", input="a-long-password-1\n", **popen)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    return lines[0]


async def consistent(env: dict[str, str], db: Path, stats: Stats) -> None:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    problems = await check_ledger(str(db), stats)
    assert not problems, problems
    verified = audit_verify(env)
    assert verified.returncode == 0, verified.stdout + verified.stderr


async def test_read_only_database_file(var_dir: Path) -> None:
    env = service_env(var_dir, None)
    db = var_dir / "clinitrack.sqlite3"
    stats = Stats()
    setup = await prepared(env, stats)
    before = counts(db)
    db.chmod(0o444)

    key = str(uuid.uuid4())
    with serve(env, 1, **ROOT_RUNS_AS) as service:
        async with token_client(service.base, setup.token) as c:
            for _ in range(2):  # and again: the same clear answer, nothing written in between
                assert_problem(await use(c, setup, stats, key), 503, "database_read_only")
            assert (await c.get(f"/api/sites/{setup.site}/stock")).status_code == 200  # reads still work
            assert "read-only" in createuser(env, **ROOT_RUNS_AS)
            assert counts(db) == before  # (the full checks run at the end: as root, they would
            # remove the -wal and -shm files when they close the database last)

            # SQLite gave the -wal and -shm files it made the database file's mode: the fix is all
            # three. The running service then writes again, without a restart.
            assert oct((var_dir / "clinitrack.sqlite3-wal").stat().st_mode & 0o777) == "0o444"
            for path in (db, var_dir / "clinitrack.sqlite3-wal", var_dir / "clinitrack.sqlite3-shm"):
                path.chmod(0o644)
            # A connection opened while the file was read-only fails once and is dropped with
            # every idle one; the client's retry (the web outbox resends any 5xx) then lands.
            answers = [(await use(c, setup, stats, key)).status_code for _ in range(2)]
            assert answers in ([201, 201], [503, 201]), answers
            assert (await use(c, setup, stats, key)).status_code == 201  # once: a replay
        assert "Traceback" not in service.log_text(), service.log_text()[-3000:]
    assert counts(db)["movement"] == before["movement"] + 1
    await consistent(env, db, stats)


async def test_disk_full(var_dir: Path) -> None:
    env = service_env(var_dir, None)
    db = var_dir / "clinitrack.sqlite3"
    stats = Stats()
    setup = await prepared(env, stats)
    assert not (var_dir / "clinitrack.sqlite3-wal").exists()  # checkpointed at shutdown
    limit = db.stat().st_size  # the write-ahead log can grow to this, then the "disk" is full

    def full_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    failed = None
    with serve(env, 1, preexec_fn=full_disk) as service:
        async with token_client(service.base, setup.token) as c:
            for _ in range(5000):
                resp = await use(c, setup, stats, key := str(uuid.uuid4()))
                if resp.status_code != 201:
                    failed = key
                    assert_problem(resp, 503, "storage_error")
                    break
            assert failed is not None, "the disk never filled up"
            assert len(stats.acked) > 2
            assert_problem(await use(c, setup, stats, failed), 503, "storage_error")
            assert (await c.get(f"/api/sites/{setup.site}/stock")).status_code == 200
        assert "Traceback" not in service.log_text(), service.log_text()[-3000:]

    def no_space_at_all() -> None:  # the service's shutdown may have reset the log to its start
        resource.setrlimit(resource.RLIMIT_FSIZE, (1, 1))

    assert "could not write to its disk" in createuser(env, preexec_fn=no_space_at_all)
    await consistent(env, db, stats)
    acked = counts(db)["movement"]

    with serve(env, 1, **ROOT_RUNS_AS) as service:  # space freed
        async with token_client(service.base, setup.token) as c:
            assert (await use(c, setup, stats, failed)).status_code == 201
            assert (await use(c, setup, stats, failed)).status_code == 201
    assert counts(db)["movement"] == acked + 1
    await consistent(env, db, stats)
