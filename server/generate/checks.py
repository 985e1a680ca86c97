"""Checks of a generated data set: the stock ledger adds up, and a digest to compare loads by.

The digest is per table: the row count, the sum of the ids and the sum of the table's main
number (quantities, temperatures, levels). It is computed the same way from the built rows (no
database) and from the database, on either engine.
"""

from __future__ import annotations

from datetime import datetime

from server import sql
from server.generate.plan import SCALES
from server.generate.rows import COLUMNS, site_rows

# The number each digest sums besides the id; the password hash is salted, so it is left out.
MEASURE = {
    "movement": "quantity",
    "temperature_reading": "current_tenths",
    "stock_level": "on_hand",
    "rp_load": "load_number",
    "cleaning_log": "items_done",
    "audit_event": "seq",
}

Digest = dict[str, tuple[int, int, int]]


def rows_digest(scale_name: str, seed: int, base: datetime, *, sites: int | None = None) -> Digest:
    scale = SCALES[scale_name].with_sites(sites)
    out: dict[str, list[int]] = {}
    for si in range(scale.sites):
        for table, rows in site_rows(scale, seed, si, base, "-"):
            acc = out.setdefault(table, [0, 0, 0])
            col = COLUMNS[table].index(MEASURE[table]) if table in MEASURE else None
            acc[0] += len(rows)
            acc[1] += sum(r[0] for r in rows)
            acc[2] += sum(r[col] for r in rows) if col is not None else 0
    return {t: (a[0], a[1], a[2]) for t, a in out.items()}


async def db_digest() -> Digest:
    out: Digest = {}
    for table in COLUMNS:
        measure = f'SUM("{MEASURE[table]}")' if table in MEASURE else "0"
        row = await sql.fetchrow(
            f'SELECT COUNT(*) AS n, SUM(id) AS ids, {measure} AS m FROM "{table}"'  # noqa: S608  (our names)
        )
        assert row is not None  # noqa: S101  (an aggregate always returns a row)
        out[table] = (int(row["n"]), int(row["ids"] or 0), int(row["m"] or 0))
    return out


async def level_mismatches() -> int:
    """Stock levels that are not the sum of their movements (either side missing counts too)."""
    row = await sql.fetchrow(
        "SELECT COUNT(*) AS n FROM stock_level sl "
        "LEFT JOIN (SELECT lot, location, SUM(quantity) AS total FROM movement GROUP BY lot, location) m "
        "ON m.lot = sl.lot AND m.location = sl.location "
        "WHERE COALESCE(m.total, 0) <> sl.on_hand"
    )
    orphans = await sql.fetchrow(
        "SELECT COUNT(*) AS n FROM (SELECT DISTINCT lot, location FROM movement) m "
        "WHERE NOT EXISTS (SELECT 1 FROM stock_level sl WHERE sl.lot = m.lot AND sl.location = m.location)"
    )
    return int(row["n"] if row else 0) + int(orphans["n"] if orphans else 0)


async def negative_balances() -> int:
    """Movements after which their lot's stock at that place would be below zero."""
    row = await sql.fetchrow(
        "SELECT COUNT(*) AS n FROM (SELECT SUM(quantity) OVER (PARTITION BY lot, location ORDER BY at, id) "
        "AS running FROM movement) r WHERE r.running < 0"
    )
    return int(row["n"] if row else 0)
