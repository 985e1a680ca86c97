"""Multi-dose vials: opening one starts its beyond-use clock (set per item, e.g. 28 days).

An opened vial stays in stock (it is still in the fridge) until it is finished (a `use` of one
unit) or reaches its beyond-use time, when the sweep wastes it with reason `beyond_use`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from server.core import audit
from server.core.auth import SYSTEM, Principal
from server.db import write_transaction
from server.errors import Conflict, NotFound, RuleViolation
from server.stock import ledger
from server.stock.rules import WasteReason, use_block
from server.stock.schemas import UseIn, VialOpen, VialRead, WasteIn
from server.stock.tables import Item, OpenedVial


def _vial(row: dict[str, Any]) -> VialRead:
    return VialRead(
        id=row["id"],
        lot_id=row["lot"],
        location_id=row["location"],
        opened_at=row["opened_at"],
        beyond_use_at=row["beyond_use_at"],
        status=row["status"],
        opened_by=row["opened_by"],
    )


async def _get(site_id: int, vial_id: int) -> dict[str, Any]:
    row = await OpenedVial.select().where((OpenedVial.id == vial_id) & (OpenedVial.site == site_id)).first()
    if row is None:
        raise NotFound("This opened vial is not known here.", code="vial_not_found")
    return dict(row)


async def open_vial(principal: Principal, site_id: int, data: VialOpen, *, now: datetime) -> VialRead:
    async with write_transaction():
        lot = await ledger.lot_row(site_id, data.lot_id)
        await ledger.location_row(site_id, data.location_id)
        item = await Item.select(Item.beyond_use_days, Item.name).where(Item.id == lot["item"]).first()
        if item is None or not item["beyond_use_days"]:
            raise RuleViolation("This item is not set up as a multi-dose vial.", code="not_multi_dose")
        block = use_block(lot["status"], lot["expiry"], now.date())
        if block is not None:
            raise RuleViolation(block.message, code=block.code)
        already = await OpenedVial.count().where(
            (OpenedVial.lot == data.lot_id)
            & (OpenedVial.location == data.location_id)
            & (OpenedVial.status == "open")
        )
        if await ledger.on_hand(data.lot_id, data.location_id) <= already:
            raise Conflict("Every vial of this lot here is already open.", code="not_enough_stock")
        beyond_use = now + timedelta(days=int(item["beyond_use_days"]))
        if lot["expiry"] is not None:
            # Never past the printed expiry (end of that day, UTC).
            beyond_use = min(
                beyond_use,
                datetime.combine(lot["expiry"] + timedelta(days=1), datetime.min.time(), tzinfo=now.tzinfo),
            )
        rows = await OpenedVial.insert(
            OpenedVial(
                site=site_id,
                lot=data.lot_id,
                location=data.location_id,
                opened_at=now,
                beyond_use_at=beyond_use,
                opened_by=principal.actor,
                status="open",
            )
        ).returning(*OpenedVial.all_columns())
        vial = _vial(rows[0])
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="vial.open",
            entity="opened_vial",
            entity_id=vial.id,
            payload={
                "lot_id": vial.lot_id,
                "location_id": vial.location_id,
                "beyond_use_at": vial.beyond_use_at.isoformat(),
            },
            now=now,
        )
        return vial


async def _close(
    principal: Principal, site_id: int, vial: dict[str, Any], status: str, *, now: datetime
) -> VialRead:
    if vial["status"] != "open":
        raise Conflict("This vial is already closed.", code="vial_closed")
    if status == "finished":
        await ledger.use(
            principal,
            site_id,
            UseIn(lot_id=vial["lot"], location_id=vial["location"], quantity=1),
            now=now,
            check_usable=False,
        )
    else:
        await ledger.waste(
            principal,
            site_id,
            WasteIn(
                lot_id=vial["lot"], location_id=vial["location"], quantity=1, reason=WasteReason.BEYOND_USE
            ),
            now=now,
        )
    await OpenedVial.update({OpenedVial.status: status, OpenedVial.closed_at: now}).where(
        OpenedVial.id == vial["id"]
    )
    return _vial({**vial, "status": status})


async def finish_vial(principal: Principal, site_id: int, vial_id: int, *, now: datetime) -> VialRead:
    """The last dose was drawn: the vial leaves stock as a use."""
    async with write_transaction():
        return await _close(principal, site_id, await _get(site_id, vial_id), "finished", now=now)


async def list_open(site_id: int) -> list[VialRead]:
    rows = (
        await OpenedVial.select()
        .where((OpenedVial.site == site_id) & (OpenedVial.status == "open"))
        .order_by(OpenedVial.beyond_use_at)
    )
    return [_vial(r) for r in rows]


async def waste_past_beyond_use(now: datetime) -> int:
    """The sweep (scheduler): every open vial past its beyond-use time is wasted. Safe to re-run."""
    due = await OpenedVial.select().where((OpenedVial.status == "open") & (OpenedVial.beyond_use_at <= now))
    for row in due:
        async with write_transaction():
            fresh = await _get(int(row["site"]), int(row["id"]))
            if fresh["status"] == "open":
                await _close(SYSTEM, int(row["site"]), fresh, "wasted", now=now)
    return len(due)
