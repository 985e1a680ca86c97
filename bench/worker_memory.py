"""Memory of a ``clinitrack serve`` worker: RSS at rest and after a burst, and what the imports cost.

Run: `.venv/bin/python -m bench.worker_memory [--workers 4] [--seconds 5] [--skip-serve]`.

1. Imports: a fresh interpreter imports ``server.asgi`` (what a uvicorn worker does) with a hook that
   reads VmRSS before and after each module runs; prints the packages that added the most (each
   module's own cost, without the modules it imported).
2. Serve: starts `clinitrack serve --workers N` on a throwaway PostgreSQL database with the demo
   clinic, like bench/stock_scan.py, and prints each worker's VmRSS (the kernel's figure), PSS and
   USS (private memory), once all workers answer and again after scan+use pairs at 10 clients and a
   round of list pages and /readyz on fresh connections (so that every worker serves some).

Not a test: nothing is asserted. Only the standard library is imported at the top, so the import
trace starts from a bare interpreter.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("CLINITRACK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def vm_rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def smaps_kib(pid: int) -> dict[str, int]:
    """Rss, Pss and Private_* of a process, from /proc/<pid>/smaps_rollup."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        out[name] = int(value.split()[0])
    return out


# --- 1. import trace (runs in a fresh interpreter) ---------------------------------------------------


def trace_imports(target: str, top: int) -> None:
    import importlib
    import importlib.abc

    own: dict[str, int] = defaultdict(int)  # KiB added by each module's own code
    stack: list[int] = []  # KiB of nested imports, per module being run

    def timed(name: str, exec_module: Callable[[ModuleType], None]) -> Callable[[ModuleType], None]:
        def run(module: ModuleType) -> None:
            before = vm_rss_kib()
            stack.append(0)
            try:
                exec_module(module)
            finally:
                nested = stack.pop()
                total = vm_rss_kib() - before
                own[name] += total - nested
                if stack:
                    stack[-1] += total

        return run

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):  # type: ignore[no-untyped-def]
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(name, path, target)
                if spec is None:
                    continue
                loader = spec.loader
                # Source and extension loaders are one object per module: wrap that object's
                # exec_module, keeping the loader (its resource reader serves package data files).
                if loader is not None and not isinstance(loader, type) and hasattr(loader, "exec_module"):
                    loader.exec_module = timed(name, loader.exec_module)  # type: ignore[method-assign]
                return spec
            return None

    start = vm_rss_kib()
    sys.meta_path.insert(0, Finder())
    importlib.import_module(target)
    end = vm_rss_kib()
    by_package: dict[str, int] = defaultdict(int)
    for name, kib in own.items():
        parts = name.split(".")
        by_package[".".join(parts[:2]) if parts[0] == "server" else parts[0]] += kib
    print(f"import {target}: VmRSS {start / 1024:.1f} -> {end / 1024:.1f} MiB; biggest importers (own MiB):")
    for name, kib in sorted(by_package.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {kib / 1024:6.1f}  {name}")
    print(f"  (the rest: {sum(sorted(by_package.values())[:-top]) / 1024:.1f} MiB)")


# --- 2. the served workers ---------------------------------------------------------------------------


def workers_of(pid: int) -> list[int]:
    import psutil

    kids = psutil.Process(pid).children(recursive=True)
    return sorted(p.pid for p in kids if "spawn_main" in " ".join(p.cmdline()))


def print_workers(label: str, pids: list[int]) -> None:
    rows = []
    for pid in pids:
        m = smaps_kib(pid)
        uss = m.get("Private_Clean", 0) + m.get("Private_Dirty", 0)
        rows.append((vm_rss_kib(pid), m.get("Pss", 0), uss))
    rss = ", ".join(f"{r / 1024:.1f}" for r, _, _ in rows)
    pss = ", ".join(f"{p / 1024:.1f}" for _, p, _ in rows)
    uss = ", ".join(f"{u / 1024:.1f}" for _, _, u in rows)
    print(f"{label}: VmRSS {rss} MiB | PSS {pss} | USS {uss}", flush=True)


async def list_round(base: str, token: str, site: int, connections: int) -> dict[str, int]:
    """GET the list pages a clinic opens, each connection on its own (so on whichever worker accepts)."""
    import asyncio

    sys.path.insert(0, str(ROOT / "bench"))  # bench/stock_scan.py imports http1 as a top-level module
    from http1 import Connection

    host, port = base.removeprefix("http://").split(":")
    paths = [
        f"/api/sites/{site}/items",
        f"/api/sites/{site}/stock",
        f"/api/sites/{site}/journal?limit=50",
        f"/api/sites/{site}/alerts",
        f"/api/sites/{site}/locations",
        f"/api/sites/{site}/coldchain/fridges",
        f"/api/sites/{site}/cleaning/logs?limit=50",
        f"/api/sites/{site}/reprocessing/loads?limit=50",
        f"/api/sites/{site}/purchase-orders",
        f"/api/sites/{site}/reorder/suggestions",
        "/api/me",
        "/readyz",  # what a load balancer polls: it reads the migrations on disk
    ]
    failed: dict[str, int] = {}

    async def one() -> None:
        async with Connection(host, int(port), {"Authorization": f"Bearer {token}"}) as c:
            for path in paths:
                status, _ = await c.get(path)
                if status != 200:
                    failed[path] = status

    await asyncio.gather(*(one() for _ in range(connections)))
    return failed


async def manager_token(base: str, site: int) -> str:
    import uuid

    import httpx

    async with httpx.AsyncClient(base_url=base) as c:
        me = (
            await c.post("/api/auth/login", json={"username": "admin", "password": "demo-admin-123"})
        ).json()
        answer = await c.post(
            f"/api/sites/{site}/tokens",
            json={"name": "bench-lists", "role": "manager"},
            headers={"X-CSRF-Token": me["csrf_token"], "Idempotency-Key": str(uuid.uuid4())},
        )
        return str(answer.json()["token"])


async def serve_and_measure(workers: int, seconds: float) -> None:
    import asyncio
    import shutil
    import tempfile
    import uuid

    import asyncpg

    sys.path.insert(0, str(ROOT / "bench"))
    from stock_scan import cli, http_run, prepare, service

    tmp = Path(tempfile.mkdtemp(prefix="clinitrack-mem-"))
    dbname = f"clinitrack_mem_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{dbname}"')
    await admin.close()
    env = {
        **os.environ,
        "CLINITRACK_VAR_DIR": str(tmp),
        "CLINITRACK_DATABASE_URL": PG_ADMIN.rsplit("/", 1)[0] + "/" + dbname,
    }
    try:
        cli(env, "migrate")
        cli(env, "seed", "demo")
        with service(env, workers) as base:
            import psutil

            parent = next(
                p for p in psutil.Process().children() if "serve" in p.cmdline()
            )  # the `clinitrack serve` process stock_scan.service started
            for _ in range(100):
                pids = workers_of(parent.pid)
                if len(pids) == workers:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(3)  # every worker has run its lifespan (pool opened)
            print_workers("at rest", pids)
            token, site, _, _ = await prepare(base)
            lists_token = await manager_token(base, site)
            pairs = await http_run(base, token, site, 10, seconds)
            failed = await list_round(base, lists_token, site, 8 * workers)
            print(
                f"burst: {pairs['per_s'] * seconds:.0f} scan+use pairs in {seconds:.0f} s at 10 clients "
                f"({pairs['errors']:.0f} errors), {8 * workers} rounds of 12 pages (lists, /readyz)"
                + (f" (not 200: {failed})" if failed else "")
            )
            print_workers("after the burst", pids)
    finally:
        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await admin.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0, help="of scan+use pairs (default 5)")
    parser.add_argument("--top", type=int, default=15, help="importers listed (default 15)")
    parser.add_argument("--skip-serve", action="store_true", help="only the import trace")
    parser.add_argument("--trace", metavar="MODULE", help=argparse.SUPPRESS)  # the child's part of step 1
    args = parser.parse_args()
    if args.trace:
        trace_imports(args.trace, args.top)
        return
    env = {**os.environ, "CLINITRACK_DATABASE_URL": os.environ.get("CLINITRACK_DATABASE_URL", PG_ADMIN)}
    env.setdefault("CLINITRACK_VAR_DIR", str(ROOT / "var" / "bench-memory"))
    subprocess.run(
        [sys.executable, "-m", "bench.worker_memory", "--trace", "server.asgi", "--top", str(args.top)],
        env=env,
        cwd=ROOT,
        check=True,
    )
    if not args.skip_serve:
        import asyncio

        asyncio.run(serve_and_measure(args.workers, args.seconds))


if __name__ == "__main__":
    main()
