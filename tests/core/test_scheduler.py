"""Scheduled jobs: one run per firing slot, and one leader among the workers on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from server.core.tables import JobRun
from server.scheduler import JOBS, Job, Leader, build_scheduler, run_slot, slot_of


def test_slots_are_interval_starts_counted_from_the_epoch() -> None:
    every = timedelta(minutes=15)
    assert slot_of(datetime(2026, 3, 8, 7, 14, 59, tzinfo=UTC), every) == datetime(
        2026, 3, 8, 7, 0, tzinfo=UTC
    )
    assert slot_of(datetime(2026, 3, 8, 7, 15, tzinfo=UTC), every) == datetime(2026, 3, 8, 7, 15, tzinfo=UTC)


def test_every_job_is_scheduled() -> None:
    assert (
        {j.id for j in build_scheduler().get_jobs()}
        == {job.name for job in JOBS}
        >= {
            "housekeeping",
            "vial_sweep",
        }
    )


async def test_a_slot_runs_once_whoever_runs_it() -> None:
    ran: list[datetime] = []

    async def count(now: datetime) -> str:
        ran.append(now)
        return "counted"

    job = Job("count", count, timedelta(minutes=5))
    at = datetime(2026, 11, 29, 10, 1, tzinfo=UTC)
    assert await run_slot(job, at) == "counted"
    assert await run_slot(job, at + timedelta(minutes=3)) is None  # same slot: a second worker, or cron
    assert await run_slot(job, at + timedelta(minutes=4)) == "counted"  # 10:05, the next slot
    assert ran == [at, at + timedelta(minutes=4)]
    assert await JobRun.count() == 2


async def _wait_for(condition, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.postgres_only
async def test_one_worker_leads_and_another_takes_over_when_it_dies() -> None:
    dsn = os.environ["CLINITRACK_DATABASE_URL"]
    fired: list[str] = []

    async def tick(now: datetime) -> str:
        fired.append(slot_of(now, timedelta(seconds=1)).isoformat())
        return "tick"

    def scheduler():  # type: ignore[no-untyped-def]
        return build_scheduler([Job("tick", tick, timedelta(seconds=1))])

    first = Leader(dsn, poll_seconds=0.2, make_scheduler=scheduler)
    second = Leader(dsn, poll_seconds=0.2, make_scheduler=scheduler)
    both: list[bool] = []
    first.start()
    await _wait_for(lambda: first.leading)
    second.start()
    try:
        for _ in range(20):  # 2 s with both running: only the first leads
            both.append(first.leading and second.leading)
            assert not second.leading
            await asyncio.sleep(0.1)
        await _wait_for(lambda: len(fired) >= 1, seconds=5)
        # The leader's process "dies": PostgreSQL ends its session, so the lock is free.
        assert first.connection is not None
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", first.connection.get_server_pid())
        finally:
            await admin.close()
        await _wait_for(lambda: second.leading, seconds=5)
        await _wait_for(lambda: not first.leading, seconds=5)
        before = len(fired)
        await _wait_for(lambda: len(fired) > before + 1, seconds=5)  # the new leader runs the job
        for _ in range(10):
            both.append(first.leading and second.leading)
            await asyncio.sleep(0.1)
    finally:
        await first.stop()
        await second.stop()
    assert not any(both)
    assert len(fired) == len(set(fired))  # no slot ran twice
    assert await JobRun.count() == len(fired)
