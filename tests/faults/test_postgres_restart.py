"""PostgreSQL restarts under the service: /readyz and every request answer a clear 503 while it is
down (not a hang), and the service recovers by itself once it is back; a write retried with the
same key then lands once.

The test runs its own PostgreSQL cluster on a free port (tests/faults/helpers.py): the shared one
on 127.0.0.1:5432 serves other test runs at the same time and is never touched.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest

from bench.load import Stats, audit_verify, check_ledger, cli, prepare, serve
from tests.faults.helpers import assert_problem, private_postgres, service_env, token_client

pytestmark = pytest.mark.postgres_only

RECOVERY_SECONDS = 30


async def test_service_reports_the_outage_and_recovers_by_itself(tmp_path: Path) -> None:
    with private_postgres() as pg:
        url = await pg.create_database("clinitrack_fault")
        env = service_env(tmp_path, url, scheduler=True)  # the scheduler's leader must ride it out too
        for step in (("migrate",), ("seed", "demo")):
            done = cli(env, *step)
            assert done.returncode == 0, done.stderr
        with serve(env, 1) as service:
            setup = await prepare(service.base, lots=1, quantity=1000)
            lot, (fridge, _) = setup.lots[0], setup.places
            use = f"/api/sites/{setup.site}/movements/use"
            body = {"lot_id": lot.lot_id, "location_id": fridge}
            stats = Stats()  # what was acknowledged, for the ledger check at the end
            async with token_client(service.base, setup.token) as c:

                async def write(key: str) -> httpx.Response:
                    resp = await c.post(use, json=body, headers={"Idempotency-Key": key})
                    if resp.status_code == 201:
                        stats.acked[key] = [m["id"] for m in resp.json()["movements"]]
                        stats.actors.update(m["actor"] for m in resp.json()["movements"])
                    return resp

                assert (await write(str(uuid.uuid4()))).status_code == 201

                pg.stop("fast")
                started = time.monotonic()
                ready = await c.get("/readyz")
                assert_problem(ready, 503, "database_unavailable")
                key = str(uuid.uuid4())
                for _ in range(3):  # every pooled connection: the same clear answer
                    assert_problem(await write(key), 503, "database_unavailable")
                    assert_problem(await c.get(f"/api/sites/{setup.site}/stock"), 503, "database_unavailable")
                assert time.monotonic() - started < 15, "requests hung while the database was down"

                pg.start()
                deadline = time.monotonic() + RECOVERY_SECONDS
                while (await c.get("/readyz")).status_code != 200:
                    assert time.monotonic() < deadline, (
                        f"not ready {RECOVERY_SECONDS} s after PostgreSQL came back"
                    )
                    await asyncio.sleep(0.5)
                # Every pooled connection died with the server; none may leak a failure now.
                for _ in range(12):
                    assert (await c.get(f"/api/sites/{setup.site}/stock")).status_code == 200
                first = await write(key)  # the write refused during the outage, retried with its key
                assert first.status_code == 201, first.text
                again = await write(key)
                assert again.status_code == 201 and again.json()["movements"] == first.json()["movements"]
                assert (await write(str(uuid.uuid4()))).status_code == 201
            assert "Traceback" not in service.log_text(), service.log_text()[-4000:]

        problems = await check_ledger(url, stats)
        assert not problems, problems
        assert len(stats.acked) == 3
        verified = audit_verify(env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
