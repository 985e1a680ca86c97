"""The movement ledger (design invariant 1): every stock change is an appended movement, and the
running on-hand per lot and location changes in the same transaction, never below zero.

The guard is a conditional UPDATE (`on_hand >= needed`), so racing scans for the last units
serialize on the row: exactly as many succeed as there are units, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from server import sql
from server.core import audit
from server.core.auth import Principal
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
from server.stock.tables import Item, Lot, StockLevel


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
    row = await sql.fetchrow(
        "SELECT id, name, active FROM location WHERE id = {} AND site = {}", location_id, site_id
    )
    if row is None:
        raise NotFound("This place does not exist at this site.", code="location_not_found")
    return dict(row)


async def lot_row(site_id: int, lot_id: int) -> dict[str, Any]:
    row = await sql.fetchrow("SELECT * FROM lot WHERE id = {} AND site = {}", lot_id, site_id)
    if row is None:
        raise NotFound("This lot is not known at this site.", code="lot_not_found")
    return dict(row)


_LOT_AT = """
SELECT l.*, (SELECT COUNT(*) FROM location WHERE site = {} AND id IN ({}, {})) AS places_found
FROM lot l WHERE l.id = {} AND l.site = {}
"""


async def lot_at(site_id: int, lot_id: int, *location_ids: int) -> dict[str, Any]:
    """The lot of a movement, with its one or two places checked, in one statement."""
    first, second = location_ids[0], location_ids[-1]
    row = await sql.fetchrow(_LOT_AT, site_id, first, second, lot_id, site_id)
    if row is None:
        raise NotFound("This lot is not known at this site.", code="lot_not_found")
    if int(row.pop("places_found")) < len(set(location_ids)):
        raise NotFound("This place does not exist at this site.", code="location_not_found")
    return row


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
    return await sql.fetch(
        "UPDATE stock_level SET on_hand = on_hand + {} WHERE lot = {} AND location = {} AND on_hand >= {} "
        "RETURNING on_hand",
        move.delta,
        move.lot_id,
        move.location_id,
        -move.delta,
    )


_INSERT_MOVEMENT = (
    "INSERT INTO movement (site, kind, lot, location, quantity, reason, note, reference, group_key, "
    "actor, at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) RETURNING id"
)


async def _apply(
    site_id: int,
    move: Move,
    *,
    actor: str,
    group: uuid.UUID,
    now: datetime,
    after: dict[str, int] | None = None,
) -> MovementRead:
    # The movement goes in first: the level's row lock (the one racing scans queue on) is then
    # held for as few statements as possible. A refused change rolls the movement back with it.
    inserted = await sql.fetch(
        _INSERT_MOVEMENT,
        site_id,
        move.kind.value,
        move.lot_id,
        move.location_id,
        move.delta,
        move.reason,
        move.note,
        move.reference,
        group,
        actor,
        now,
    )
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
    total = await sql.fetch("SELECT on_hand FROM stock_level WHERE lot = {}", lot["id"])
    left = sum(int(r["on_hand"]) for r in total)
    if status == LotStatus.AVAILABLE and left == 0:
        status = LotStatus.DEPLETED
    elif status == LotStatus.DEPLETED and left > 0:
        status = LotStatus.AVAILABLE
    if status != lot["status"]:
        await sql.fetch("UPDATE lot SET status = {} WHERE id = {}", status.value, lot["id"])
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
    usable_only: bool = False,
) -> MovementResult:
    group = uuid.uuid4()
    levels: dict[str, int] = {}
    # Level rows are locked in one order (lot, place), whatever the direction: two transfers of a
    # lot in opposite directions would otherwise each hold one row and wait for the other (deadlock).
    order = sorted(range(len(moves)), key=lambda i: (moves[i].lot_id, moves[i].location_id))
    applied = {
        i: await _apply(site_id, moves[i], actor=principal.actor, group=group, now=now, after=levels)
        for i in order
    }
    done = [applied[i] for i in range(len(moves))]
    lot = await _refresh_depleted(lot, levels)
    slot = await audit.reserve(site_id)
    if usable_only:
        await _still_usable(lot, now.date())
    await audit.write(
        slot,
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


async def _recall_notice(site_id: int, item_id: int, lot_number: str) -> str | None:
    """The notice of a recall that names this lot number for this item, if any."""
    rows = await sql.fetch(
        "SELECT notice, lot_numbers FROM recall WHERE site = {} AND item = {} ORDER BY id DESC",
        site_id,
        item_id,
    )
    for row in rows:
        if lot_number in json.loads(row["lot_numbers"]):
            return str(row["notice"])
    return None


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
        notice = await _recall_notice(site_id, data.item_id, str(lot["lot_number"]))
        if notice is not None and lot["status"] != LotStatus.RECALLED:
            # A recalled lot arriving after its notice is set aside on arrival, never shelved as usable.
            await set_lot_status(principal, site_id, int(lot["id"]), LotStatus.RECALLED, notice, now=now)
            lot = {**lot, "status": LotStatus.RECALLED.value, "status_reason": notice}
        if notice is not None:
            warnings.append(
                StockWarning(
                    code="lot_recalled",
                    message="This lot is recalled: set it aside for return, do not shelve it for use.",
                    lot_id=int(lot["id"]),
                    lot_number=str(lot["lot_number"]),
                )
            )
        if data.expiry is not None and data.expiry < now.date():
            warnings.append(StockWarning(code="received_expired", message="This lot is already expired."))
        move = Move(
            MovementKind.RECEIVE, int(lot["id"]), data.location_id, data.quantity, reference=data.reference
        )
        return await _record(
            principal, site_id, lot, [move], action="stock.receive", now=now, warnings=warnings
        )


_SAME_ITEM_HERE = """
SELECT sl.lot, sl.location, sl.on_hand, l.lot_number, l.expiry, l.status
FROM stock_level sl JOIN lot l ON l.id = sl.lot
WHERE l.item = {} AND sl.on_hand > 0
"""


async def fefo_warnings(
    lot: dict[str, Any], today: date, location_ids: list[int], *, name_place: bool = False
) -> list[StockWarning]:
    """First expiry, first out, per place: for each place, a usable lot of the same item there that
    expires sooner than this one (rules.fefo_alternative skips expired, held and recalled lots)."""
    rows = await sql.fetch(_SAME_ITEM_HERE, lot["item"])
    chosen = rules.LotOnHand(lot["id"], lot["lot_number"], lot["expiry"], lot["status"], 0)
    warnings = []
    for location_id in location_ids:
        here = [
            rules.LotOnHand(int(r["lot"]), r["lot_number"], r["expiry"], r["status"], int(r["on_hand"]))
            for r in rows
            if int(r["location"]) == location_id
        ]
        better = rules.fefo_alternative(chosen, here, today)
        if better is None:
            continue
        message = f"Lot {better.lot_number} here expires sooner; use it first."
        if name_place:
            place = await _place_name(location_id)
            message = f"{place}: lot {better.lot_number} expires sooner; use it first."
        warnings.append(
            StockWarning(
                code="fefo",
                message=message,
                lot_id=better.lot_id,
                lot_number=better.lot_number,
                expiry=better.expiry,
                location_id=location_id,
            )
        )
    return warnings


async def _place_name(location_id: int) -> str:
    row = await sql.fetchrow("SELECT name FROM location WHERE id = {}", location_id)
    return str(row["name"]) if row else ""


async def _still_usable(lot: dict[str, Any], today: date) -> None:
    """The status read at the start may be stale on PostgreSQL: a hold or a recall can commit in
    between. Read it again once this write holds the site's audit chain: a status change commits
    with its own chain entry, so it is either visible now or waits for this use and comes after it
    in the chain. (Lock order, as everywhere: stock levels, lots, audit head.)"""
    if is_sqlite():  # writes are serialized: nothing can have changed
        return
    row = await sql.fetchrow("SELECT status FROM lot WHERE id = {}", lot["id"])
    assert row is not None  # noqa: S101  (lots are never deleted)
    if row["status"] != LotStatus.DEPLETED:  # this use may have just emptied it
        _blocked({**lot, "status": row["status"]}, today)


def _blocked(lot: dict[str, Any], today: date) -> None:
    block = rules.use_block(lot["status"], lot["expiry"], today)
    if block is not None:
        raise RuleViolation(block.message, code=block.code)


async def use(
    principal: Principal, site_id: int, data: UseIn, *, now: datetime, check_usable: bool = True
) -> MovementResult:
    """Use or administer. ``check_usable`` is off only for finishing an already-opened vial."""
    async with write_transaction():
        lot = await lot_at(site_id, data.lot_id, data.location_id)
        if check_usable:
            _blocked(lot, now.date())
        warnings = await fefo_warnings(lot, now.date(), [data.location_id])
        move = Move(MovementKind.USE, data.lot_id, data.location_id, -data.quantity, reference=data.reference)
        return await _record(
            principal,
            site_id,
            lot,
            [move],
            action="stock.use",
            now=now,
            warnings=warnings,
            usable_only=check_usable,
        )


async def waste(principal: Principal, site_id: int, data: WasteIn, *, now: datetime) -> MovementResult:
    async with write_transaction():
        lot = await lot_at(site_id, data.lot_id, data.location_id)
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
        lot = await lot_at(site_id, data.lot_id, data.from_location_id, data.to_location_id)
        moves = [
            Move(MovementKind.TRANSFER, data.lot_id, data.from_location_id, -data.quantity),
            Move(MovementKind.TRANSFER, data.lot_id, data.to_location_id, data.quantity),
        ]
        return await _record(principal, site_id, lot, moves, action="stock.transfer", now=now)


async def return_to_supplier(
    principal: Principal, site_id: int, data: ReturnIn, *, now: datetime
) -> MovementResult:
    async with write_transaction():
        lot = await lot_at(site_id, data.lot_id, data.location_id)
        move = Move(MovementKind.RETURN, data.lot_id, data.location_id, -data.quantity, note=data.note)
        return await _record(principal, site_id, lot, [move], action="stock.return", now=now)


async def adjust(principal: Principal, site_id: int, data: AdjustIn, *, now: datetime) -> MovementResult:
    """Set the on-hand to what was counted; the difference is the movement."""
    async with write_transaction():
        lot = await lot_at(site_id, data.lot_id, data.location_id)
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
