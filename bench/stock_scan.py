"""Benchmark: "resolve a GS1 scan + use 1 unit" over HTTP, next to the raw database ceiling.

Run: `make bench-stock` (or `.venv/bin/python bench/stock_scan.py [--seconds 10] [--engines sqlite,postgres]`).
It starts its own service (SQLite: 1 worker; PostgreSQL: 4 workers on a throwaway database), loads
the demo clinic, and for 1, 10 and 50 concurrent clients runs scan+use pairs for a fixed time. The
ceiling is the same statements the endpoint's transaction runs, issued in a loop with the bare
driver (sqlite3; asyncpg). Between the two, the service layer alone: the same pair's functions
called in-process without HTTP (bench/stock_service.py, one process). Prints a table with the
machine's details and load average. Not a test: nothing asserted.
The load comes from bench/http1.py, a bare keep-alive client, so that the client's own CPU does not
cap the figures on a 2-core machine (httpx did, at 50 clients).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
from http1 import Connection

ROOT = Path(__file__).resolve().parents[1]
GTIN = "02700000000014"  # the demo influenza vaccine (made-up GTIN)
LOT = "FLU-A24"
PG_ADMIN = os.environ.get("CLINITRACK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "server", *args], env=env, check=True, capture_output=True, cwd=ROOT
    )


@contextmanager
def service(env: dict[str, str], workers: int) -> Iterator[tuple[str, int]]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server",
            "serve",
            "--no-migrate",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env={**env, "CLINITRACK_LOG_LEVEL": "warning", "CLINITRACK_SCHEDULER": "off"},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


async def prepare(base: str) -> tuple[str, int, int, int]:
    """An assistant API token, the site, the demo lot and the fridge, with plenty of stock."""
    async with httpx.AsyncClient(base_url=base) as c:
        me = (
            await c.post("/api/auth/login", json={"username": "admin", "password": "demo-admin-123"})
        ).json()
        h = {"X-CSRF-Token": me["csrf_token"]}
        site = me["memberships"][0]["site_id"]
        token = (
            await c.post(
                f"/api/sites/{site}/tokens",
                json={"name": "bench", "role": "assistant"},
                headers={**h, "Idempotency-Key": str(uuid.uuid4())},
            )
        ).json()["token"]
        scan = (await c.post(f"/api/sites/{site}/scans", json={"raw": f"01{GTIN}10{LOT}"}, headers=h)).json()
        lot_id, fridge = scan["entity"]["id"], scan["levels"][0]["location_id"]
        await c.post(
            f"/api/sites/{site}/movements/receive",
            headers={**h, "Idempotency-Key": str(uuid.uuid4())},
            json={
                "item_id": scan["item"]["id"],
                "lot_number": LOT,
                "expiry": scan["entity"]["expiry"],
                "quantity": 1_000_000,
                "location_id": fridge,
            },
        )
    return token, site, lot_id, fridge


async def http_run(base: str, token: str, site: int, clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    host, port = base.removeprefix("http://").split(":")

    async def worker() -> None:
        nonlocal errors
        async with Connection(host, int(port), {"Authorization": f"Bearer {token}"}) as c:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                status, answer = await c.post(
                    f"/api/sites/{site}/scans", {"raw": f"01{GTIN}17{'301231'}10{LOT}"}
                )
                if status != 200:
                    errors += 1
                    continue
                status, _ = await c.post(
                    f"/api/sites/{site}/movements/use",
                    {"lot_id": answer["entity"]["id"], "location_id": answer["levels"][0]["location_id"]},
                    {"Idempotency-Key": str(uuid.uuid4())},
                )
                if status != 201:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {**summarize(latencies, errors, elapsed), "elapsed": elapsed}


def cpu_seconds(pid: int) -> float:
    """CPU time of the service and its workers so far: a figure the machine's load barely moves."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    except (OSError, IndexError):
        pass  # not Linux, or the worker just exited
    return total


def summarize(latencies: list[float], errors: int, elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies) or [0.0]
    return {
        "per_s": len(latencies) / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "max_ms": ordered[-1] * 1000,
        "errors": errors,
    }


# The statements of one scan+use, as the endpoints run them: the credential check of each request,
# the scan's lookups, then the use's transaction. Kept in step with server/sql.py's callers.
AUTH = (
    "SELECT t.id, t.site, t.role, t.expires_at, t.revoked_at, t.name, s.active, u.active "
    "FROM api_token t JOIN site s ON s.id = t.site JOIN app_user u ON u.id = t.created_by "
    "WHERE t.token_hash = 'x'"
)
READS = [
    "SELECT i.*, c.pack_qty FROM item_code c JOIN item i ON i.id = c.item WHERE c.site = {s} AND c.code = '{gtin}'",
    "SELECT * FROM lot WHERE item = {item} AND lot_number = '{lot}'",
    "SELECT sl.location, loc.name, sl.on_hand FROM stock_level sl JOIN location loc ON loc.id = sl.location "
    "WHERE sl.lot = {lot_id} AND sl.on_hand > 0 ORDER BY loc.name",
    "SELECT sl.lot, sl.location, sl.on_hand, l.lot_number, l.expiry, l.status FROM stock_level sl "
    "JOIN lot l ON l.id = sl.lot WHERE l.item = {item} AND sl.on_hand > 0",
]
LOT_AT = (
    "SELECT l.*, (SELECT COUNT(*) FROM location WHERE site = {s} AND id IN ({loc}, {loc})) "
    "FROM lot l WHERE l.id = {lot_id} AND l.site = {s}"
)
EVENT = (
    "INSERT INTO audit_event (chain, seq, at, actor, site_id, action, entity, entity_id, payload, "
    "prev_hash, hash) VALUES ('bench', {seq}, '2026-01-01', 'bench', {s}, 'x', 'lot', '1', '{{}}', 'x', 'y')"
)


def sqlite_ceiling(path: Path, site: int, lot_id: int, fridge: int, seconds: float) -> dict[str, float]:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    item = conn.execute("SELECT item FROM lot WHERE id = ?", (lot_id,)).fetchone()[0]
    f = {"s": site, "gtin": GTIN, "item": item, "lot": LOT, "lot_id": lot_id, "loc": fridge}
    latencies = []
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        conn.execute(AUTH).fetchall()
        for sql in READS:
            conn.execute(sql.format(**f)).fetchall()
        conn.execute(AUTH).fetchall()
        conn.execute("BEGIN IMMEDIATE")
        key = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO client_write (key, actor, fingerprint, response, created_at) "
            "VALUES (?, 'bench', 'x', '', '2026-01-01') ON CONFLICT (key) DO NOTHING RETURNING id",
            (key,),
        ).fetchall()
        conn.execute(LOT_AT.format(**f)).fetchall()
        conn.execute(READS[3].format(**f)).fetchall()
        conn.execute(
            "INSERT INTO movement (site, kind, lot, location, quantity, reason, note, reference, "
            "group_key, actor, at) VALUES (?, 'use', ?, ?, -1, '', '', '', ?, 'bench', '2026-01-01') RETURNING id",
            (site, lot_id, fridge, str(uuid.uuid4())),
        ).fetchall()
        conn.execute(
            "UPDATE stock_level SET on_hand = on_hand - 1 WHERE lot = ? AND location = ? AND on_hand >= 1 "
            "RETURNING on_hand",
            (lot_id, fridge),
        ).fetchall()
        conn.execute(
            "UPDATE audit_head SET seq = seq + 1 WHERE chain = ? RETURNING seq, last_hash", (f"site:{site}",)
        ).fetchall()
        conn.execute(EVENT.format(seq=time.perf_counter_ns(), s=site))
        conn.execute("UPDATE audit_head SET last_hash = last_hash WHERE chain = ?", (f"site:{site}",))
        conn.execute("UPDATE client_write SET response = '{}' WHERE key = ?", (key,))
        conn.execute("COMMIT")
        latencies.append(time.perf_counter() - t0)
    conn.close()
    return summarize(latencies, 0, time.perf_counter() - started)


async def pg_ceiling(
    dsn: str, site: int, lot_id: int, fridge: int, clients: int, seconds: float
) -> dict[str, float]:
    pool = await asyncpg.create_pool(dsn, min_size=clients, max_size=clients, reset=_no_reset)
    item = await pool.fetchval("SELECT item FROM lot WHERE id = $1", lot_id)
    f = {"s": site, "gtin": GTIN, "item": item, "lot": LOT, "lot_id": lot_id, "loc": fridge}
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            await pool.fetch(AUTH)
            async with pool.acquire() as conn, conn.transaction():
                for sql in READS:
                    await conn.fetch(sql.format(**f))
            await pool.fetch(AUTH)
            async with pool.acquire() as conn, conn.transaction():
                key = uuid.uuid4()
                await conn.fetch(
                    "INSERT INTO client_write (key, actor, fingerprint, response, created_at) "
                    "VALUES ($1, 'bench', 'x', '', now()) ON CONFLICT (key) DO NOTHING RETURNING id",
                    key,
                )
                await conn.fetch(LOT_AT.format(**f))
                await conn.fetch(READS[3].format(**f))
                await conn.fetch(
                    "INSERT INTO movement (site, kind, lot, location, quantity, reason, note, "
                    "reference, group_key, actor, at) VALUES ($1, 'use', $2, $3, -1, '', '', '', "
                    "$4, 'bench', now()) RETURNING id",
                    site,
                    lot_id,
                    fridge,
                    uuid.uuid4(),
                )
                await conn.fetch(
                    "UPDATE stock_level SET on_hand = on_hand - 1 WHERE lot = $1 AND location = $2 "
                    "AND on_hand >= 1 RETURNING on_hand",
                    lot_id,
                    fridge,
                )
                await conn.fetch(
                    "UPDATE audit_head SET seq = seq + 1 WHERE chain = $1 RETURNING seq, last_hash",
                    f"site:{site}",
                )
                await conn.fetch("SELECT status FROM lot WHERE id = $1", lot_id)
                await conn.execute(
                    "WITH event AS (" + EVENT.format(seq=time.perf_counter_ns(), s=site) + ") "
                    "UPDATE audit_head SET last_hash = last_hash WHERE chain = $1",
                    f"site:{site}",
                )
                await conn.execute("UPDATE client_write SET response = '{}' WHERE key = $1", key)
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return summarize(latencies, 0, elapsed)


async def _no_reset(_: object) -> None:
    """As the service's pool (server/db.py): no session reset round trip per checkout."""


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def service_run(env: dict[str, str], token: str, site: int, clients: int, seconds: float) -> dict[str, float]:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "stock_service.py"),
            token,
            str(site),
            str(clients),
            str(seconds),
        ],
        env={**env, "PYTHONPATH": str(ROOT), "CLINITRACK_LOG_LEVEL": "warning"},
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def row(
    engine: str, clients: int, http: dict[str, float], alone: dict[str, float], ceiling: dict[str, float]
) -> str:
    def share(d: dict[str, float]) -> float:
        return 100 * d["per_s"] / ceiling["per_s"] if ceiling["per_s"] else 0

    return (
        f"| {engine:<10} | {clients:>3} | {http['per_s']:>8.0f} | {http['p50_ms']:>7.1f} | {http['p99_ms']:>7.1f} | "
        f"{http['max_ms']:>7.1f} | {int(http['errors']):>6} | {http['cpu_ms']:>5.2f} | {alone['per_s']:>8.0f} | "
        f"{ceiling['per_s']:>10.0f} | "
        f"{share(http):>4.0f} % | {share(alone):>4.0f} % | {os.getloadavg()[0]:.1f} |"
    )


async def run_engine(engine: str, seconds: float) -> list[str]:
    tmp = Path(tempfile.mkdtemp(prefix="clinitrack-bench-"))
    env = {**os.environ, "CLINITRACK_VAR_DIR": str(tmp)}
    env.pop("CLINITRACK_DATABASE_URL", None)
    dbname = None
    if engine == "postgres":
        dbname = f"clinitrack_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'CREATE DATABASE "{dbname}"')
        await admin.close()
        env["CLINITRACK_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname
    rows = []
    try:
        cli(env, "migrate")
        cli(env, "seed", "demo")
        workers = 4 if engine == "postgres" else 1
        with service(env, workers) as (base, pid):
            token, site, lot_id, fridge = await prepare(base)
            for clients in (1, 10, 50):
                cpu_before = cpu_seconds(pid)
                http = await http_run(base, token, site, clients, seconds)
                pairs = http["per_s"] * http.pop("elapsed")
                http["cpu_ms"] = 1000 * (cpu_seconds(pid) - cpu_before) / pairs if pairs else 0
                alone = service_run(env, token, site, clients, seconds)
                if engine == "postgres":
                    ceiling = await pg_ceiling(
                        env["CLINITRACK_DATABASE_URL"], site, lot_id, fridge, clients, seconds
                    )
                else:
                    ceiling = sqlite_ceiling(tmp / "clinitrack.sqlite3", site, lot_id, fridge, seconds)
                rows.append(row(f"{engine} ({workers}w)", clients, http, alone, ceiling))
                print(rows[-1], flush=True)
    finally:
        if dbname:
            admin = await asyncpg.connect(PG_ADMIN)
            await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            await admin.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per concurrency level (default 10)")
    parser.add_argument("--engines", default="sqlite,postgres")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(
        "scan+use pairs per second over HTTP (1 pair = POST /scans + POST /movements/use), and the raw ceiling:"
    )
    print(
        "| engine     | clients | pairs/s | p50 ms | p99 ms | max ms | errors | server CPU ms/pair "
        "| service alone pairs/s "
        "| raw pairs/s | share | service share | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for engine in args.engines.split(","):
        await run_engine(engine.strip(), args.seconds)


if __name__ == "__main__":
    asyncio.run(main())
