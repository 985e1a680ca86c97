"""Resolving a scan (design §4): parse it (pure), then look it up in a fixed order without writing:
own label code → GTIN (+ lot) → a barcode linked to an item → a lot number → unknown.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from server.core.tables import Location
from server.scans.rules import parse_scan
from server.scans.schemas import ScanAction, ScanAnswer, ScanPrefill
from server.stock.rules import LotOnHand, fefo_alternative, use_block
from server.stock.schemas import StockWarning
from server.stock.tables import Item, ItemCode, Lot, StockLevel

LOCATION_KINDS = {"fridge": "fridge", "freezer": "fridge", "room": "room"}


def _item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: row[k] for k in ("id", "name", "kind", "storage", "unit", "publicly_funded", "beyond_use_days")
    }


async def _levels(lot_id: int) -> list[dict[str, Any]]:
    rows = (
        await StockLevel.select(StockLevel.location, StockLevel.location.name, StockLevel.on_hand)
        .where((StockLevel.lot == lot_id) & (StockLevel.on_hand > 0))
        .order_by(StockLevel.location.name)
    )
    return [
        {"location_id": r["location"], "location_name": r["location.name"], "on_hand": r["on_hand"]}
        for r in rows
    ]


async def _fefo(lot: dict[str, Any], today: date) -> list[StockWarning]:
    rows = await StockLevel.select(
        StockLevel.lot,
        StockLevel.on_hand,
        StockLevel.lot.lot_number,
        StockLevel.lot.expiry,
        StockLevel.lot.status,
    ).where((StockLevel.lot.item == lot["item"]) & (StockLevel.on_hand > 0))
    chosen = LotOnHand(lot["id"], lot["lot_number"], lot["expiry"], lot["status"], 0)
    others = [
        LotOnHand(int(r["lot"]), r["lot.lot_number"], r["lot.expiry"], r["lot.status"], int(r["on_hand"]))
        for r in rows
    ]
    better = fefo_alternative(chosen, others, today)
    if better is None:
        return []
    return [
        StockWarning(
            code="fefo",
            message=f"Lot {better.lot_number} expires sooner; use it first.",
            lot_id=better.lot_id,
            lot_number=better.lot_number,
            expiry=better.expiry,
        )
    ]


def _lot_actions(lot: dict[str, Any], on_hand: int, today: date) -> list[ScanAction]:
    block = use_block(lot["status"], lot["expiry"], today)
    empty = "None left of this lot." if on_hand == 0 else None
    use_reason = block.message if block else empty
    return [
        ScanAction(
            action="use", enabled=use_reason is None, reason=use_reason, code=block.code if block else None
        ),
        ScanAction(action="receive", enabled=True),
        ScanAction(action="waste", enabled=on_hand > 0, reason=empty),
        ScanAction(action="move", enabled=on_hand > 0 and block is None, reason=use_reason),
        ScanAction(action="count", enabled=True),
    ]


async def resolve(site_id: int, raw: str, *, today: date) -> ScanAnswer:
    parsed = parse_scan(raw, today=today)
    answer = ScanAnswer(
        raw=raw,
        kind="unknown",
        parsed=parsed,
        ambiguous=parsed.ambiguous,
        readings=parsed.readings,
        errors=parsed.errors,
    )
    if parsed.kind == "empty":
        return answer
    if parsed.label_code:
        row = (
            await Location.select()
            .where((Location.label_code == parsed.label_code) & (Location.site == site_id))
            .first()
        )
        if row is not None:
            answer.kind = LOCATION_KINDS.get(row["kind"], "location")
            answer.entity = {
                "id": row["id"],
                "name": row["name"],
                "kind": row["kind"],
                "label_code": row["label_code"],
            }
            answer.actions = [
                ScanAction(action="count", enabled=True),
                ScanAction(action="show", enabled=True),
            ]
            return answer
    code = (
        parsed.gtin or (parsed.hibc and f"{parsed.hibc.lic or ''}{parsed.hibc.product or ''}") or parsed.text
    )
    lot_number = parsed.lot or (parsed.hibc.lot if parsed.hibc else None)
    item_row = None
    pack_qty = 1
    if code:
        linked = (
            await ItemCode.select(ItemCode.item, ItemCode.pack_qty)
            .where((ItemCode.site == site_id) & (ItemCode.code == code))
            .first()
        )
        if linked is not None:
            item_row = await Item.select().where(Item.id == linked["item"]).first()
            pack_qty = int(linked["pack_qty"])
    if item_row is None and parsed.kind == "text" and parsed.text:
        lot = await Lot.select().where((Lot.site == site_id) & (Lot.lot_number == parsed.text)).first()
        if lot is not None:
            item_row = await Item.select().where(Item.id == lot["item"]).first()
            lot_number = parsed.text
    if item_row is None:
        if parsed.gtin or parsed.hibc or parsed.kind == "text":
            answer.actions = [
                ScanAction(
                    action="link", enabled=True, reason="This code is not known yet: link it to an item once."
                )
            ]
        return answer
    answer.item = _item(item_row)
    answer.prefill = ScanPrefill(
        item_id=item_row["id"],
        lot_number=lot_number,
        expiry=parsed.expiry,
        serial=parsed.serial,
        pack_qty=pack_qty,
    )
    lot = None
    if lot_number:
        lot = await Lot.select().where((Lot.item == item_row["id"]) & (Lot.lot_number == lot_number)).first()
    if lot is None:
        answer.kind = "item"
        answer.entity = answer.item
        answer.actions = [ScanAction(action="receive", enabled=True)]
        return answer
    levels = await _levels(lot["id"])
    answer.kind = "lot"
    answer.entity = {
        "id": lot["id"],
        "lot_number": lot["lot_number"],
        "expiry": lot["expiry"],
        "status": lot["status"],
        "status_reason": lot["status_reason"],
        "item_id": lot["item"],
    }
    answer.levels = levels
    answer.actions = _lot_actions(lot, sum(level["on_hand"] for level in levels), today)
    answer.warnings = await _fefo(lot, today)
    if parsed.expiry and lot["expiry"] and parsed.expiry != lot["expiry"]:
        answer.warnings.append(
            StockWarning(
                code="expiry_mismatch",
                message=(
                    f"The scan says {parsed.expiry.isoformat()} "
                    f"but this lot is recorded as {lot['expiry'].isoformat()}."
                ),
            )
        )
    return answer
