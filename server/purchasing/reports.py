"""Reports from the stock ledger: wastage by month, reason and item; usage by month and item.

Months are the site's local calendar months. Quantities are units; the catalog has no prices yet,
so there is no cost column.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from server import sql
from server.core.service import site_zone
from server.csvcell import cell
from server.errors import InvalidInput

_MOVES = """
SELECT m.at, m.quantity, m.reason, i.id AS item_id, i.name AS item_name
FROM movement m JOIN lot l ON l.id = m.lot JOIN item i ON i.id = l.item
WHERE m.site = {} AND m.kind = {} AND m.at >= {} AND m.at < {}
"""


def _window(from_date: date | None, to_date: date | None, today: date) -> tuple[date, date]:
    end = to_date or today
    start = from_date or date(end.year - 1, end.month, 1)
    if start > end:
        raise InvalidInput(
            "The start day is after the end day.",
            code="bad_period",
            fields=[{"field": "from_date", "message": "is after to_date"}],
        )
    return start, end


async def _rows(
    site_id: int, kind: str, from_date: date | None, to_date: date | None, now: datetime
) -> list[tuple[str, str, int, str]]:
    """(month, reason, units, item name) per movement of ``kind``, units positive."""
    tz = await site_zone(site_id)
    start, end = _window(from_date, to_date, now.astimezone(tz).date())
    since = datetime.combine(start, time(0), tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)
    rows = await sql.fetch(_MOVES, site_id, kind, since, until)
    out = []
    for r in rows:
        at = r["at"]
        if isinstance(at, str):  # SQLite hands raw timestamps back as text
            at = datetime.fromisoformat(at)
        out.append(
            (
                at.astimezone(tz).strftime("%Y-%m"),
                str(r["reason"] or ""),
                -int(r["quantity"]),
                str(r["item_name"]),
            )
        )
    return out


def wastage_table(rows: list[tuple[str, str, int, str]]) -> list[list[object]]:
    totals: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for month, reason, units, item in rows:
        entry = totals[(month, reason or "other", item)]
        entry[0] += units
        entry[1] += 1
    return [[m, r, i, u, n] for (m, r, i), (u, n) in sorted(totals.items())]


def usage_table(rows: list[tuple[str, str, int, str]]) -> list[list[object]]:
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for month, _reason, units, item in rows:
        totals[(month, item)] += units
    return [[m, i, u] for (m, i), u in sorted(totals.items())]


def _csv(header: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


async def wastage_csv(site_id: int, from_date: date | None, to_date: date | None, *, now: datetime) -> str:
    rows = await _rows(site_id, "waste", from_date, to_date, now)
    return _csv(["month", "reason", "item", "units", "records"], wastage_table(rows))


async def usage_csv(site_id: int, from_date: date | None, to_date: date | None, *, now: datetime) -> str:
    rows = await _rows(site_id, "use", from_date, to_date, now)
    return _csv(["month", "item", "units"], usage_table(rows))
