"""Load test: concurrent scanners against PostgreSQL with several workers, then a consistency check.

Run: `make bench-load` (or `.venv/bin/python -m bench.load [--duration 300] [--scanners 50]
[--workers 4] [--think 1.0]`). It starts its own service (`clinitrack serve --workers N`) on a
throwaway PostgreSQL database with the demo clinic, puts plenty of stock of a few load-test lots
in two places, then each simulated scanner (one keep-alive connection, bench/http1.py) loops over
realistic work: scan a GS1 code then use, receive or move the lot, or read the stock list or the
expiring list, pausing a random 0-2x `--think` seconds between actions. Every write carries an
Idempotency-Key; a connection error or timeout is retried with the SAME key.

After the run it checks the ledger (on hand == the sum of movements for every lot and place, none
negative, the load's movements are exactly those of the acknowledged writes, one idempotency record
per acknowledged write) and the audit chain (`clinitrack audit verify`), and prints a report.
Exit status 0 when there were no errors and everything is consistent. Not part of pytest: the full
run takes 5 minutes. tests/faults/ reuses the client and the checks.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.http1 import Connection, Http1Error

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("CLINITRACK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TRANSPORT_ERRORS = (OSError, Http1Error, asyncio.IncompleteReadError, TimeoutError, ValueError, IndexError)
LOAD_EXPIRY = ("2030-12-31", "301231")


# --- the service ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=180,
        check=False,
        **kwargs,
    )


@dataclass
class Service:
    proc: subprocess.Popen[bytes]
    base: str
    log: Path

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])

    def worker_pids(self) -> list[int]:
        """uvicorn's worker processes: the master's children started by multiprocessing's spawn
        (not its resource tracker)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid and b"spawn_main" in cmdline:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def clients_of(self, pid: int) -> int:
        """How many client connections a worker holds open (from /proc: its sockets that are
        established connections on the service's port)."""
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = str(fd.readlink())
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        count = 0
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            cols = line.split()
            if int(cols[1].rsplit(":", 1)[1], 16) == self.port and cols[3] == "01" and cols[9] in inodes:
                count += 1
        return count

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@contextmanager
def serve(env: dict[str, str], workers: int, *, ready_timeout: float = 90, **popen: Any) -> Iterator[Service]:
    """`clinitrack serve --no-migrate` as a subprocess, its output in a log file; stopped with SIGTERM."""
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="clinitrack-serve-", suffix=".log")[1])
    with log.open("wb") as out:
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
            stdout=out,
            stderr=subprocess.STDOUT,
            **popen,
        )
    service = Service(proc, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            try:
                if httpx.get(f"{service.base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the service did not become ready:\n{service.log_text()[-3000:]}")
            time.sleep(0.2)
        yield service
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the load's lots and credentials --------------------------------------------------------


@dataclass(frozen=True)
class LoadLot:
    item_id: int
    gtin: str
    lot_id: int
    lot_number: str

    @property
    def raw(self) -> str:
        """What a scanner reads off the box: GTIN, expiry, lot (GS1 element string)."""
        return f"01{self.gtin}17{LOAD_EXPIRY[1]}10{self.lot_number}"


@dataclass(frozen=True)
class Setup:
    site: int
    token: str
    places: tuple[int, int]  # the two places stock moves between
    lots: list[LoadLot]


async def prepare(base: str, *, lots: int = 4, quantity: int = 1_000_000) -> Setup:
    """As the demo admin: an assistant API token for the scanners, and `lots` new lots of the demo
    vaccines with `quantity` each in the fridge and in the supply room."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        me = (
            await c.post("/api/auth/login", json={"username": "admin", "password": "demo-admin-123"})
        ).json()
        h = {"X-CSRF-Token": me["csrf_token"]}
        site = me["memberships"][0]["site_id"]

        def key() -> dict[str, str]:
            return {**h, "Idempotency-Key": str(uuid.uuid4())}

        resp = await c.post(
            f"/api/sites/{site}/tokens", json={"name": "load", "role": "assistant"}, headers=key()
        )
        resp.raise_for_status()
        token = resp.json()["token"]
        places = {p["name"]: p["id"] for p in (await c.get(f"/api/sites/{site}/locations")).json()}
        fridge, supply = places["Vaccine Fridge"], places["Supply Room"]
        items = [i for i in (await c.get(f"/api/sites/{site}/items")).json() if i["kind"] == "vaccine"]
        made = []
        for n, item in enumerate(items[:lots]):
            gtin = next(code["code"] for code in item["codes"] if code["pack_qty"] == 1)
            lot_number = f"LOAD-{n + 1}"
            for place in (fridge, supply):
                resp = await c.post(
                    f"/api/sites/{site}/movements/receive",
                    headers=key(),
                    json={
                        "item_id": item["id"],
                        "lot_number": lot_number,
                        "expiry": LOAD_EXPIRY[0],
                        "quantity": quantity,
                        "location_id": place,
                    },
                )
                resp.raise_for_status()
            made.append(LoadLot(item["id"], gtin, resp.json()["lot"]["id"], lot_number))
    return Setup(site, token, (fridge, supply), made)


# --- the client -----------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    retries: int = 0
    # Idempotency-Key -> the movement ids its (first or replayed) answer named.
    acked: dict[str, list[int]] = field(default_factory=dict)
    actors: set[str] = field(default_factory=set)

    def error(self, kind: str, what: str) -> None:
        self.errors[f"{kind}: {what}"] += 1
        if len(self.error_samples) < 20:
            self.error_samples.append(f"{kind}: {what}")


class Scanner:
    """One handheld: a keep-alive connection. A connection error or a timeout reconnects and sends
    the same request again with the same Idempotency-Key, for up to `retry_for` seconds."""

    def __init__(
        self, base: str, token: str, stats: Stats, *, timeout: float = 30, retry_for: float = 60
    ) -> None:
        self.host, port = base.removeprefix("http://").split(":")
        self.port = int(port)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.stats, self.timeout, self.retry_for = stats, timeout, retry_for
        self.conn: Connection | None = None

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.__aexit__()
            self.conn = None

    async def call(
        self, kind: str, method: str, path: str, body: Any = None, *, key: str | None = None
    ) -> tuple[int, Any]:
        """Returns (status, answer); status 0 when it never got an answer. Times the whole call,
        retries included, as the person holding the scanner waits for all of it."""
        headers = {"Idempotency-Key": key} if key else None
        started = time.perf_counter()
        give_up = time.monotonic() + self.retry_for
        pause = 0.05
        while True:
            try:
                if self.conn is None:
                    self.conn = await asyncio.wait_for(
                        Connection(self.host, self.port, self.headers).__aenter__(), self.timeout
                    )
                status, answer = await asyncio.wait_for(
                    self.conn.request(method, path, body, headers), self.timeout
                )
                break
            except TRANSPORT_ERRORS as exc:
                await self.close()
                if time.monotonic() > give_up:
                    self.stats.error(kind, f"no answer: {type(exc).__name__}")
                    return 0, None
                self.stats.retries += 1
                await asyncio.sleep(pause)
                pause = min(pause * 2, 1.0)
        self.stats.latencies[kind].append(time.perf_counter() - started)
        if status >= 400:
            detail = answer.get("code") if isinstance(answer, dict) else answer
            self.stats.error(kind, f"{status} {detail}")
        elif key and isinstance(answer, dict) and "movements" in answer:
            self.stats.acked[key] = [m["id"] for m in answer["movements"]]
            self.stats.actors.update(m["actor"] for m in answer["movements"])
        return status, answer

    async def write(self, kind: str, path: str, body: Any, key: str | None = None) -> tuple[int, Any]:
        return await self.call(kind, "POST", path, body, key=key or str(uuid.uuid4()))


MIX = (("scan+use", 45), ("scan+transfer", 15), ("scan+receive", 10), ("stock list", 20), ("expiring", 10))


async def scanner_loop(
    scanner: Scanner, setup: Setup, deadline: float, *, think: float, rng: random.Random
) -> None:
    kinds, weights = zip(*MIX, strict=True)
    api = f"/api/sites/{setup.site}"
    try:
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            lot = rng.choice(setup.lots)
            if kind == "stock list":
                await scanner.call(kind, "GET", f"{api}/stock?location_id={rng.choice(setup.places)}")
            elif kind == "expiring":
                await scanner.call(kind, "GET", f"{api}/stock/expiring?days=30")
            else:
                status, scan = await scanner.call("scan", "POST", f"{api}/scans", {"raw": lot.raw})
                if status == 200:
                    where = [lv["location_id"] for lv in scan["levels"] if lv["on_hand"] > 0]
                    here = rng.choice(where)
                    if kind == "scan+use":
                        await scanner.write(
                            "use", f"{api}/movements/use", {"lot_id": lot.lot_id, "location_id": here}
                        )
                    elif kind == "scan+receive":
                        body = {
                            "item_id": lot.item_id,
                            "lot_number": lot.lot_number,
                            "expiry": LOAD_EXPIRY[0],
                            "quantity": 5,
                            "location_id": here,
                        }
                        await scanner.write("receive", f"{api}/movements/receive", body)
                    else:
                        there = next(p for p in setup.places if p != here)
                        body = {
                            "lot_id": lot.lot_id,
                            "from_location_id": here,
                            "to_location_id": there,
                            "quantity": 1,
                        }
                        await scanner.write("transfer", f"{api}/movements/transfer", body)
            if think:
                await asyncio.sleep(rng.uniform(0, 2 * think))
    finally:
        await scanner.close()


# --- the checks -----------------------------------------------------------------------------

_MISMATCH = """
SELECT sl.lot, sl.location, sl.on_hand, COALESCE(SUM(m.quantity), 0) AS total
FROM stock_level sl LEFT JOIN movement m ON m.lot = sl.lot AND m.location = sl.location
GROUP BY sl.lot, sl.location, sl.on_hand HAVING sl.on_hand <> COALESCE(SUM(m.quantity), 0)
"""
_ORPHAN = """
SELECT COUNT(*) FROM movement m LEFT JOIN stock_level sl ON sl.lot = m.lot AND sl.location = m.location
WHERE sl.id IS NULL
"""


async def _rows(db: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """`db` is a postgresql:// URL or an SQLite file path; `sql` uses {} placeholders."""
    if db.startswith("postgresql://"):
        conn = await asyncpg.connect(db)
        try:
            numbered = sql.format(*(f"${n + 1}" for n in range(len(args))))
            return [tuple(r) for r in await conn.fetch(numbered, *args)]
        finally:
            await conn.close()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(sql.format(*("?" for _ in args)), args).fetchall()


async def check_ledger(db: str, stats: Stats) -> list[str]:
    """What is wrong with the ledger after a run; empty when it is consistent."""
    problems = []
    for lot, place, on_hand, total in await _rows(db, _MISMATCH):
        problems.append(f"lot {lot} at place {place}: on hand {on_hand} but movements sum to {total}")
    orphans = (await _rows(db, _ORPHAN))[0][0]
    if orphans:
        problems.append(f"{orphans} movement(s) with no stock level row")
    negative = (await _rows(db, "SELECT COUNT(*) FROM stock_level WHERE on_hand < 0"))[0][0]
    if negative:
        problems.append(f"{negative} stock level(s) below zero")
    acked_ids = sorted(i for ids in stats.acked.values() for i in ids)
    if len(acked_ids) != len(set(acked_ids)):
        problems.append("two acknowledged writes named the same movement")
    for actor in sorted(stats.actors):
        stored = sorted(r[0] for r in await _rows(db, "SELECT id FROM movement WHERE actor = {}", actor))
        if stored != acked_ids:
            extra, missing = set(stored) - set(acked_ids), set(acked_ids) - set(stored)
            problems.append(
                f"{actor}: {len(stored)} movements stored, {len(acked_ids)} acknowledged "
                f"({len(extra)} not acknowledged, {len(missing)} acknowledged but missing)"
            )
        keys = (await _rows(db, "SELECT COUNT(*) FROM client_write WHERE actor = {}", actor))[0][0]
        if keys != len(stats.acked):
            problems.append(f"{actor}: {keys} idempotency records for {len(stats.acked)} acknowledged writes")
    return problems


def audit_verify(env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return cli(env, "audit", "verify", **kwargs)


# --- the report -----------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values) or [0.0]

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000

    return {
        "p50": statistics.median(ordered) * 1000,
        "p95": at(0.95),
        "p99": at(0.99),
        "max": ordered[-1] * 1000,
    }


def report(stats: Stats, elapsed: float) -> list[str]:
    lines = [
        "| request | count | per s | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    everything: list[float] = []
    for kind in sorted(stats.latencies):
        values = stats.latencies[kind]
        everything += values
        p = percentiles(values)
        lines.append(
            f"| {kind} | {len(values)} | {len(values) / elapsed:.1f} | {p['p50']:.1f} | {p['p95']:.1f} | "
            f"{p['p99']:.1f} | {p['max']:.1f} |"
        )
    p = percentiles(everything)
    lines.append(
        f"| all | {len(everything)} | {len(everything) / elapsed:.1f} | {p['p50']:.1f} | {p['p95']:.1f} | "
        f"{p['p99']:.1f} | {p['max']:.1f} |"
    )
    return lines


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{cpu}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start"


async def run(args: argparse.Namespace) -> int:
    dbname = f"clinitrack_load_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{dbname}"')
    await admin.close()
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname
    env = {
        **os.environ,
        "CLINITRACK_DATABASE_URL": url,
        "CLINITRACK_VAR_DIR": tempfile.mkdtemp(prefix="clinitrack-load-"),
        "CLINITRACK_SECRET_KEY": "load-test-secret-key-0123456789-0123456789",
        "CLINITRACK_LOG_LEVEL": "warning",
    }
    try:
        for step in (("migrate",), ("seed", "demo")):
            done = cli(env, *step)
            if done.returncode:
                raise RuntimeError(f"clinitrack {' '.join(step)}: {done.stderr}")
        print(f"machine: {machine()}")
        print(
            f"{args.scanners} scanners for {args.duration:.0f} s against PostgreSQL with {args.workers} workers, "
            f"think time 0-{2 * args.think:.1f} s",
            flush=True,
        )
        with serve(env, args.workers) as service:
            setup = await prepare(service.base)
            stats = Stats()
            rng = random.Random(args.seed)
            deadline = time.monotonic() + args.duration
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    scanner_loop(
                        Scanner(service.base, setup.token, stats),
                        setup,
                        deadline,
                        think=args.think,
                        rng=random.Random(rng.random()),
                    )
                    for _ in range(args.scanners)
                )
            )
            elapsed = time.perf_counter() - started
            server_errors = service.log_text().count(" ERROR ")
        problems = await check_ledger(url, stats)
        # A shared checkout may gain a migration during a 5-minute run; `audit verify` would then
        # refuse to read the chain ("run clinitrack migrate first"), so apply it first.
        cli(env, "migrate")
        verified = audit_verify(env)
    finally:
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await admin.close()
    errors = sum(stats.errors.values())
    writes = len(stats.acked)
    print("\n".join(report(stats, elapsed)))
    print(
        f"acknowledged writes: {writes} ({writes / elapsed:.1f}/s); retries after a connection error: {stats.retries}"
    )
    print(f"errors: {errors}" + "".join(f"\n  {n} x {what}" for what, n in stats.errors.most_common(10)))
    print(f"server log ERROR lines: {server_errors}")
    print(
        "ledger: "
        + (
            "consistent (on hand == sum of movements, none negative, movements == acknowledged writes)"
            if not problems
            else "INCONSISTENT\n  " + "\n  ".join(problems)
        )
    )
    print(f"audit verify: exit {verified.returncode}: {(verified.stdout + verified.stderr).strip()}")
    return 0 if not errors and not problems and verified.returncode == 0 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load (default 300)")
    parser.add_argument("--scanners", type=int, default=50, help="concurrent scanners (default 50)")
    parser.add_argument("--workers", type=int, default=4, help="service worker processes (default 4)")
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause between actions in s (default 1.0)"
    )
    parser.add_argument("--seed", type=int, default=11, help="random seed of the mix")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
