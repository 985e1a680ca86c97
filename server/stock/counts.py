"""Stock counts: snapshot one place, record what is counted, post the differences through the ledger.

A count is open until posted or cancelled; one open count per place. The snapshot's ``expected`` is
the on hand at the start, but posting adjusts to the counted quantity from the CURRENT on hand, so a
use between the start and the post is not counted twice. Every write locks the count's row, so lines
and the post serialize on PostgreSQL (SQLite's IMMEDIATE transaction already does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from server.core import audit
from server.core.auth import Principal
from server.core.tables import Location
from server.db import is_sqlite, write_transaction
from server.errors import Conflict, InvalidInput, NotFound
from server.stock import ledger
from server.stock.rules import AdjustReason, LotStatus, MovementKind
from server.stock.schemas_counts import (
    CountAdjustment,
    CountDetail,
    CountLineIn,
    CountLineRead,
    CountPost,
    CountPostResult,
    CountStart,
    CountStatus,
    CountSummary,
)
from server.stock.tables import Lot, StockCount, StockCountLine, StockLevel

# --- pure rules -------------------------------------------------------------------------------------


def variance(counted: int | None, on_hand: int) -> int | None:
    """Counted minus what the ledger holds now; None while the line is not counted."""
    return None if counted is None else counted - on_hand


@dataclass(frozen=True)
class PlannedAdjust:
    lot_id: int
    on_hand: int
    counted: int
    reason: AdjustReason

    @property
    def delta(self) -> int:
        return self.counted - self.on_hand


@dataclass(frozen=True)
class PostPlan:
    adjust: list[PlannedAdjust]
    matched: list[int]
    not_counted: list[int]


def plan_post(
    counted: Mapping[int, int | None], on_hand: Mapping[int, int], reasons: Mapping[int, AdjustReason]
) -> PostPlan:
    """Which lines move stock: counted ones that differ from the current on hand (default reason
    "count"); counted lines that match need nothing, uncounted lines are left alone."""
    adjust, matched, not_counted = [], [], []
    for lot_id in sorted(counted):
        value = counted[lot_id]
        if value is None:
            not_counted.append(lot_id)
        elif value == on_hand.get(lot_id, 0):
            matched.append(lot_id)
        else:
            reason = reasons.get(lot_id, AdjustReason.COUNT)
            adjust.append(PlannedAdjust(lot_id, on_hand.get(lot_id, 0), value, reason))
    return PostPlan(adjust, matched, not_counted)


def stray_reasons(lot_ids: set[int], reasons: Mapping[int, AdjustReason]) -> list[int]:
    """Reasons given for lots that are not on the count (a typo the manager should see)."""
    return sorted(set(reasons) - lot_ids)


def check_line_target(data: CountLineIn) -> None:
    """A line names its lot by id, or (from a scan) by item and lot number, never both."""
    by_scan = data.item_id is not None or data.lot_number is not None
    if data.lot_id is not None and by_scan:
        raise InvalidInput(
            "Give lot_id, or item_id with lot_number, not both.",
            code="line_target",
            fields=[{"field": "lot_id", "message": "is given together with item_id/lot_number"}],
        )
    if data.lot_id is None and (data.item_id is None or not (data.lot_number or "").strip()):
        raise InvalidInput(
            "Give lot_id, or item_id with lot_number.",
            code="line_target",
            fields=[{"field": "lot_id", "message": "or item_id with lot_number is required"}],
        )


# --- reads ------------------------------------------------------------------------------------------

_COUNT_COLUMNS = (*StockCount.all_columns(), StockCount.location.name)


def _summary(row: dict[str, Any], lines: int, counted: int) -> CountSummary:
    return CountSummary(
        id=row["id"],
        location_id=row["location"],
        location_name=row["location.name"],
        status=CountStatus(row["status"]),
        note=row["note"],
        started_by=row["started_by"],
        started_at=row["started_at"],
        closed_by=row["posted_by"],
        closed_at=row["posted_at"],
        lines=lines,
        counted=counted,
    )


async def _tallies(count_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Lines and counted lines per count, in one query."""
    found = dict.fromkeys(count_ids, (0, 0))
    if not count_ids:
        return found
    rows = await StockCountLine.select(StockCountLine.count, StockCountLine.counted).where(
        StockCountLine.count.is_in(count_ids)
    )
    for r in rows:
        lines, counted = found[int(r["count"])]
        found[int(r["count"])] = (lines + 1, counted + (r["counted"] is not None))
    return found


async def list_counts(
    site_id: int, *, status: CountStatus | None = None, before: int | None = None, limit: int = 100
) -> list[CountSummary]:
    query = StockCount.select(*_COUNT_COLUMNS).where(StockCount.site == site_id)
    if status is not None:
        query = query.where(StockCount.status == status.value)
    if before is not None:
        query = query.where(StockCount.id < before)
    rows = await query.order_by(StockCount.id, ascending=False).limit(limit)
    tallies = await _tallies([int(r["id"]) for r in rows])
    return [_summary(r, *tallies[int(r["id"])]) for r in rows]


async def _count_row(site_id: int, count_id: int) -> dict[str, Any]:
    row = (
        await StockCount.select(*_COUNT_COLUMNS)
        .where((StockCount.id == count_id) & (StockCount.site == site_id))
        .first()
    )
    if row is None:
        raise NotFound("This count is not known at this site.", code="count_not_found")
    return dict(row)


async def _lines(count: dict[str, Any], lot_id: int | None = None) -> list[CountLineRead]:
    query = (
        StockCountLine.select(
            *StockCountLine.all_columns(),
            StockCountLine.lot.item,
            StockCountLine.lot.item.name,  # type: ignore[union-attr]
            StockCountLine.lot.lot_number,
            StockCountLine.lot.serial,
            StockCountLine.lot.expiry,
            StockCountLine.lot.status,
        )
        .where(StockCountLine.count == count["id"])
        .order_by(StockCountLine.lot.item.name)  # type: ignore[union-attr]
        .order_by(StockCountLine.lot.expiry, StockCountLine.lot.lot_number, StockCountLine.id)
    )
    if lot_id is not None:
        query = query.where(StockCountLine.lot == lot_id)
    rows = await query
    levels = await _levels(count["location"], [int(r["lot"]) for r in rows])
    return [_line(r, levels.get(int(r["lot"]), 0)) for r in rows]


async def _levels(location_id: int, lot_ids: list[int]) -> dict[int, int]:
    if not lot_ids:
        return {}
    rows = await StockLevel.select(StockLevel.lot, StockLevel.on_hand).where(
        (StockLevel.location == location_id) & StockLevel.lot.is_in(lot_ids)
    )
    return {int(r["lot"]): int(r["on_hand"]) for r in rows}


def _line(r: dict[str, Any], on_hand: int) -> CountLineRead:
    return CountLineRead(
        lot_id=r["lot"],
        item_id=r["lot.item"],
        item_name=r["lot.item.name"],
        lot_number=r["lot.lot_number"],
        serial=r["lot.serial"],
        expiry=r["lot.expiry"],
        lot_status=LotStatus(r["lot.status"]),
        expected=r["expected"],
        counted=r["counted"],
        on_hand=on_hand,
        variance=variance(r["counted"], on_hand),
        reason=r["reason"],
        counted_by=r["counted_by"],
        counted_at=r["counted_at"],
        found=r["expected"] == 0,
    )


async def get_count(site_id: int, count_id: int) -> CountDetail:
    count = await _count_row(site_id, count_id)
    lines = await _lines(count)
    return CountDetail(
        count=_summary(count, len(lines), sum(line.counted is not None for line in lines)), lines=lines
    )


# --- writes -----------------------------------------------------------------------------------------


async def _audit(
    principal: Principal, site_id: int, action: str, count_id: int, payload: dict[str, Any], now: datetime
) -> None:
    await audit.append(
        actor=principal.actor,
        site_id=site_id,
        action=action,
        entity="stock_count",
        entity_id=count_id,
        payload=payload,
        now=now,
    )


async def _lock_open(site_id: int, count_id: int) -> dict[str, Any]:
    """The count's row, locked for this write on PostgreSQL; refuses a posted or cancelled count."""
    if not is_sqlite():
        await (
            StockCount.select(StockCount.id)
            .where((StockCount.id == count_id) & (StockCount.site == site_id))
            .lock_rows("NO KEY UPDATE")
        )
    count = await _count_row(site_id, count_id)
    if count["status"] != CountStatus.OPEN:
        raise Conflict(
            f"This count is already {count['status']}; start a new count to count again.",
            code="count_closed",
        )
    return count


async def _snapshot(site_id: int, count_id: int, location_id: int) -> dict[int, int]:
    """A line per lot with stock in the place; expected = its on hand now."""
    levels = await StockLevel.select(StockLevel.lot, StockLevel.on_hand).where(
        (StockLevel.location == location_id) & (StockLevel.on_hand > 0)
    )
    snapshot = {int(r["lot"]): int(r["on_hand"]) for r in levels}
    if snapshot:
        await StockCountLine.insert(
            *[
                StockCountLine(site=site_id, count=count_id, lot=lot, expected=n, reason="", counted_by="")
                for lot, n in sorted(snapshot.items())
            ]
        )
    return snapshot


async def start(principal: Principal, site_id: int, data: CountStart, *, now: datetime) -> CountDetail:
    async with write_transaction():
        await ledger.location_row(site_id, data.location_id)
        if not is_sqlite():  # two starts for one place queue here, then see each other's count
            await (
                Location.select(Location.id).where(Location.id == data.location_id).lock_rows("NO KEY UPDATE")
            )
        already = (
            await StockCount.select(StockCount.id)
            .where((StockCount.location == data.location_id) & (StockCount.status == CountStatus.OPEN.value))
            .first()
        )
        if already is not None:
            raise Conflict(
                f"Count {already['id']} of this place is still open; finish or cancel it first.",
                code="count_open",
            )
        inserted = await StockCount.insert(
            StockCount(
                site=site_id,
                location=data.location_id,
                status=CountStatus.OPEN.value,
                started_by=principal.actor,
                started_at=now,
                posted_by="",
                note=data.note,
            )
        ).returning(StockCount.id)
        count_id = int(inserted[0]["id"])
        snapshot = await _snapshot(site_id, count_id, data.location_id)
        expected = {str(k): v for k, v in snapshot.items()}
        await _audit(
            principal,
            site_id,
            "count.start",
            count_id,
            {"location_id": data.location_id, "expected": expected},
            now,
        )
        return await get_count(site_id, count_id)


async def _line_lot(site_id: int, data: CountLineIn) -> dict[str, Any]:
    if data.lot_id is not None:
        return await ledger.lot_row(site_id, data.lot_id)
    number = (data.lot_number or "").strip()
    row = (
        await Lot.select()
        .where(
            (Lot.site == site_id)
            & (Lot.item == data.item_id)
            & (Lot.lot_number == number)
            & (Lot.serial == data.serial.strip())
        )
        .first()
    )
    if row is None:
        raise NotFound(
            f"No lot {number} of this item is recorded at this site. Receive it first, then count it.",
            code="lot_not_found",
        )
    return dict(row)


async def record_line(
    principal: Principal, site_id: int, count_id: int, data: CountLineIn, *, now: datetime
) -> CountLineRead:
    """Set a lot's counted quantity (last write wins); a lot not in the snapshot is found stock."""
    check_line_target(data)
    async with write_transaction():
        count = await _lock_open(site_id, count_id)
        lot = await _line_lot(site_id, data)
        line = (
            await StockCountLine.select(StockCountLine.id, StockCountLine.counted)
            .where((StockCountLine.count == count_id) & (StockCountLine.lot == lot["id"]))
            .first()
        )
        if line is None:
            await StockCountLine.insert(
                StockCountLine(site=site_id, count=count_id, lot=lot["id"], expected=0, reason="")
            )
        await StockCountLine.update(
            {
                StockCountLine.counted: data.counted,
                StockCountLine.counted_by: principal.actor,
                StockCountLine.counted_at: now,
            }
        ).where((StockCountLine.count == count_id) & (StockCountLine.lot == lot["id"]))
        change = {
            "lot_id": lot["id"],
            "lot_number": lot["lot_number"],
            "counted": data.counted,
            "previous": None if line is None else line["counted"],
            "found": line is None,
        }
        await _audit(principal, site_id, "count.line", count_id, change, now)
        return (await _lines(count, lot_id=int(lot["id"])))[0]


async def _lock_lots(lot_ids: list[int]) -> None:
    """Lock order as the ledger's: stock levels, then lots, then the audit head. Taking every lot
    before the first audit append keeps a recall (lots, then audit) from deadlocking with a post."""
    if lot_ids and not is_sqlite():
        await Lot.select(Lot.id).where(Lot.id.is_in(lot_ids)).order_by(Lot.id).lock_rows("NO KEY UPDATE")


async def _adjust(
    principal: Principal, site_id: int, count: dict[str, Any], a: PlannedAdjust, note: str, now: datetime
) -> CountAdjustment:
    move = ledger.Move(
        MovementKind.ADJUST,
        a.lot_id,
        count["location"],
        a.delta,
        reason=a.reason.value,
        note=note,
        reference=f"count:{count['id']}",
    )
    lot = await ledger.lot_row(site_id, a.lot_id)
    result = await ledger._record(principal, site_id, lot, [move], action="stock.adjust", now=now)
    await StockCountLine.update({StockCountLine.reason: a.reason.value}).where(
        (StockCountLine.count == count["id"]) & (StockCountLine.lot == a.lot_id)
    )
    return CountAdjustment(
        lot_id=a.lot_id,
        movement_id=result.movements[0].id,
        on_hand_before=a.on_hand,
        counted=a.counted,
        quantity=a.delta,
        reason=a.reason,
    )


async def _close(
    principal: Principal,
    site_id: int,
    count_id: int,
    status: CountStatus,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """Posted or cancelled: who closed it and when are kept in posted_by/posted_at."""
    await StockCount.update(
        {StockCount.status: status.value, StockCount.posted_by: principal.actor, StockCount.posted_at: now}
    ).where(StockCount.id == count_id)
    await _audit(
        principal,
        site_id,
        f"count.{'post' if status is CountStatus.POSTED else 'cancel'}",
        count_id,
        payload,
        now,
    )


async def post(
    principal: Principal, site_id: int, count_id: int, data: CountPost, *, now: datetime
) -> CountPostResult:
    async with write_transaction():
        count = await _lock_open(site_id, count_id)
        rows = await StockCountLine.select(StockCountLine.lot, StockCountLine.counted).where(
            StockCountLine.count == count_id
        )
        counted: dict[int, int | None] = {int(r["lot"]): r["counted"] for r in rows}
        stray = stray_reasons(set(counted), data.reasons)
        if stray:
            raise InvalidInput(
                f"Reasons were given for lots that are not on this count: {stray}.",
                code="reason_for_unknown_lot",
                fields=[{"field": f"reasons.{lot}", "message": "is not on this count"} for lot in stray],
            )
        on_hand = {
            lot: await ledger._on_hand_locked(site_id, lot, count["location"])
            for lot, value in sorted(counted.items())
            if value is not None
        }
        plan = plan_post(counted, on_hand, data.reasons)
        await _lock_lots([a.lot_id for a in plan.adjust])
        note = data.note or f"Stock count {count_id}"
        adjustments = [await _adjust(principal, site_id, count, a, note, now) for a in plan.adjust]
        result = {
            "location_id": count["location"],
            "adjustments": msgspec.to_builtins(adjustments),
            "matched": plan.matched,
            "not_counted": plan.not_counted,
        }
        await _close(principal, site_id, count_id, CountStatus.POSTED, result, now)
        summary = _summary(await _count_row(site_id, count_id), len(counted), len(on_hand))
        return CountPostResult(
            count=summary, adjustments=adjustments, matched=plan.matched, not_counted=plan.not_counted
        )


async def cancel(principal: Principal, site_id: int, count_id: int, *, now: datetime) -> CountSummary:
    """Close the count without touching stock; what was counted stays on record."""
    async with write_transaction():
        await _lock_open(site_id, count_id)
        await _close(principal, site_id, count_id, CountStatus.CANCELLED, {}, now)
        return (await get_count(site_id, count_id)).count
