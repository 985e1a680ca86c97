"""The inspector's review lists besides the loads (read-only, keyset pages, oldest first): the
reprocessing records (steps), the HLD log, the sterilizers' log books and Bowie-Dick tests. Each
page is one indexed range query plus one query for what it links to: no query per row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from server.core.service import site_zone
from server.reprocessing import paging
from server.reprocessing.devices import step_read
from server.reprocessing.review import day_bounds
from server.reprocessing.rules import Status, StepKind
from server.reprocessing.schemas import (
    BowieDickPage,
    BowieDickRead,
    HldPage,
    HldRecordRead,
    LogEntryRow,
    LogPage,
    StepPage,
)
from server.reprocessing.tables import BowieDickTest, HldRecord, Step, SterilizerLogEntry


@dataclass(frozen=True)
class RecordFilter:
    from_day: date | None = None
    to_day: date | None = None  # inclusive
    device_id: int | None = None
    sterilizer_id: int | None = None
    step: StepKind | None = None
    status: Status | None = None  # a step's resulting status
    passed: bool | None = None  # Bowie-Dick tests


async def _range(site_id: int, at: Any, f: RecordFilter) -> Any:
    start, end = day_bounds(await site_zone(site_id), f.from_day, f.to_day)
    where: Any = None
    if start is not None:
        where = at >= start
    if end is not None:
        where = (at < end) if where is None else where & (at < end)
    return where


def _and(where: Any, more: Any) -> Any:
    return more if where is None else where & more


async def steps(
    site_id: int, f: RecordFilter, *, cursor: str = "", limit: int = paging.DEFAULT_LIMIT
) -> StepPage:
    where = _and(await _range(site_id, Step.at, f), Step.site == site_id)
    if f.device_id is not None:
        where &= Step.device == f.device_id
    if f.step is not None:
        where &= Step.step == f.step.value
    if f.status is not None:
        where &= Step.to_status == f.status.value
    if cursor:
        where &= paging.after(Step.at, Step.id, cursor)
    rows = await (
        Step.select(*Step.all_columns(), Step.device._.name.as_alias("device_name"))
        .where(where)
        .order_by(Step.at)
        .order_by(Step.id)
        .limit(limit + 1)
    )
    page = rows[:limit]
    ids = [r["id"] for r in page]
    by: dict[int, int] = {}
    if ids:  # the corrections of this page's steps, in one query (they may be on a later page)
        for r in await Step.select(Step.id, Step.corrects).where(Step.corrects.is_in(ids)):
            by[int(r["corrects"])] = int(r["id"])
    return StepPage(
        steps=[step_read({**r, "corrected_by": by.get(r["id"])}) for r in page],
        next_cursor=paging.next_cursor(rows, limit, "at"),
    )


async def hld_log(
    site_id: int, f: RecordFilter, *, cursor: str = "", limit: int = paging.DEFAULT_LIMIT
) -> HldPage:
    """The HLD log: device, time, operator, solution and lot, MEC result and strip, soak, temperature."""
    where = _and(await _range(site_id, HldRecord.at, f), HldRecord.site == site_id)
    if f.device_id is not None:
        where &= HldRecord.device == f.device_id
    if cursor:
        where &= paging.after(HldRecord.at, HldRecord.id, cursor)
    rows = await (
        HldRecord.select(
            HldRecord.id,
            HldRecord.device,
            HldRecord.device._.name.as_alias("device_name"),
            HldRecord.solution,
            HldRecord.solution._.product.as_alias("product"),
            HldRecord.solution._.lot.as_alias("lot"),
            HldRecord.solution._.expires_on.as_alias("expires_on"),
            HldRecord.mec_test._.passed.as_alias("mec_passed"),
            HldRecord.mec_test._.strip_lot.as_alias("strip_lot"),
            HldRecord.mec_test._.strip_expires_on.as_alias("strip_expires_on"),
            HldRecord.soak_minutes,
            HldRecord.temperature_c,
            HldRecord.actor_name,
            HldRecord.at,
        )
        .where(where)
        .order_by(HldRecord.at)
        .order_by(HldRecord.id)
        .limit(limit + 1)
    )
    return HldPage(
        records=[
            HldRecordRead(
                id=r["id"],
                device_id=r["device"],
                device_name=r["device_name"],
                solution_id=r["solution"],
                product=r["product"],
                lot=r["lot"],
                expires_on=r["expires_on"],
                mec_passed=r["mec_passed"],
                strip_lot=r["strip_lot"],
                strip_expires_on=r["strip_expires_on"],
                soak_minutes=r["soak_minutes"],
                temperature_c=r["temperature_c"],
                operator=r["actor_name"],
                at=r["at"],
            )
            for r in rows[:limit]
        ],
        next_cursor=paging.next_cursor(rows, limit, "at"),
    )


async def log_book(
    site_id: int, f: RecordFilter, *, cursor: str = "", limit: int = paging.DEFAULT_LIMIT
) -> LogPage:
    """Every sterilizer's log book (maintenance, repair, out of and back in service)."""
    where = _and(await _range(site_id, SterilizerLogEntry.at, f), SterilizerLogEntry.site == site_id)
    if f.sterilizer_id is not None:
        where &= SterilizerLogEntry.sterilizer == f.sterilizer_id
    if cursor:
        where &= paging.after(SterilizerLogEntry.at, SterilizerLogEntry.id, cursor)
    rows = await (
        SterilizerLogEntry.select(
            *SterilizerLogEntry.all_columns(),
            SterilizerLogEntry.sterilizer._.name.as_alias("sterilizer_name"),
        )
        .where(where)
        .order_by(SterilizerLogEntry.at)
        .order_by(SterilizerLogEntry.id)
        .limit(limit + 1)
    )
    return LogPage(
        entries=[
            LogEntryRow(
                id=r["id"],
                sterilizer_id=r["sterilizer"],
                sterilizer_name=r["sterilizer_name"],
                kind=r["kind"],
                note=r["note"],
                actor_name=r["actor_name"],
                at=r["at"],
            )
            for r in rows[:limit]
        ],
        next_cursor=paging.next_cursor(rows, limit, "at"),
    )


async def bowie_dick(
    site_id: int, f: RecordFilter, *, cursor: str = "", limit: int = paging.DEFAULT_LIMIT
) -> BowieDickPage:
    where = _and(await _range(site_id, BowieDickTest.at, f), BowieDickTest.site == site_id)
    if f.sterilizer_id is not None:
        where &= BowieDickTest.sterilizer == f.sterilizer_id
    if f.passed is not None:
        where &= BowieDickTest.passed == f.passed
    if cursor:
        where &= paging.after(BowieDickTest.at, BowieDickTest.id, cursor)
    rows = await (
        BowieDickTest.select()
        .where(where)
        .order_by(BowieDickTest.at)
        .order_by(BowieDickTest.id)
        .limit(limit + 1)
    )
    return BowieDickPage(
        tests=[
            BowieDickRead(
                id=r["id"],
                sterilizer_id=r["sterilizer"],
                day=r["day"],
                passed=r["passed"],
                initials=r["initials"],
                actor_name=r["actor_name"],
                at=r["at"],
            )
            for r in rows[:limit]
        ],
        next_cursor=paging.next_cursor(rows, limit, "at"),
    )
