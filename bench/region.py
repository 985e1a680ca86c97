"""Region benchmark: the figures of issue 11 against the generated region set, in one table.

    clinitrack demo generate --scale region --seed 1          # once, into an empty database
    CLINITRACK_REGION_URL=postgresql://postgres@127.0.0.1/clinitrack_region make bench-region

Starts the service (4 workers, scheduler off) on the region database and measures, as site 1's
inspector (logs) and an assistant token (scans): scan+use pairs over HTTP next to the raw asyncpg
ceiling (bench/stock_scan.py's loops), the inspector logs' first and a deep page, the alert sweep
(in this process, the scheduler's entry point), and each worker's RSS. The streaming export of
1 M rows runs on a throwaway database (the tiny set plus 1 M sterilizer loads for one site): no
generated site has a million rows of one log. Labels come from bench/labels.py; the web shell's
bytes from the README's last bench/web_load.py figure (it needs Chromium). Nothing is asserted.
The scan bench's own rows (its movements, 'bench' audit chain, idempotency keys) are removed
after it, so the region set still verifies; the received stock and uses done over HTTP stay, as
real, audited entries.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stock_scan  # bench/ is not a package on the path when run as a script

ROOT = Path(__file__).resolve().parents[1]
REGION = os.environ.get("CLINITRACK_REGION_URL", "postgresql://postgres@127.0.0.1:5432/clinitrack_region")
PASSWORD = "generated-demo-1"  # noqa: S105  (server/generate/plan.py's demo password)
ROWS: list[tuple[str, str, str, str]] = []  # (what, figure, goal, verdict)


def record(what: str, figure: str, goal: str = "", ok: bool | None = None) -> None:
    verdict = "" if ok is None else ("met" if ok else "MISSED")
    ROWS.append((what, figure, goal, verdict))
    print(f"  {what}: {figure} {('(goal ' + goal + ', ' + verdict + ')') if goal else ''}", flush=True)


def machine(pg_version: str) -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    ram = psutil.virtual_memory().total / 2**30
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {ram:.1f} GiB RAM, {pg_version}, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
        f"load average {os.getloadavg()[0]:.1f} at the start (other work on the machine slows every figure)"
    )


@contextmanager
def service(dsn: str, workers: int) -> Iterator[tuple[str, psutil.Process]]:
    port = stock_scan.free_port()
    env = {
        **os.environ,
        "CLINITRACK_DATABASE_URL": dsn,
        "CLINITRACK_LOG_LEVEL": "warning",
        "CLINITRACK_SCHEDULER": "off",
        "CLINITRACK_VAR_DIR": str(ROOT / "var" / "bench-region"),
    }
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
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield base, psutil.Process(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_cli(env: dict[str, str], args: list[str], *, stdin: str | None = None, check: bool = True) -> None:
    subprocess.run(
        [sys.executable, "-m", "server", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        text=True,
        capture_output=True,
        check=check,
    )


def login(base: str, username: str) -> httpx.Client:
    c = httpx.Client(base_url=base, timeout=120)
    me = c.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    me.raise_for_status()
    c.headers["X-CSRF-Token"] = me.json()["csrf_token"]
    return c


def timed_get(c: httpx.Client, url: str, runs: int = 5) -> tuple[float, httpx.Response]:
    """Median wall time in ms of ``runs`` GETs (after one warm-up)."""
    answer = c.get(url)
    answer.raise_for_status()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        answer = c.get(url)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), answer


def last_cursor(c: httpx.Client, url: str, key: str = "next_cursor") -> str:
    """Walk a cursor-paged list 500 rows at a time; the cursor of its last page."""
    cursor, last = "", ""
    while True:
        page = c.get(url, params={"limit": 500, "cursor": cursor}).json()
        nxt = page.get(key)
        if not nxt:
            return last
        last, cursor = cursor, nxt


async def log_pages(base: str, conn: asyncpg.Connection) -> None:
    c = login(base, "s001-inspector")
    site = 1
    first_ms, _ = timed_get(c, f"/api/sites/{site}/journal?limit=50")
    oldest = await conn.fetchval("SELECT MIN(id) FROM movement WHERE site = $1", site)
    deep_ms, _ = timed_get(c, f"/api/sites/{site}/journal?limit=50&before={oldest + 100}")
    record("stock journal, first page (50)", f"{first_ms:.1f} ms", "≤ 50 ms", first_ms <= 50)
    record("stock journal, deepest page", f"{deep_ms:.1f} ms", "≤ 100 ms", deep_ms <= 100)

    fridge = await conn.fetchval(
        "SELECT location FROM fridge_setting WHERE site = $1 ORDER BY id LIMIT 1", site
    )
    url = f"/api/sites/{site}/coldchain/fridges/{fridge}/readings"
    recent_ms, recent = timed_get(c, url)
    old = datetime.now(UTC).date() - timedelta(days=360)
    old_ms, _ = timed_get(c, f"{url}?from={old}&to={old + timedelta(days=29)}")
    n = len(recent.json())
    record(f"fridge readings, last 30 days ({n} rows)", f"{recent_ms:.1f} ms", "≤ 50 ms", recent_ms <= 50)
    record("fridge readings, 30 days a year ago", f"{old_ms:.1f} ms", "≤ 100 ms", old_ms <= 100)

    for name, path in (("cleaning logs", "cleaning/logs"), ("reprocessing loads", "reprocessing/loads")):
        url = f"/api/sites/{site}/{path}"
        first_ms, _ = timed_get(c, f"{url}?limit=50")
        cursor = last_cursor(c, url)
        deep_ms, _ = timed_get(c, f"{url}?limit=50&cursor={cursor}")
        record(f"{name}, first page (50)", f"{first_ms:.1f} ms", "≤ 50 ms", first_ms <= 50)
        record(f"{name}, last page", f"{deep_ms:.1f} ms", "≤ 100 ms", deep_ms <= 100)
    c.close()


async def scans(base: str, dsn: str, conn: asyncpg.Connection, seconds: float) -> None:
    """bench/stock_scan.py's scan+use loop and raw ceiling, on site 1's first vaccine."""
    site = 1
    row = await conn.fetchrow(
        "SELECT c.code, l.lot_number, l.id AS lot, l.expiry, i.id AS item FROM item i "
        "JOIN item_code c ON c.item = i.id JOIN lot l ON l.item = i.id "
        "WHERE i.site = $1 AND i.kind = 'vaccine' AND l.expiry > current_date + 60 ORDER BY l.id LIMIT 1",
        site,
    )
    fridge = await conn.fetchval(
        "SELECT location FROM fridge_setting WHERE site = $1 ORDER BY id LIMIT 1", site
    )
    stock_scan.GTIN, stock_scan.LOT = row["code"], row["lot_number"]
    # API tokens are a site admin's to make: an admin account through the CLI (audited), once.
    run_cli(
        {**os.environ, "CLINITRACK_DATABASE_URL": dsn},
        ["createuser", "bench-admin", "--site", str(site), "--role", "admin", "--password-stdin"],
        stdin=PASSWORD + "\n",
        check=False,
    )
    c = login(base, "bench-admin")
    token = c.post(
        f"/api/sites/{site}/tokens",
        json={"name": "bench", "role": "assistant"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    ).json()["token"]
    c.post(
        f"/api/sites/{site}/movements/receive",
        headers={"Idempotency-Key": str(uuid.uuid4())},
        json={
            "item_id": row["item"],
            "lot_number": row["lot_number"],
            "expiry": row["expiry"].isoformat(),
            "quantity": 1_000_000,
            "location_id": fridge,
        },
    ).raise_for_status()
    c.close()
    try:
        # Every HTTP run first, then the ceilings: the ceiling takes slots of the site's audit chain
        # (its events go to a 'bench' chain), so the head's seq is put back after it; an HTTP write
        # between two ceilings would leave holes in the site's chain.
        levels = (1, 10, 50)
        https = [await stock_scan.http_run(base, token, site, clients, seconds) for clients in levels]
        head = await conn.fetchval("SELECT seq FROM audit_head WHERE chain = $1", f"site:{site}")
        try:
            ceilings = [
                await stock_scan.pg_ceiling(dsn, site, row["lot"], fridge, clients, seconds)
                for clients in levels
            ]
        finally:
            await conn.execute("UPDATE audit_head SET seq = $1 WHERE chain = $2", head, f"site:{site}")
        for clients, http, ceiling in zip(levels, https, ceilings, strict=True):
            share = 100 * http["per_s"] / ceiling["per_s"] if ceiling["per_s"] else 0
            record(
                f"scan+use, {clients} clients (4 workers)",
                f"{http['per_s']:.0f} pairs/s, p50 {http['p50_ms']:.1f} ms, p99 {http['p99_ms']:.1f} ms, "
                f"{int(http['errors'])} errors; raw ceiling {ceiling['per_s']:.0f}/s ({share:.0f} %)",
            )
    finally:
        # The ceiling's rows are not records: take them out, with the level change they made.
        async with conn.transaction():
            await conn.execute(
                "WITH d AS (DELETE FROM movement WHERE actor = 'bench' RETURNING lot, location, quantity) "
                "UPDATE stock_level sl SET on_hand = sl.on_hand - s.q "
                "FROM (SELECT lot, location, SUM(quantity) AS q FROM d GROUP BY lot, location) s "
                "WHERE sl.lot = s.lot AND sl.location = s.location"
            )
            await conn.execute("DELETE FROM audit_event WHERE chain = 'bench'")
            await conn.execute("DELETE FROM client_write WHERE actor = 'bench'")


def worker_rss(proc: psutil.Process) -> None:
    kids = [p for p in proc.children(recursive=True) if "spawn_main" in " ".join(p.cmdline())]
    rss = sorted(p.memory_info().rss / 2**20 for p in kids) or [proc.memory_info().rss / 2**20]
    worst = max(rss)
    record(
        "RSS per worker after the runs", ", ".join(f"{r:.0f}" for r in rss) + " MiB", "≤ 80 MiB", worst <= 80
    )


async def alert_sweep(dsn: str) -> None:
    os.environ["CLINITRACK_DATABASE_URL"] = dsn
    os.environ.setdefault("CLINITRACK_VAR_DIR", str(ROOT / "var" / "bench-region"))
    from server import sql
    from server.alerts.rules import RULES
    from server.alerts.sweep import sweep, sweep_changes, sweep_rule
    from server.db import close_pool, start_pool

    await start_pool(4)
    try:
        for label in ("full, first (opens the alerts)", "full, again (every site, every rule)"):
            t0 = time.perf_counter()
            outcomes = await sweep(datetime.now(UTC))
            took = time.perf_counter() - t0
            opened = sum(o.open for o in outcomes)
            record(f"alert sweep, {label}", f"{took:.2f} s, {opened:,} open alerts")
        # The scheduled sweep (server.scheduler's alert_sweep). A site whose chain length is not on
        # record counts as changed, so deleting records stands in for sites that changed since.
        await sql.fetch("DELETE FROM alert_site_seen")
        cases = [
            ("scheduled, the day's first (re-reads every site)", None),
            ("scheduled, nothing changed since", None),
            ("scheduled, 50 of 500 sites changed since", 50),
        ]
        for label, changed in cases:
            if changed:
                await sql.fetch(
                    "DELETE FROM alert_site_seen WHERE site IN (SELECT id FROM site ORDER BY id % 10, id LIMIT {})",
                    changed,
                )
            t0 = time.perf_counter()
            outcomes = await sweep_changes(datetime.now(UTC))
            took = time.perf_counter() - t0
            goal = "" if "first" in label else "≤ 2 s"
            record(
                f"alert sweep, {label}",
                f"{took:.2f} s, {sum(o.open for o in outcomes):,} open alerts",
                goal,
                None if not goal else took <= 2,
            )
        # Where the time goes, for whoever tunes the sweep: each rule alone, every site.
        parts = []
        for rule in RULES:
            t0 = time.perf_counter()
            outcome = await sweep_rule(rule, datetime.now(UTC))
            parts.append(f"{outcome.rule} {time.perf_counter() - t0:.2f} s ({outcome.open:,})")
        record("alert sweep by rule, full (open alerts)", "; ".join(parts))
    finally:
        await close_pool()


async def export_1m(rows: int) -> None:
    """The streaming loads CSV of one site with ``rows`` loads, on a throwaway database."""
    admin = await asyncpg.connect(stock_scan.PG_ADMIN)
    name = f"clinitrack_bench_export_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    dsn = stock_scan.PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    env = {
        **os.environ,
        "CLINITRACK_DATABASE_URL": dsn,
        "CLINITRACK_VAR_DIR": str(ROOT / "var" / "bench-region"),
    }
    try:
        for args in (("migrate",), ("demo", "generate", "--scale", "tiny", "--seed", "1")):
            run_cli(env, list(args))
        conn = await asyncpg.connect(dsn)
        t0 = time.perf_counter()
        await conn.execute(
            "INSERT INTO rp_load (site, sterilizer, day, load_number, started_at, cycle_type, purpose, implant, "
            "bi_required, status, physical_met, temperature_c, minutes, pressure_kpa, printout, external_ci, "
            "internal_ci, bi_lot, bi_result, operator, operator_name, operator_initials, results_at, releaser, "
            "releaser_name, released_at, comment, bi_read_by) "
            "SELECT 1, s.id, (now() - (g / 3000) * interval '1 day')::date, g % 3000 + 101, "
            "now() - (g / 3000) * interval '1 day', 'Wrapped', 'load', false, false, 'released', true, '134', "
            "'4', '206', '', 'pass', 'pass', '', '', 'user:2', 'Assistant 1', 'A1', now(), 'user:1', "
            "'Manager 1', now(), '', '' FROM generate_series(1, $1) g, "
            "(SELECT id FROM rp_sterilizer WHERE site = 1) s",
            rows,
        )
        await conn.execute("ANALYZE rp_load")
        await conn.close()
        print(f"  ({rows:,} loads inserted in {time.perf_counter() - t0:.0f} s)", flush=True)
        with service(dsn, 1) as (base, proc):
            c = login(base, "s001-inspector")
            rss0 = proc.memory_info().rss / 2**20
            peak, lines, size = rss0, 0, 0
            t0 = time.perf_counter()
            with c.stream("GET", "/api/sites/1/reprocessing/loads/export.csv") as answer:
                answer.raise_for_status()
                for chunk in answer.iter_bytes():
                    size += len(chunk)
                    lines += chunk.count(b"\n")
                    if lines % 50 == 0:
                        peak = max(peak, proc.memory_info().rss / 2**20)
            took = time.perf_counter() - t0
            peak = max(peak, proc.memory_info().rss / 2**20)
            c.close()
        per_s = lines / took
        record(
            f"loads CSV export, {lines:,} lines ({size / 1e6:.0f} MB)",
            f"{per_s:,.0f} rows/s in {took:.1f} s, worker RSS {rss0:.0f} -> peak {peak:.0f} MB",
            "≥ 100k rows/s, ≤ 150 MB",
            per_s >= 100_000 and peak <= 150,
        )
    finally:
        admin = await asyncpg.connect(stock_scan.PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def labels() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.labels", "--runs", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    m = re.search(r"^Avery 5160 PDF\s+.*?\s([\d.]+)\s+(\d+)kB", out, re.M)
    best = float(m.group(1)) if m else float("nan")
    record("1,000 labels, Avery 5160 PDF", f"{best:.2f} s", "≤ 3 s", best <= 3)


def web_shell() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"([\d.]+) KB\s+compressed before the camera", text)
    figure = float(m.group(1)) if m else float("nan")
    record(
        "web shell before the camera (README, bench/web_load.py)", f"{figure} KB", "≤ 150 KB", figure <= 150
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per scan concurrency level")
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--skip", default="", help="comma-separated: scans,logs,sweep,export,labels")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    conn = await asyncpg.connect(REGION)
    version = await conn.fetchval("SHOW server_version")
    counts = await conn.fetchrow(
        "SELECT (SELECT COUNT(*) FROM site) AS sites, (SELECT reltuples::bigint FROM pg_class "
        "WHERE relname = 'movement') AS movements"
    )
    header = machine(f"PostgreSQL {version}")
    print(
        f"machine: {header}\nregion set: {counts['sites']} sites, ~{counts['movements']:,} movements",
        flush=True,
    )
    if not {"logs", "scans"} <= skip:
        with service(REGION, 4) as (base, proc):
            if "logs" not in skip:
                await log_pages(base, conn)
            if "scans" not in skip:
                await scans(base, REGION, conn, args.seconds)
            worker_rss(proc)
    await conn.close()
    if "sweep" not in skip:
        await alert_sweep(REGION)
    if "export" not in skip:
        await export_1m(args.export_rows)
    if "labels" not in skip:
        labels()
    web_shell()
    print(f"\nmachine: {header}")
    print(f"region set: {counts['sites']} sites, ~{counts['movements']:,} movements\n")
    print("| measure | figure | goal | |\n|---|---|---|---|")
    for what, figure, goal, verdict in ROWS:
        print(f"| {what} | {figure} | {goal} | {verdict} |")


if __name__ == "__main__":
    asyncio.run(main())
