"""kill -9 a worker in the middle of the load: no partial writes, and every write that a client
retried (with the same Idempotency-Key) after its connection broke lands exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from bench.load import Stats, audit_verify, check_ledger, cli, prepare, serve
from tests.faults.helpers import drive, service_env

pytestmark = pytest.mark.postgres_only


async def test_a_worker_killed_mid_load_loses_nothing_and_doubles_nothing(tmp_path: Path) -> None:
    env = service_env(tmp_path, os.environ["CLINITRACK_DATABASE_URL"])
    seeded = cli(env, "seed", "demo")
    assert seeded.returncode == 0, seeded.stderr
    with serve(env, 2) as service:
        setup = await prepare(service.base, lots=2, quantity=100_000)
        deadline = time.monotonic() + 30
        while len(workers := service.worker_pids()) < 2:
            assert time.monotonic() < deadline, service.log_text()
            await asyncio.sleep(0.2)
        stats = Stats()
        load = asyncio.create_task(drive(service.base, setup, stats, scanners=8, seconds=10))
        await asyncio.sleep(3)
        writes_before_kill = len(stats.acked)
        # The worker that holds the most scanners' connections (the kernel spreads them unevenly).
        victim = max(workers, key=service.clients_of)
        assert service.clients_of(victim) > 0
        os.kill(victim, signal.SIGKILL)
        await load
        # uvicorn's master starts a new worker in place of the dead one.
        while not (len(now := service.worker_pids()) == 2 and victim not in now):
            assert time.monotonic() < deadline + 30, service.log_text()
            await asyncio.sleep(0.2)

    assert writes_before_kill > 0 and len(stats.acked) > writes_before_kill
    assert stats.retries > 0, "no request was cut off: the kill did not happen under load"
    assert not stats.errors, stats.error_samples
    problems = await check_ledger(env["CLINITRACK_DATABASE_URL"], stats)
    assert not problems, problems
    verified = audit_verify(env)
    assert verified.returncode == 0 and verified.stdout.startswith("OK "), verified.stdout + verified.stderr
