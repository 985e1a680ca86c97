"""The loads CSV on SQLite: one raw query per large keyset page, SQLite writing the cells
(server.reprocessing.export_sql) and Python adding what SQLite cannot do: local times (SQLite
has no time zones) and each load's contents (its group_concat has no ORDER BY before 3.44).

Local times: the UTC offset is looked up once per UTC hour of the range, not per row; an hour
with a change of offset inside it is converted row by row.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from server import sql
from server.reprocessing.export_sql import (
    RESULT_COLUMNS,
    SQLITE,
    bi_test_default,
    csv_text,
    int_cell,
    joined,
    text_cell,
    yes_no,
)

PAGE = 2000  # loads a query: the page and its lines are all the export holds at once
_ZERO = timedelta(0)
_MINUTE = "%Y-%m-%d %H:%M"


def _cells(*cells: str) -> str:
    return joined(list(cells))


_RESULTS = _cells(
    yes_no("l.implant"),
    yes_no("l.physical_met"),
    *(text_cell(f"l.{name}", SQLITE) for name in RESULT_COLUMNS),
)
# CAST(... AS TEXT): the stored text as it is, without the engine's conversion to datetime.
_STERILIZER = _cells(text_cell("s.name", SQLITE), text_cell("s.model", SQLITE), text_cell("s.serial", SQLITE))
_SELECT = (
    "SELECT l.id AS id, CAST(l.started_at AS TEXT) AS at, CAST(l.bi_read_at AS TEXT) AS bi_at, "  # noqa: S608
    "CAST(l.released_at AS TEXT) AS released_at, "
    f"{_STERILIZER} || ',' || CAST(l.day AS TEXT) AS a, "
    f"{_cells(int_cell('l.load_number'), text_cell('l.cycle_type', SQLITE))} AS b, "
    f"{bi_test_default('l.purpose')} AS no_packs, {_RESULTS} AS c, "
    f"{_cells(text_cell('l.operator_initials', SQLITE), text_cell('l.releaser_name', SQLITE))} AS d, "
    f"{_cells(text_cell('l.status', SQLITE), text_cell('l.comment', SQLITE))} AS e "
    "FROM rp_load l JOIN rp_sterilizer s ON s.id = l.sterilizer WHERE "
)
_PACKS = (
    "SELECT p.load AS load, d.name AS name, p.label_code AS code FROM rp_pack p "
    "JOIN rp_device d ON d.id = p.device WHERE p.load IN (SELECT value FROM json_each({})) ORDER BY p.id"
)


class LocalTimes:
    """Stored UTC texts ("2026-03-08 07:30:00+00:00") as the site's local "YYYY-MM-DD HH:MM"."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.offsets: dict[str, timedelta | None] = {}

    def minute(self, stored: str | None) -> str:
        if not stored:
            return ""
        at = datetime.fromisoformat(stored)
        if at.utcoffset() != _ZERO:  # not as Piccolo stores it: read it as Piccolo would, row by row
            return (at.replace(tzinfo=UTC) if at.tzinfo is None else at).astimezone(self.tz).strftime(_MINUTE)
        hour = stored[:13]
        if hour not in self.offsets:
            if len(self.offsets) > 50_000:
                self.offsets.clear()
            start = at.replace(minute=0, second=0, microsecond=0)
            first = start.astimezone(self.tz).utcoffset()
            last = (start + timedelta(hours=1, microseconds=-1)).astimezone(self.tz).utcoffset()
            self.offsets[hour] = first if first == last else None
        offset = self.offsets[hour]
        local = at.astimezone(self.tz) if offset is None else at + offset
        return local.replace(tzinfo=None).isoformat(" ", "minutes")


async def _contents(ids: list[int]) -> dict[int, str]:
    names: dict[int, list[str]] = {}
    for p in await sql.fetch(_PACKS, json.dumps(ids)):
        names.setdefault(p["load"], []).append(f"{p['name']} ({p['code']})")
    return {load: csv_text("; ".join(found)) for load, found in names.items()}


async def lines(where: str, args: list[Any], tz: tzinfo, fixes: dict[int, str]) -> AsyncGenerator[str, None]:
    """The export's CSV lines, a page of ``PAGE`` loads at a time."""
    times = LocalTimes(tz)
    after, values = "", args
    while True:
        page = await sql.fetch(f"{_SELECT}{where}{after} ORDER BY l.started_at, l.id LIMIT {PAGE}", *values)
        if not page:
            return
        contents = await _contents([r["id"] for r in page])
        yield "".join(
            [
                f"{r['a']},{times.minute(r['at'])[11:]},{r['b']},{contents.get(r['id']) or r['no_packs']},"
                f"{r['c']},{times.minute(r['bi_at'])},{r['d']},{times.minute(r['released_at'])},{r['e']},"
                f"{fixes.get(r['id'], '')}\n"
                for r in page
            ]
        )
        if len(page) < PAGE:
            return
        # The next page starts after this one's last (time, id), compared as stored.
        after = " AND (l.started_at > {} OR (l.started_at = {} AND l.id > {}))"
        values = [*args, page[-1]["at"], page[-1]["at"], page[-1]["id"]]
