"""In-process job scheduler (APScheduler 3.x), started in the app's lifespan when enabled.

Jobs must be idempotent: with several workers each runs its own scheduler until
the Alerts issue adds PostgreSQL leader election.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from server.clock import utcnow
from server.core.auth import purge_expired

log = logging.getLogger("clinitrack.scheduler")


async def housekeeping() -> None:
    removed = await purge_expired(utcnow())
    log.info("housekeeping: removed %d expired sessions", removed)


async def vial_sweep() -> None:
    from server.stock.vials import waste_past_beyond_use

    wasted = await waste_past_beyond_use(utcnow())
    if wasted:
        log.info("vials: %d opened vials reached their beyond-use time and were wasted", wasted)


def build_scheduler() -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        housekeeping,
        "interval",
        minutes=15,
        id="housekeeping",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=300,
    )
    return scheduler
