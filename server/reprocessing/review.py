"""The inspector's review (read-only): the loads log, its CSV laid out like the PHO sterilization
monitoring log, the day's missing entries, and traceability both ways (visits by load, loads by visit)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from server import sql
from server.core.audit import chain_for
from server.core.service import site_zone
from server.core.tables import AuditEvent
from server.db import is_sqlite
from server.reprocessing import export_pg, export_sqlite, paging
from server.reprocessing.export_sql import RESULT_COLUMNS, csv_text
from server.reprocessing.loads import correction_read, load_read, pack_counts, read_loads, use_read
from server.reprocessing.rules import LoadStatus, SterilizerKind
from server.reprocessing.schemas import (
    LoadCorrectionRead,
    LoadPage,
    LoadRead,
    MissingItem,
    MissingRead,
    SettingsRead,
    VisitRead,
)
from server.reprocessing.tables import (
    BowieDickTest,
    Load,
    LoadCorrection,
    Pack,
    ReprocessingSetting,
    Sterilizer,
    Use,
)


@dataclass(frozen=True)
class LoadFilter:
    sterilizer_id: int | None = None
    from_day: date | None = None
    to_day: date | None = None  # inclusive
    status: LoadStatus | None = None


def day_bounds(
    tz: Any, from_day: date | None, to_day: date | None
) -> tuple[datetime | None, datetime | None]:
    """Local days at the site as a half-open UTC range (a load's day is the local day it started)."""
    start = datetime.combine(from_day, time(0), tzinfo=tz) if from_day else None
    end = datetime.combine(to_day + timedelta(days=1), time(0), tzinfo=tz) if to_day else None
    return start, end


async def load_rows(
    site_id: int, f: LoadFilter, *, cursor: str = "", limit: int = paging.DEFAULT_LIMIT
) -> list[dict[str, Any]]:
    """One keyset page of load rows (limit + 1, to tell whether there is more), oldest first."""
    start, end = day_bounds(await site_zone(site_id), f.from_day, f.to_day)
    where: Any = Load.site == site_id
    if f.sterilizer_id is not None:
        where &= Load.sterilizer == f.sterilizer_id
    if start is not None:
        where &= Load.started_at >= start
    if end is not None:
        where &= Load.started_at < end
    if f.status is not None:
        where &= Load.status == f.status.value
    if cursor:
        where &= paging.after(Load.started_at, Load.id, cursor)
    query = Load.select().where(where).order_by(Load.started_at).order_by(Load.id)
    return list(await query.limit(limit + 1))


async def list_loads(
    site_id: int, f: LoadFilter, *, cursor: str = "", limit: int = paging.DEFAULT_LIMIT
) -> LoadPage:
    rows = await load_rows(site_id, f, cursor=cursor, limit=limit)
    return LoadPage(
        loads=await read_loads(site_id, rows[:limit]),
        next_cursor=paging.next_cursor(rows, limit, "started_at"),
    )


async def each_load_page(site_id: int, f: LoadFilter) -> AsyncIterator[list[LoadRead]]:
    """Every load of the filter, a page at a time (exports: memory stays flat however long the range)."""
    cursor = ""
    while True:
        page = await list_loads(site_id, f, cursor=cursor, limit=paging.EXPORT_PAGE)
        if page.loads:
            yield page.loads
        if not page.next_cursor:
            return
        cursor = page.next_cursor


CSV_HEADER = [
    "sterilizer",
    "model",
    "serial",
    "date",
    "time",
    "load_number",
    "cycle_type",
    "contents",
    "implant",
    "time_temp_pressure_met",
    *RESULT_COLUMNS,
    "bi_read_at",
    "operator_initials",
    "released_by",
    "released_at",
    "status",
    "comment",
    "corrections",
]


async def export_csv(site_id: int, f: LoadFilter) -> AsyncGenerator[str | bytes, None]:
    """One row per load, the PHO log's columns (and the corrections of its results), then the
    audit-chain head of the covered range. The database writes the rows (export_pg, export_sqlite):
    a million loads stream with flat memory."""
    tz = await site_zone(site_id)
    start, end = day_bounds(tz, f.from_day, f.to_day)
    where, args = load_where(site_id, f, start, end)
    fixes = await correction_cells(where, args, tz)
    yield ",".join(CSV_HEADER) + "\n"
    lines: AsyncGenerator[str | bytes, None] = (
        export_sqlite.lines(where, args, tz, fixes)
        if is_sqlite()
        else export_pg.copy_lines(where, args, tz.key, fixes)
    )
    async with aclosing(lines):  # closed with this one: a reader gone stops the database's work
        async for chunk in lines:
            yield chunk
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([])
    writer.writerow(["audit_chain", *await chain_range(site_id, f, tz)])
    yield out.getvalue()


def load_where(
    site_id: int, f: LoadFilter, start: datetime | None, end: datetime | None
) -> tuple[str, list[Any]]:
    """``load_rows``'s filter as SQL on ``rp_load l`` with Piccolo's ``{}`` placeholders, and its
    arguments (``start``/``end``: the local days as UTC bounds)."""
    parts, args = ["l.site = {}"], list[Any]([site_id])
    if f.sterilizer_id is not None:
        parts.append("l.sterilizer = {}")
        args.append(f.sterilizer_id)
    if start is not None:
        parts.append("l.started_at >= {}")
        args.append(start)
    if end is not None:
        parts.append("l.started_at < {}")
        args.append(end)
    if f.status is not None:
        parts.append("l.status = {}")
        args.append(f.status.value)
    return " AND ".join(parts), args


async def correction_cells(where: str, args: list[Any], tz: Any) -> dict[int, str]:
    """The corrections cell of every corrected load of the export (few: corrections are rare),
    in one query, worded as ``correction_lines`` words them."""
    rows = await sql.fetch(
        "SELECT c.* FROM rp_load_correction c JOIN rp_load l ON l.id = c.load "  # noqa: S608
        f"WHERE {where} ORDER BY c.at, c.id",
        *args,
    )
    found: dict[int, list[str]] = {}
    for r in rows:
        fix = correction_read(r)
        found.setdefault(fix.load_id, []).append(correction_line(fix, tz))
    return {load: csv_text(" | ".join(lines)) for load, lines in found.items()}


async def correction_lines(load_ids: list[int], tz: Any) -> dict[int, list[str]]:
    """Each load's corrections in words: "correction 3, 2026-05-04 10:12 by Mgr: bi_result negative →
    positive (reason)" so a reader of the copy sees what was first recorded."""
    found: dict[int, list[str]] = {}
    if not load_ids:
        return found
    rows = (
        await LoadCorrection.select()
        .where(LoadCorrection.load.is_in(load_ids))
        .order_by(LoadCorrection.at)
        .order_by(LoadCorrection.id)
    )
    for r in rows:
        fix = correction_read(r)
        found.setdefault(fix.load_id, []).append(correction_line(fix, tz))
    return found


def correction_line(fix: LoadCorrectionRead, tz: Any) -> str:
    changed = ", ".join(
        f"{k} {fix.before.get(k, '') or '—'} → {v or '—'}"
        for k, v in fix.after.items()
        if fix.before.get(k) != v
    )
    return (
        f"correction {fix.id}, {fix.at.astimezone(tz).strftime('%Y-%m-%d %H:%M')} by {fix.actor_name}: "
        f"{changed or 'no change'} ({fix.reason})"
    )


async def load_contents(load_ids: list[int]) -> dict[int, list[str]]:
    """Each load's packs as "device (label code)"."""
    contents: dict[int, list[str]] = {}
    if load_ids:
        packs = (
            await Pack.select(Pack.load, Pack.label_code, Pack.device._.name.as_alias("name"))
            .where(Pack.load.is_in(load_ids))
            .order_by(Pack.id)
        )
        for p in packs:
            contents.setdefault(p["load"], []).append(f"{p['name']} ({p['label_code']})")
    return contents


async def chain_range(site_id: int, f: LoadFilter, tz: Any) -> list[str]:
    """The site chain's events in the covered days: first and last seq and the last hash. Anyone
    with `clinitrack audit verify` can check the chain still ends in this hash at that seq."""
    where: Any = AuditEvent.chain == chain_for(site_id)
    if f.from_day is not None:
        where &= AuditEvent.at >= datetime.combine(f.from_day, time(0), tzinfo=tz)
    if f.to_day is not None:
        where &= AuditEvent.at < datetime.combine(f.to_day + timedelta(days=1), time(0), tzinfo=tz)

    # Two queries: Piccolo's order_by adds to a query in place, so one query reused for "first" and
    # "last" would keep the first ordering and print the first event's hash as the last.
    def ends(ascending: bool) -> Any:
        return (
            AuditEvent.select(AuditEvent.seq, AuditEvent.hash)
            .where(where)
            .order_by(AuditEvent.seq, ascending=ascending)
            .first()
        )

    first, last = await ends(True), await ends(False)
    if first is None or last is None:
        return [chain_for(site_id), "no events"]
    return [chain_for(site_id), f"seq {first['seq']}-{last['seq']}", f"hash {last['hash']}"]


async def missing(site_id: int, day: date) -> MissingRead:
    """What the day's log is missing, per sterilizer used that day."""
    return (await missing_many({site_id: day}))[site_id]


async def missing_many(days: dict[int, date]) -> dict[int, MissingRead]:
    """``missing`` for many sites at once, each on its own local day: five queries however many
    sites (the alert sweep asks for every site)."""
    sites = list(days)
    wanted = sorted(set(days.values()))
    settings = {
        int(r["site"]): SettingsRead(
            bi_first_load_per_cycle_type=r["bi_first_load_per_cycle_type"],
            bowie_dick_daily=r["bowie_dick_daily"],
            release_before_bi=r["release_before_bi"],
        )
        for r in await ReprocessingSetting.select().where(ReprocessingSetting.site.is_in(sites))
    }
    loads = [
        r
        for r in await Load.select()
        .where(Load.site.is_in(sites) & Load.day.is_in(wanted) & (Load.purpose == "load"))
        .order_by(Load.started_at)
        if r["day"] == days[int(r["site"])]
    ]
    used = {int(r["sterilizer"]) for r in loads}
    sterilizers = (
        await Sterilizer.select().where(Sterilizer.id.is_in(list(used))).order_by(Sterilizer.name)
        if used
        else []
    )
    passed = {
        (int(r["sterilizer"]), r["day"])
        for r in await BowieDickTest.select(BowieDickTest.sterilizer, BowieDickTest.day).where(
            BowieDickTest.site.is_in(sites) & BowieDickTest.day.is_in(wanted) & BowieDickTest.passed.eq(True)
        )
    }
    counts = await pack_counts([r["id"] for r in loads])
    found = {site_id: MissingRead(day=day, items=[]) for site_id, day in days.items()}
    for st in sterilizers:
        site_id = int(st["site"])
        day = days[site_id]
        rules_ = settings.get(site_id, SettingsRead())
        mine = [r for r in loads if r["sterilizer"] == st["id"]]
        found[site_id].items.extend(_gaps(st, mine, rules_, (int(st["id"]), day) in passed, counts))
    return found


def _gaps(
    st: dict[str, Any],
    mine: list[dict[str, Any]],
    settings: SettingsRead,
    bd_passed: bool,
    counts: dict[int, int],
) -> list[MissingItem]:
    """One sterilizer's gaps on a day it was used (``mine``: its loads that day)."""
    name = st["name"]
    items: list[MissingItem] = []
    if not any(r["bi_lot"] for r in mine):
        items.append(
            MissingItem(
                code="no_bi",
                sterilizer_id=st["id"],
                sterilizer_name=name,
                message="Used today with no biological indicator.",
            )
        )
    if settings.bowie_dick_daily and st["kind"] == SterilizerKind.PRE_VACUUM.value and not bd_passed:
        items.append(
            MissingItem(
                code="no_bowie_dick",
                sterilizer_id=st["id"],
                sterilizer_name=name,
                message="Pre-vacuum sterilizer used with no passing Bowie-Dick test today.",
            )
        )
    for r in mine:
        read = load_read(r, name, counts.get(r["id"], 0), settings.release_before_bi)
        if r["status"] in (LoadStatus.OPEN.value, LoadStatus.HELD.value):
            items.append(
                MissingItem(
                    code="unreleased_load",
                    sterilizer_id=st["id"],
                    sterilizer_name=name,
                    load_id=r["id"],
                    message=f"Load {r['load_number']} is not released: " + " ".join(read.release_problems),
                )
            )
        if r["bi_result"] == "pending":
            items.append(
                MissingItem(
                    code="bi_unread",
                    sterilizer_id=st["id"],
                    sterilizer_name=name,
                    load_id=r["id"],
                    message=f"Load {r['load_number']}: the BI result is not recorded.",
                )
            )
    return items


async def visit(site_id: int, visit_code: str) -> VisitRead:
    """Loads by visit: what was used at one visit, and the loads it came from."""
    uses = await Use.select().where((Use.site == site_id) & (Use.visit_code == visit_code)).order_by(Use.at)
    corrected = (
        {
            r["corrects"]
            for r in await Use.select(Use.corrects).where(Use.corrects.is_in([u["id"] for u in uses]))
        }
        if uses
        else set()
    )
    # A use whose visit code was corrected to another visit no longer ties its load to this one.
    load_ids = sorted({u["load"] for u in uses if u["load"] is not None and u["id"] not in corrected})
    rows = await Load.select().where(Load.id.is_in(load_ids)) if load_ids else []
    return VisitRead(
        visit_code=visit_code,
        uses=[use_read(u, corrected=u["id"] in corrected) for u in uses],
        loads=await read_loads(site_id, rows),
    )
