"""Bulk-loads a generated data set: COPY from worker processes on PostgreSQL, executemany on SQLite.

The database must be migrated and hold no site yet: generated ids are fixed blocks per site, which
is what makes a data set reproducible (and lets sites load in any order, in parallel).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context

from server import sql
from server.db import engine, is_sqlite
from server.generate.plan import SCALES, Scale
from server.generate.rows import COLUMNS, Row, site_rows
from server.stock import rollup

# Secondary indexes of the big tables are dropped before the load and built once after it: one
# sort per index instead of ten million B-tree inserts.
BIG_TABLES = (
    "movement",
    "temperature_reading",
    "lot",
    "stock_level",
    "rp_step",
    "cleaning_log",
    "cleaning_log_item",
    "audit_event",
)
SITES_PER_TASK = 5


class GenerateError(Exception):
    """A plain one-line reason the data set cannot be generated here."""


@dataclass
class Totals:
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, counts: dict[str, int]) -> None:
        for table, n in counts.items():
            self.rows[table] = self.rows.get(table, 0) + n


def _site_tables(
    scale: Scale, seed: int, site_index: int, base: datetime, password_hash: str
) -> Iterable[tuple[str, list[Row]]]:
    """A site's tables, its audit events and the head of its chain."""
    for table, rows in site_rows(scale, seed, site_index, base, password_hash):
        yield table, rows
        if table == "audit_event" and rows:
            last = rows[-1]
            yield "audit_head", [(site_index + 1, last[1], last[2], last[11])]


COLUMNS_ALL = {**COLUMNS, "audit_head": ("id", "chain", "seq", "last_hash")}


# --- PostgreSQL ---------------------------------------------------------------------------------
async def _copy_sites(
    dsn: str, scale: Scale, seed: int, sites: list[int], base: datetime, password_hash: str
) -> dict[str, int]:
    import asyncpg

    counts: dict[str, int] = {}
    conn = await asyncpg.connect(dsn)
    try:
        # Skip the foreign-key triggers (superuser only): the rows are consistent by construction.
        with contextlib.suppress(asyncpg.PostgresError):
            await conn.execute("SET session_replication_role = replica")
        for si in sites:
            async with conn.transaction():
                for table, rows in _site_tables(scale, seed, si, base, password_hash):
                    if rows:
                        await conn.copy_records_to_table(
                            table, records=rows, columns=list(COLUMNS_ALL[table])
                        )
                        counts[table] = counts.get(table, 0) + len(rows)
    finally:
        await conn.close()
    return counts


def _copy_task(
    dsn: str, scale: Scale, seed: int, sites: list[int], base: datetime, password_hash: str
) -> dict[str, int]:
    return asyncio.run(_copy_sites(dsn, scale, seed, sites, base, password_hash))


async def _drop_indexes() -> list[str]:
    rows = await sql.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
        "AND i.tablename = ANY({}) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        list(BIG_TABLES),
    )
    for row in rows:
        await sql.fetch(f'DROP INDEX IF EXISTS "{row["indexname"]}"')
    return [str(r["indexdef"]) for r in rows]


async def _load_postgres(
    scale: Scale, seed: int, base: datetime, password_hash: str, jobs: int, say: Callable[[str], None]
) -> Totals:
    from server.config import Settings

    dsn = Settings.from_env().database_url
    assert dsn is not None  # noqa: S101  (only called on PostgreSQL)
    totals = Totals()
    indexes = await _drop_indexes()
    say(f"dropped {len(indexes)} secondary indexes of {', '.join(BIG_TABLES)} for the load")
    try:
        tasks = [
            list(range(s, min(s + SITES_PER_TASK, scale.sites)))
            for s in range(0, scale.sites, SITES_PER_TASK)
        ]
        started, done = time.monotonic(), 0
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(_copy_task, dsn, scale, seed, t, base, password_hash) for t in tasks]
            for future in as_completed(futures):
                counts = future.result()
                totals.add(counts)
                done += 1
                if done % max(1, len(tasks) // 20) == 0 or done == len(tasks):
                    rows = sum(totals.rows.values())
                    took = time.monotonic() - started
                    say(
                        f"  {done * 100 // len(tasks):3d}% of sites: {rows:,} rows in {took:.0f} s "
                        f"({rows / max(took, 1e-9):,.0f} rows/s)"
                    )
    finally:
        for ddl in indexes:
            t0 = time.monotonic()
            await sql.fetch(ddl)
            say(f"  index built in {time.monotonic() - t0:.1f} s: {ddl.split(' ON ')[0]}")
    for table in COLUMNS_ALL:
        await sql.fetch(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM \"{table}\"))"  # noqa: S608  (our table names)
        )
    t0 = time.monotonic()
    # COPY ran with the triggers off: build the alert sweep's view of stock from scratch.
    items = await rollup.rebuild()
    say(f"  alert view of stock built in {time.monotonic() - t0:.1f} s ({items:,} items)")
    t0 = time.monotonic()
    await sql.fetch("ANALYZE")
    say(f"  ANALYZE in {time.monotonic() - t0:.1f} s")
    return totals


# --- SQLite -------------------------------------------------------------------------------------
def _load_sqlite(
    path: str, scale: Scale, seed: int, base: datetime, password_hash: str, say: Callable[[str], None]
) -> Totals:
    totals = Totals()
    conn = sqlite3.connect(path, timeout=30)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        for si in range(scale.sites):
            counts: dict[str, int] = {}
            with conn:  # one transaction per site
                for table, rows in _site_tables(scale, seed, si, base, password_hash):
                    cols = COLUMNS_ALL[table]
                    names = ", ".join(f'"{c}"' for c in cols)
                    marks = ", ".join("?" * len(cols))
                    conn.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)  # noqa: S608
                    counts[table] = len(rows)
            totals.add(counts)
            say(f"  site {si + 1}/{scale.sites}: {sum(totals.rows.values()):,} rows")
    finally:
        conn.close()
    return totals


async def generate(
    scale_name: str,
    seed: int,
    base: datetime,
    *,
    sites: int | None = None,
    jobs: int = 2,
    say: Callable[[str], None] = print,
) -> Totals:
    """Load the named data set into the (migrated, site-less) database; returns rows per table."""
    from server.core.auth import hash_password
    from server.generate.plan import PASSWORD

    if scale_name not in SCALES:
        raise GenerateError(f"no scale named {scale_name!r} (scales: {', '.join(SCALES)})")
    scale = SCALES[scale_name].with_sites(sites)
    if scale.sites < 1:
        raise GenerateError("--sites must be at least 1")
    if scale.sites * scale.movements > 2_000_000_000:
        raise GenerateError("too many sites: movement ids would pass the 32-bit limit")
    existing = await sql.fetchrow("SELECT COUNT(*) AS n FROM site")
    if existing and int(existing["n"]):
        raise GenerateError(
            "the database already has sites: generate into a freshly migrated, empty database"
        )
    password_hash = hash_password(PASSWORD)  # once: argon2 is slow on purpose
    if is_sqlite():
        path = str(engine().path)  # type: ignore[attr-defined]
        return await asyncio.to_thread(_load_sqlite, path, scale, seed, base, password_hash, say)
    return await _load_postgres(scale, seed, base, password_hash, max(1, jobs), say)


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))
