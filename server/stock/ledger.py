"""The movement ledger (design invariant 1): every stock change is an appended movement, and the
running on-hand per lot and location changes in the same transaction, never below zero.

The guard is a conditional UPDATE (`on_hand >= needed`), so racing scans for the last units
serialize on the row: exactly as many succeed as there are units, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from server.core import audit
from server.core.auth import Principal
from server.core.tables import Location
from server.db import is_sqlite, write_transaction
from server.errors import Conflict, InvalidInput, NotFound, RuleViolation
from server.stock import rules
from server.stock.rules import LotStatus, MovementKind
from server.stock.schemas import (
    AdjustIn,
    LotRead,
    MovementRead,
    MovementResult,
    ReceiveIn,
    ReturnIn,
    StockWarning,
    TransferIn,
    UseIn,
    WasteIn,
)
from server.stock.tables import Item, Lot, Movement, StockLevel


@dataclass(frozen=True)
class Move:
    kind: MovementKind
    lot_id: int
    location_id: int
    delta: int
    reason: str = ""
    note: str = ""
    reference: str = ""


async def location_row(site_id: int, location_id: int) -> dict[str, Any]:
    row = (
        await Location.select(Location.id, Location.name, Location.active)
        .where((Location.id == location_id) & (Location.site == site_id))
        .first()
    )
    if row is None:
        raise NotFound("This place does not exist at this site.", code="location_not_found")
    return dict(row)


async def lot_row(site_id: int, lot_id: int) -> dict[str, Any]:
    row = await Lot.select().where((Lot.id == lot_id) & (Lot.site == site_id)).first()
    if row is None:
        raise NotFound("This lot is not known at this site.", code="lot_not_found")
    return dict(row)


def _lot_read(row: dict[str, Any]) -> LotRead:
    return LotRead(
        id=row["id"],
        item_id=row["item"],
        lot_number=row["lot_number"],
        expiry=row["expiry"],
        serial=row["serial"],
        status=LotStatus(row["status"]),
    )


async def on_hand(lot_id: int, location_id: int) -> int:
    row = (
        await StockLevel.select(StockLevel.on_hand)
        .where((StockLevel.lot == lot_id) & (StockLevel.location == location_id))
        .first()
    )
    return int(row["on_hand"]) if row else 0


async def _on_hand_locked(site_id: int, lot_id: int, location_id: int) -> int:
    """On-hand for a read-then-write: the row is locked on PostgreSQL so a racing use cannot slip
    between the read and the adjustment (SQLite's IMMEDIATE transaction already serializes)."""
    await StockLevel.insert(
        StockLevel(site=site_id, lot=lot_id, location=location_id, on_hand=0)
    ).on_conflict(target=(StockLevel.lot, StockLevel.location), action="DO NOTHING")
    query = StockLevel.select(StockLevel.on_hand).where(
        (StockLevel.lot == lot_id) & (StockLevel.location == location_id)
    )
    if not is_sqlite():
        query = query.lock_rows("UPDATE")
    row = await query.first()
    return int(row["on_hand"]) if row else 0


async def _change_level(move: Move) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await (
        StockLevel.update({StockLevel.on_hand: StockLevel.on_hand + move.delta})
        .where(
            (StockLevel.lot == move.lot_id)
            & (StockLevel.location == move.location_id)
            & (StockLevel.on_hand >= -move.delta)
        )
        .returning(StockLevel.on_hand)
    )
    return rows


async def _apply(
    site_id: int, move: Move, *, actor: str, group: uuid.UUID, now: datetime,
    after: dict[str, int] | None = None,
) -> MovementRead:
    # The common case (the row exists) is one statement; a first receipt into a place adds the row.
    rows = await _change_level(move)
    if not rows and move.delta > 0:
        await StockLevel.insert(
            StockLevel(site=site_id, lot=move.lot_id, location=move.location_id, on_hand=0)
        ).on_conflict(target=(StockLevel.lot, StockLevel.location), action="DO NOTHING")
        rows = await _change_level(move)
    if not rows:
        have = await on_hand(move.lot_id, move.location_id)
        raise Conflict(
            f"Not enough stock: {have} on hand here, {-move.delta} asked for.", code="not_enough_stock"
        )
    inserted = await Movement.insert(
        Movement(
            site=site_id,
            kind=move.kind.value,
            lot=move.lot_id,
            location=move.location_id,
            quantity=move.delta,
            reason=move.reason,
            note=move.note,
            reference=move.reference,
            group_key=group,
            actor=actor,
            at=now,
        )
    ).returning(Movement.id)
    if after is not None:
        after[str(move.location_id)] = int(rows[0]["on_hand"])
    return MovementRead(
        id=int(inserted[0]["id"]),
        kind=move.kind,
        lot_id=move.lot_id,
        location_id=move.location_id,
        quantity=move.delta,
        reason=move.reason,
        reference=move.reference,
        note=move.note,
        actor=actor,
        at=now,
    )


async def _refresh_depleted(lot: dict[str, Any], after: dict[str, int] | None = None) -> dict[str, Any]:
    """available <-> depleted follows whether any unit is left anywhere; other statuses stay."""
    status = lot["status"]
    if after is not None and status == LotStatus.AVAILABLE and all(n > 0 for n in after.values()):
        return lot  # units are left where we just moved them: nothing to look up
    total = await StockLevel.select(StockLevel.on_hand).where(StockLevel.lot == lot["id"])
    left = sum(int(r["on_hand"]) for r in total)
    if status == LotStatus.AVAILABLE and left == 0:
        status = LotStatus.DEPLETED
    elif status == LotStatus.DEPLETED and left > 0:
        status = LotStatus.AVAILABLE
    if status != lot["status"]:
        await Lot.update({Lot.status: status.value}).where(Lot.id == lot["id"])
    return {**lot, "status": status}


async def _record(
    principal: Principal,
    site_id: int,
    lot: dict[str, Any],
    moves: list[Move],
    *,
    action: str,
    now: datetime,
    warnings: list[StockWarning] | None = None,
) -> MovementResult:
    group = uuid.uuid4()
    levels: dict[str, int] = {}
    done = [
        await _apply(site_id, m, actor=principal.actor, group=group, now=now, after=levels) for m in moves
    ]
    lot = await _refresh_depleted(lot, levels)
    await audit.append(
        actor=principal.actor,
        site_id=site_id,
        action=action,
        entity="lot",
        entity_id=lot["id"],
        payload={
            "movements": [
                {
                    "id": d.id,
                    "kind": d.kind.value,
                    "location_id": d.location_id,
                    "quantity": d.quantity,
                    "reason": d.reason,
                    "reference": d.reference,
                }
                for d in done
            ],
            "lot_number": lot["lot_number"],
            "item_id": lot["item"],
        },
        now=now,
    )
    return MovementResult(movements=done, lot=_lot_read(lot), on_hand=levels, warnings=warnings or [])


async def find_or_create_lot(
    site_id: int, item_id: int, lot_number: str, expiry: date | None, serial: str, *, now: datetime
) -> dict[str, Any]:
    lot_number = lot_number.strip()
    row = (
        await Lot.select()
        .where((Lot.item == item_id) & (Lot.lot_number == lot_number) & (Lot.serial == serial))
        .first()
    )
    if row is not None:
        if expiry is not None and row["expiry"] is not None and row["expiry"] != expiry:
            raise Conflict(
                f"Lot {lot_number} is already recorded with expiry {row['expiry'].isoformat()}, "
                f"not {expiry.isoformat()}. Check the box.",
                code="lot_expiry_mismatch",
            )
        return dict(row)
    await Lot.insert(
        Lot(
            site=site_id,
            item=item_id,
            lot_number=lot_number,
            expiry=expiry,
            serial=serial,
            status=LotStatus.AVAILABLE.value,
            status_reason="",
            created_at=now,
        )
    ).on_conflict(target=(Lot.item, Lot.lot_number, Lot.serial), action="DO NOTHING")
    created = (
        await Lot.select()
        .where((Lot.item == item_id) & (Lot.lot_number == lot_number) & (Lot.serial == serial))
        .first()
    )
    assert created is not None  # noqa: S101  (inserted just above in this transaction)
    return dict(created)


async def receive(principal: Principal, site_id: int, data: ReceiveIn, *, now: datetime) -> MovementResult:
    async with write_transaction():
        item = (
            await Item.select(Item.id, Item.active)
            .where((Item.id == data.item_id) & (Item.site == site_id))
            .first()
        )
        if item is None:
            raise NotFound("This item is not in this site's catalog.", code="item_not_found")
        await location_row(site_id, data.location_id)
        lot = await find_or_create_lot(
            site_id, data.item_id, data.lot_number, data.expiry, data.serial, now=now
        )
        warnings = []
        if data.expiry is not None and data.expiry < now.date():
            warnings.append(StockWarning(code="received_expired", message="This lot is already expired."))
        move = Move(
            MovementKind.RECEIVE, int(lot["id"]), data.location_id, data.quantity, reference=data.reference
        )
        return await _record(
            principal, site_id, lot, [move], action="stock.receive", now=now, warnings=warnings
        )


async def _fefo(lot: dict[str, Any], location_id: int, today: date) -> list[StockWarning]:
    rows = await StockLevel.select(
        StockLevel.lot,
        StockLevel.on_hand,
        StockLevel.lot.lot_number,
        StockLevel.lot.expiry,
        StockLevel.lot.status,
    ).where(
        (StockLevel.location == location_id) & (StockLevel.lot.item == lot["item"]) & (StockLevel.on_hand > 0)
    )
    chosen = rules.LotOnHand(lot["id"], lot["lot_number"], lot["expiry"], lot["status"], 0)
    others = [
        rules.LotOnHand(
            int(r["lot"]), r["lot.lot_number"], r["lot.expiry"], r["lot.status"], int(r["on_hand"])
        )
        for r in rows
    ]
    better = rules.fefo_alternative(chosen, others, today)
    if better is None:
        return []
    return [
        StockWarning(
            code="fefo",
            message=f"Lot {better.lot_number} here expires sooner; use it first.",
            lot_id=better.lot_id,
            lot_number=better.lot_number,
            expiry=better.expiry,
        )
    ]


def _blocked(lot: dict[str, Any], today: date) -> None:
    block = rules.use_block(lot["status"], lot["expiry"], today)
    if block is not None:
        raise RuleViolation(block.message, code=block.code)


async def use(
    principal: Principal, site_id: int, data: UseIn, *, now: datetime, check_usable: bool = True
) -> MovementResult:
    """Use or administer. ``check_usable`` is off only for finishing an already-opened vial."""
    async with write_transaction():
        lot = await lot_row(site_id, data.lot_id)
        await location_row(site_id, data.location_id)
        if check_usable:
            _blocked(lot, now.date())
        warnings = await _fefo(lot, data.location_id, now.date())
        move = Move(MovementKind.USE, data.lot_id, data.location_id, -data.quantity, reference=data.reference)
        return await _record(principal, site_id, lot, [move], action="stock.use", now=now, warnings=warnings)


async def waste(principal: Principal, site_id: int, data: WasteIn, *, now: datetime) -> MovementResult:
    async with write_transaction():
        lot = await lot_row(site_id, data.lot_id)
        await location_row(site_id, data.location_id)
        move = Move(
            MovementKind.WASTE,
            data.lot_id,
            data.location_id,
            -data.quantity,
            reason=data.reason.value,
            note=data.note,
        )
        return await _record(principal, site_id, lot, [move], action="stock.waste", now=now)


async def transfer(principal: Principal, site_id: int, data: TransferIn, *, now: datetime) -> MovementResult:
    if data.from_location_id == data.to_location_id:
        raise InvalidInput(
            "Pick two different places.",
            code="same_location",
            fields=[{"field": "to_location_id", "message": "is the same place"}],
        )
    async with write_transaction():
        lot = await lot_row(site_id, data.lot_id)
        await location_row(site_id, data.from_location_id)
        await location_row(site_id, data.to_location_id)
        moves = [
            Move(MovementKind.TRANSFER, data.lot_id, data.from_location_id, -data.quantity),
            Move(MovementKind.TRANSFER, data.lot_id, data.to_location_id, data.quantity),
        ]
        return await _record(principal, site_id, lot, moves, action="stock.transfer", now=now)


async def return_to_supplier(
    principal: Principal, site_id: int, data: ReturnIn, *, now: datetime
) -> MovementResult:
    async with write_transaction():
        lot = await lot_row(site_id, data.lot_id)
        await location_row(site_id, data.location_id)
        move = Move(MovementKind.RETURN, data.lot_id, data.location_id, -data.quantity, note=data.note)
        return await _record(principal, site_id, lot, [move], action="stock.return", now=now)


async def adjust(principal: Principal, site_id: int, data: AdjustIn, *, now: datetime) -> MovementResult:
    """Set the on-hand to what was counted; the difference is the movement."""
    async with write_transaction():
        lot = await lot_row(site_id, data.lot_id)
        await location_row(site_id, data.location_id)
        delta = data.counted - await _on_hand_locked(site_id, data.lot_id, data.location_id)
        if delta == 0:
            raise RuleViolation("The count matches what is on hand; nothing to adjust.", code="no_change")
        move = Move(
            MovementKind.ADJUST,
            data.lot_id,
            data.location_id,
            delta,
            reason=data.reason.value,
            note=data.note,
        )
        return await _record(principal, site_id, lot, [move], action="stock.adjust", now=now)


async def set_lot_status(
    principal: Principal, site_id: int, lot_id: int, status: LotStatus, reason: str, *, now: datetime
) -> LotRead:
    """Hold, release, recall or expire a lot; the reason is kept and audited (cold chain, recalls)."""
    async with write_transaction():
        lot = await lot_row(site_id, lot_id)
        if lot["status"] != status:
            await Lot.update({Lot.status: status.value, Lot.status_reason: reason}).where(Lot.id == lot_id)
            await audit.append(
                actor=principal.actor,
                site_id=site_id,
                action="lot.status",
                entity="lot",
                entity_id=lot_id,
                payload={"from": lot["status"], "to": status.value, "reason": reason},
                now=now,
            )
            lot = {**lot, "status": status.value, "status_reason": reason}
        return _lot_read(lot)
