"""Benchmark: the inspector's sterilization log CSV over a long range, and one deep keyset page.

Run: `.venv/bin/python bench/reprocessing_export.py [--sizes 2000,50000]`. For each size it makes a
fresh SQLite service with the demo clinic, adds that many loads to its sterilizer (straight into the
table, a made-up year of cycles), starts the service (1 worker) and, as the inspector, downloads
`loads/export.csv` (rows built by SQLite, 2,000 loads a query) and the last page of `loads?limit=100`
by following cursors. Prints rows, seconds and the service's peak resident memory (VmHWM) after each
size, so flat memory across sizes shows the export does not hold the whole range. Not a test.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "server", *args], env=env, check=True, capture_output=True, cwd=ROOT
    )


def add_loads(db: Path, n: int) -> None:
    con = sqlite3.connect(db)
    site, sterilizer = con.execute("SELECT site, id FROM rp_sterilizer ORDER BY id LIMIT 1").fetchone()
    start = datetime(2025, 1, 2, 13, 0, tzinfo=UTC)
    rows = []
    for i in range(n):
        at = start + timedelta(minutes=10 * i)
        day = (at - timedelta(hours=5)).date()
        rows.append(
            (
                site,
                sterilizer,
                day.isoformat(),
                1000 + i,
                at.isoformat(sep=" "),
                "wrapped",
                "load",
                "released",
                1,
                "pass",
                "pass",
                "AB",
            )
        )
    con.executemany(
        "INSERT INTO rp_load (site, sterilizer, day, load_number, started_at, cycle_type, purpose, status, "
        "physical_met, external_ci, internal_ci, operator_initials, implant, bi_required, temperature_c, minutes, "
        "pressure_kpa, printout, bi_lot, bi_result, operator, operator_name, releaser, releaser_name, comment, "
        "bi_read_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0,0,'134','4','216','','','','','','','','','')",
        rows,
    )
    con.commit()
    con.close()


def peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run(size: int) -> str:
    tmp = Path(tempfile.mkdtemp(prefix="clinitrack-bench-rp-"))
    env = {**os.environ, "CLINITRACK_VAR_DIR": str(tmp)}
    env.pop("CLINITRACK_DATABASE_URL", None)
    cli(env, "migrate")
    cli(env, "seed", "demo")
    add_loads(tmp / "clinitrack.sqlite3", size)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--no-migrate", "--port", str(port), "--workers", "1"],
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
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=600) as c:
            me = c.post(
                "/api/auth/login", json={"username": "inspector", "password": "demo-inspector"}
            ).json()
            site = me["memberships"][0]["site_id"]
            idle = peak_kb(proc.pid)
            t0 = time.perf_counter()
            lines = 0
            with c.stream("GET", f"/api/sites/{site}/reprocessing/loads/export.csv") as resp:
                for chunk in resp.iter_lines():
                    lines += 1 if chunk else 0
            csv_s = time.perf_counter() - t0
            pages, cursor, t0 = 0, "", time.perf_counter()
            last_page = 0.0
            while True:
                t1 = time.perf_counter()
                body = c.get(
                    f"/api/sites/{site}/reprocessing/loads", params={"limit": 100, "cursor": cursor}
                ).json()
                last_page = time.perf_counter() - t1
                pages += 1
                cursor = body["next_cursor"]
                if not cursor:
                    break
            walk_s = time.perf_counter() - t0
        return (
            f"| {size:>7} | {lines - 2:>7} | {csv_s:>6.2f} | {idle / 1024:>6.1f} | {peak_kb(proc.pid) / 1024:>6.1f} | "
            f"{pages:>5} | {walk_s:>6.2f} | {last_page * 1000:>6.1f} |"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2000,50000")
    args = parser.parse_args()
    print("| loads   | CSV rows| CSV s  | RSS MB before | peak MB | pages | walk s | last page ms |")
    print("|---|---|---|---|---|---|---|---|")
    for size in (int(x) for x in args.sizes.split(",")):
        print(run(size), flush=True)


if __name__ == "__main__":
    main()
