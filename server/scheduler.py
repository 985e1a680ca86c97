"""Scheduled jobs (APScheduler 3.x) that run exactly once per firing slot, with any number of workers.

- On SQLite there is one process: its scheduler runs the jobs.
- On PostgreSQL every worker runs a `Leader`: it polls a session-level advisory lock on its own
  dedicated connection (a pooled connection would hand the lock to whichever request got it next).
  The holder runs the scheduler and checks the connection each poll; when the connection or the
  process dies, PostgreSQL frees the lock and another worker takes over within a poll or two.
  Measured in `../shared/stack-notes.md` §1: a follower took over within 1 s of a SIGKILL.
- Whoever runs a job first claims its slot in `job_run` (unique key), inside the job's own
  transaction when the job writes; a second run of the same slot, by a worker that briefly thought
  it led, or by `clinitrack jobs run-once` from cron, finds the slot taken and does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from server import sql
from server.clock import utcnow
from server.core.auth import purge_expired

log = logging.getLogger("clinitrack.scheduler")

LEADER_LOCK = 727_001  # the advisory lock key the workers compete for


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[datetime], Awaitable[str]]  # given the slot's time, says what it did
    every: timedelta
    quiet: bool = False  # runs every minute or so: its report is logged at debug level


async def housekeeping(now: datetime) -> str:
    removed = await purge_expired(now)
    return f"removed {removed} expired sessions"


async def vial_sweep(now: datetime) -> str:
    from server.stock.vials import waste_past_beyond_use

    wasted = await waste_past_beyond_use(now)
    return f"{wasted} opened vials past their beyond-use time wasted"


async def alert_sweep(now: datetime) -> str:
    from server.alerts.sweep import sweep_changes

    outcomes = await sweep_changes(now)
    return ", ".join(f"{o.rule} {o.open} open/{o.resolved} cleared" for o in outcomes)


async def alert_delivery(now: datetime) -> str:
    from server.alerts.channels import MailSettings
    from server.alerts.delivery import deliver

    outcome = await deliver(now, MailSettings.from_env())
    return f"{outcome.planned} planned, {outcome.sent} sent, {outcome.failed} given up, {outcome.held} held"


JOBS = [
    Job("housekeeping", housekeeping, timedelta(minutes=15)),
    Job("vial_sweep", vial_sweep, timedelta(minutes=5)),
    Job("alert_sweep", alert_sweep, timedelta(minutes=5), quiet=True),
    Job("alert_delivery", alert_delivery, timedelta(minutes=1), quiet=True),
]


def slot_of(at: datetime, every: timedelta) -> datetime:
    """The firing slot a moment belongs to: the start of its interval, counted from the epoch."""
    step = int(every.total_seconds())
    seconds = int(at.astimezone(UTC).timestamp())
    return datetime.fromtimestamp(seconds - seconds % step, UTC)


async def claim_slot(job: str, slot: datetime, now: datetime) -> bool:
    rows = await sql.fetch(
        "INSERT INTO job_run (key, job, slot, ran_at) VALUES ({}, {}, {}, {}) "
        "ON CONFLICT (key) DO NOTHING RETURNING id",
        f"{job}@{slot.isoformat()}",
        job,
        slot,
        now,
    )
    return bool(rows)


async def run_slot(job: Job, now: datetime | None = None) -> str | None:
    """Run ``job`` for the slot ``now`` falls in, unless that slot already ran. Returns what it did,
    or None when the slot was taken."""
    now = now or utcnow()
    slot = slot_of(now, job.every)
    if not await claim_slot(job.name, slot, now):
        log.info("%s: slot %s already ran", job.name, slot.isoformat())
        return None
    # The claim is its own statement: a job that fails halfway keeps the claim, so a failing sweep
    # is not retried in a loop within its slot; the next slot runs it again.
    done = await job.run(now)
    log.log(logging.DEBUG if job.quiet else logging.INFO, "%s (%s): %s", job.name, slot.isoformat(), done)
    return done


# APScheduler reports every run at info level ("Running job ... executed successfully"): our own
# line per slot says what the job did, so its chatter is kept to warnings.
logging.getLogger("apscheduler").setLevel(logging.WARNING)


def build_scheduler(jobs: list[Job] | None = None) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    for job in jobs if jobs is not None else JOBS:
        scheduler.add_job(
            run_slot,
            "interval",
            args=[job],
            seconds=int(job.every.total_seconds()),
            id=job.name,
            name=job.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(job.every.total_seconds()),
        )
    return scheduler


class Leader:
    """Runs the scheduler in the one worker that holds the advisory lock (PostgreSQL)."""

    def __init__(
        self,
        dsn: str,
        *,
        poll_seconds: float = 5.0,
        make_scheduler: Callable[[], AsyncIOScheduler] = build_scheduler,
    ) -> None:
        self.dsn = dsn
        self.poll_seconds = poll_seconds
        self.make_scheduler = make_scheduler
        self.scheduler: AsyncIOScheduler | None = None
        self.connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        return self.scheduler is not None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="clinitrack-leader")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._step_down()
        await self._close()

    async def _loop(self) -> None:
        while True:
            try:
                await self._poll()
            except Exception as exc:  # never let the election die: step down and try again
                if self.leading:
                    log.warning("scheduler: lost the leader's connection (%s); stepping down", exc)
                self._step_down()
                await self._close()
            await asyncio.sleep(self.poll_seconds)

    async def _poll(self) -> None:
        if self.leading:
            # The lock lives and dies with this session: a new connection would not hold it.
            if self.connection is None or self.connection.is_closed():
                raise ConnectionError("the connection that holds the lock is closed")
            await self.connection.fetchval("SELECT 1", timeout=10)
            return
        if self.connection is None or self.connection.is_closed():
            # Keepalives: after a network partition PostgreSQL frees the lock only once it sees
            # the session is dead.
            self.connection = await asyncpg.connect(
                self.dsn,
                timeout=10,
                server_settings={
                    # The pid lets an operator (and a test) see which worker leads.
                    "application_name": f"clinitrack-scheduler:{os.getpid()}",
                    "tcp_keepalives_idle": "10",
                    "tcp_keepalives_interval": "5",
                    "tcp_keepalives_count": "3",
                },
            )
        if await self.connection.fetchval("SELECT pg_try_advisory_lock($1)", LEADER_LOCK, timeout=10):
            self.scheduler = self.make_scheduler()
            self.scheduler.start()
            log.info("scheduler: this worker now runs the scheduled jobs")

    def _step_down(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None

    async def _close(self) -> None:
        if self.connection is not None:
            connection, self.connection = self.connection, None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.close(), timeout=5)
            if not connection.is_closed():
                connection.terminate()
