"""The service layer of one scan+use pair, called in-process without HTTP (for bench/stock_scan.py).

Run by stock_scan.py in a subprocess with the service's environment, so Piccolo binds to the same
database: `python bench/stock_service.py TOKEN SITE CLIENTS SECONDS`. Per pair, as the two
endpoints do minus Litestar, the network and JSON: the token check, the scan's resolution, the
token check again, then the use under its idempotency key (exactly-once record, ledger, audit).
Prints one JSON line: pairs per second and latencies. One process, one event loop, like one worker.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid

from server.clock import utcnow
from server.config import Settings
from server.core.auth import Principal, resolve_token
from server.core.exactly_once import fingerprint, run_once
from server.db import close_pool, start_pool
from server.scans.service import resolve
from server.stock import ledger
from server.stock.schemas import MovementResult, UseIn

GTIN, LOT = "02700000000014", "FLU-A24"  # as stock_scan.py


async def pair(token: str, site: int, secret: str) -> None:
    principal = await _principal(token, secret)
    answer = await resolve(site, f"01{GTIN}17{'301231'}10{LOT}", today=utcnow().date())
    assert answer.entity is not None  # noqa: S101
    principal = await _principal(token, secret)
    data = UseIn(lot_id=answer.entity["id"], location_id=answer.levels[0]["location_id"])
    path = f"/api/sites/{site}/movements/use"
    body = {"lot_id": data.lot_id, "location_id": data.location_id}
    print_ = fingerprint(secret_key=secret, actor=principal.actor, method="POST", path=path, body=body)
    now = utcnow()
    await run_once(
        uuid.uuid4(),
        actor=principal.actor,
        print_=print_,
        result_type=MovementResult,
        now=now,
        write=lambda: ledger.use(principal, site, data, now=now),
    )


async def _principal(token: str, secret: str) -> Principal:
    principal = await resolve_token(token, secret_key=secret, now=utcnow())
    assert principal is not None  # noqa: S101
    return principal


async def main(token: str, site: int, clients: int, seconds: float) -> None:
    settings = Settings.from_env()
    await start_pool(settings.pool_size)
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            await pair(token, site, settings.secret_key)
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    try:
        await asyncio.gather(*(client() for _ in range(clients)))
    finally:
        await close_pool()
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]
    print(
        json.dumps(
            {
                "per_s": len(latencies) / elapsed,
                "p50_ms": statistics.median(ordered) * 1000,
                "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
                "max_ms": ordered[-1] * 1000,
                "errors": 0,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])))
