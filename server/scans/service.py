"""Resolving a scan (design §4): parse it (pure), then look it up in a fixed order without writing:
own label code → GTIN (+ lot) → a barcode linked to an item → a lot number → unknown.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from server import sql
from server.reprocessing import devices as reprocessing_devices
from server.scans.results import ScanParse
from server.scans.rules import lookup_code, parse_scan
from server.scans.schemas import ScanAction, ScanAnswer, ScanPrefill
from server.stock.ledger import fefo_warnings
from server.stock.rules import use_block
from server.stock.schemas import StockWarning

LOCATION_KINDS = {"fridge": "fridge", "freezer": "fridge", "room": "room"}


def _item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: row[k] for k in ("id", "name", "kind", "storage", "unit", "publicly_funded", "beyond_use_days")
    }


_LEVELS_SQL = """
SELECT sl.location AS location_id, loc.name AS location_name, sl.on_hand
FROM stock_level sl JOIN location loc ON loc.id = sl.location
WHERE sl.lot = {} AND sl.on_hand > 0
ORDER BY loc.name
"""

_LINKED_ITEM_SQL = """
SELECT i.*, c.pack_qty AS code_pack_qty
FROM item_code c JOIN item i ON i.id = c.item
WHERE c.site = {} AND c.code = {}
"""


def _lot_actions(lot: dict[str, Any], on_hand: int, today: date) -> list[ScanAction]:
    block = use_block(lot["status"], lot["expiry"], today)
    empty = "None left of this lot." if on_hand == 0 else None
    use_reason = block.message if block else empty
    use_code = block.code if block else ("none_left" if empty else None)
    return [
        ScanAction(action="use", enabled=use_reason is None, reason=use_reason, code=use_code),
        ScanAction(action="receive", enabled=True),
        ScanAction(action="waste", enabled=on_hand > 0, reason=empty, code="none_left" if empty else None),
        ScanAction(action="move", enabled=on_hand > 0 and block is None, reason=use_reason, code=use_code),
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
    async with sql.one_connection():
        await _look_up(site_id, parsed, answer, today)
    return answer


async def _reprocessing(site_id: int, code: str, answer: ScanAnswer) -> bool:
    """Device, pack and sterilizer labels: what it is and the reprocessing step a scan offers."""
    found = await reprocessing_devices.scan(site_id, code)
    if found.kind == "unknown":
        return False
    answer.kind = found.kind
    answer.entity = msgspec.to_builtins(found)
    if found.next_step is not None:
        answer.actions = [ScanAction(action=found.next_step.value, enabled=True)]
    return True


async def _look_up(site_id: int, parsed: ScanParse, answer: ScanAnswer, today: date) -> None:
    if parsed.label_code:
        row = await sql.fetchrow(
            "SELECT id, name, kind, label_code FROM location WHERE label_code = {} AND site = {}",
            parsed.label_code,
            site_id,
        )
        if row is not None:
            answer.kind = LOCATION_KINDS.get(row["kind"], "location")
            answer.entity = dict(row)
            answer.actions = [
                ScanAction(action="count", enabled=True),
                ScanAction(action="show", enabled=True),
            ]
            return
        if await _reprocessing(site_id, parsed.label_code, answer):
            return
    code = lookup_code(parsed)
    answer.code = code
    lot_number = parsed.lot or (parsed.hibc.lot if parsed.hibc else None)
    item_row = None
    pack_qty = 1
    if code:
        item_row = await sql.fetchrow(_LINKED_ITEM_SQL, site_id, code)
        if item_row is not None:
            pack_qty = int(item_row["code_pack_qty"])
    if item_row is None and parsed.kind == "text" and parsed.text:
        item_row = await sql.fetchrow(
            "SELECT i.* FROM lot l JOIN item i ON i.id = l.item WHERE l.site = {} AND l.lot_number = {}",
            site_id,
            parsed.text,
        )
        if item_row is not None:
            lot_number = parsed.text
    if item_row is None:
        if parsed.gtin or parsed.hibc or parsed.kind == "text":
            answer.actions = [
                ScanAction(
                    action="link", enabled=True, reason="This code is not known yet: link it to an item once."
                )
            ]
        return
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
        lot = await sql.fetchrow(
            "SELECT * FROM lot WHERE item = {} AND lot_number = {}", item_row["id"], lot_number
        )
    if lot is None:
        answer.kind = "item"
        answer.entity = answer.item
        answer.actions = [ScanAction(action="receive", enabled=True)]
        return
    levels = await sql.fetch(_LEVELS_SQL, lot["id"])
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
    answer.warnings = await fefo_warnings(
        lot, today, [level["location_id"] for level in levels], name_place=len(levels) > 1
    )
    if parsed.expiry and lot["expiry"] and parsed.expiry != lot["expiry"]:
        answer.warnings.append(
            StockWarning(
                code="expiry_mismatch",
                message=(
                    f"The scan says {parsed.expiry.isoformat()} "
                    f"but this lot is recorded as {lot['expiry'].isoformat()}."
                ),
                lot_id=lot["id"],
                lot_number=lot["lot_number"],
                expiry=lot["expiry"],
                scanned_expiry=parsed.expiry,
            )
        )
