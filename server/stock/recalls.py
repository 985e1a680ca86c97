"""Recalls: a notice names an item (or one of its GTINs) and lot numbers; matching lots here become
``recalled`` (the ledger then blocks their use; waste and return still work) and are located: where
they are, how many were received and how many were used since.

Lot numbers match exactly as printed (case-sensitive, after trimming). A number that matches no lot
here is listed as not found: a recall for a lot the clinic never had is the usual case.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from piccolo.query.functions.aggregate import Sum

from server.core import audit
from server.core.auth import Principal
from server.db import is_sqlite, write_transaction
from server.errors import InvalidInput, NotFound
from server.stock import ledger
from server.stock.rules import LotStatus, MovementKind
from server.stock.schemas_counts import (
    RecallCreate,
    RecallDetail,
    RecalledLot,
    RecallLocation,
    RecallSummary,
)
from server.stock.tables import Item, ItemCode, Lot, Movement, Recall, StockLevel

GTIN_LENGTHS = (8, 12, 13, 14)

# --- pure rules -------------------------------------------------------------------------------------


def parse_lot_numbers(raw: Iterable[str]) -> list[str]:
    """Trimmed, blanks dropped, duplicates dropped (first one kept); case is kept as printed."""
    seen: dict[str, None] = {}
    for text in raw:
        number = text.strip()
        if number:
            seen.setdefault(number, None)
    return list(seen)


def not_found(wanted: Iterable[str], found: Iterable[str]) -> list[str]:
    """The notice's lot numbers that match no lot here, in the notice's order."""
    have = set(found)
    return [n for n in wanted if n not in have]


def gtin_forms(code: str) -> list[str]:
    """The ways one GTIN may be written: GTIN-8/12/13 padded with zeros to 14 digits and back, so a
    notice's (01) GTIN-14 finds the GTIN-13 on file. Other codes match only as written."""
    text = code.strip()
    if not text.isdigit() or len(text) > max(GTIN_LENGTHS):
        return [text]
    core = text.lstrip("0") or "0"
    forms = [core.zfill(n) for n in GTIN_LENGTHS if len(core) <= n]
    return [text, *(f for f in forms if f != text)]


# --- reads ------------------------------------------------------------------------------------------

_RECALL_COLUMNS = (*Recall.all_columns(), Recall.item.name)


def _summary(row: dict[str, Any]) -> RecallSummary:
    return RecallSummary(
        id=row["id"],
        item_id=row["item"],
        item_name=row["item.name"],
        lot_numbers=json.loads(row["lot_numbers"]),
        notice=row["notice"],
        source=row["source"],
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


async def _matching_lots(site_id: int, item_id: int, numbers: list[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await (
        Lot.select(Lot.id, Lot.lot_number, Lot.serial, Lot.expiry, Lot.status)
        .where((Lot.site == site_id) & (Lot.item == item_id) & Lot.lot_number.is_in(numbers))
        .order_by(Lot.lot_number)
        .order_by(Lot.serial)
    )
    return rows


async def _totals(lot_ids: list[int]) -> dict[tuple[int, str], int]:
    """Received and used per lot, summed by the database in one query."""
    rows = await (
        Movement.select(Movement.lot, Movement.kind, Sum(Movement.quantity, alias="total"))
        .where(
            Movement.lot.is_in(lot_ids)
            & Movement.kind.is_in([MovementKind.RECEIVE.value, MovementKind.USE.value])
        )
        .group_by(Movement.lot, Movement.kind)
    )
    return {(int(r["lot"]), str(r["kind"])): int(r["total"] or 0) for r in rows}


async def _located(lots: list[dict[str, Any]]) -> list[RecalledLot]:
    ids = [int(r["id"]) for r in lots]
    if not ids:
        return []
    levels = (
        await StockLevel.select(
            StockLevel.lot, StockLevel.location, StockLevel.location.name, StockLevel.on_hand
        )
        .where(StockLevel.lot.is_in(ids) & (StockLevel.on_hand > 0))
        .order_by(StockLevel.location.name)
    )
    totals = await _totals(ids)
    places: dict[int, list[RecallLocation]] = {i: [] for i in ids}
    for r in levels:
        places[int(r["lot"])].append(
            RecallLocation(location_id=r["location"], location_name=r["location.name"], on_hand=r["on_hand"])
        )
    return [
        RecalledLot(
            lot_id=r["id"],
            lot_number=r["lot_number"],
            serial=r["serial"],
            expiry=r["expiry"],
            status=LotStatus(r["status"]),
            received=totals.get((r["id"], MovementKind.RECEIVE.value), 0),
            used=-totals.get((r["id"], MovementKind.USE.value), 0),
            on_hand=sum(p.on_hand for p in places[r["id"]]),
            locations=places[r["id"]],
        )
        for r in lots
    ]


async def _detail(site_id: int, row: dict[str, Any]) -> RecallDetail:
    summary = _summary(row)
    lots = await _matching_lots(site_id, summary.item_id, summary.lot_numbers)
    return RecallDetail(
        recall=summary,
        lots=await _located(lots),
        not_found=not_found(summary.lot_numbers, (r["lot_number"] for r in lots)),
    )


async def get_recall(site_id: int, recall_id: int) -> RecallDetail:
    row = (
        await Recall.select(*_RECALL_COLUMNS)
        .where((Recall.id == recall_id) & (Recall.site == site_id))
        .first()
    )
    if row is None:
        raise NotFound("This recall is not known at this site.", code="recall_not_found")
    return await _detail(site_id, row)


async def list_recalls(site_id: int, *, before: int | None = None, limit: int = 100) -> list[RecallSummary]:
    query = Recall.select(*_RECALL_COLUMNS).where(Recall.site == site_id)
    if before is not None:
        query = query.where(Recall.id < before)
    return [_summary(r) for r in await query.order_by(Recall.id, ascending=False).limit(limit)]


# --- writes -----------------------------------------------------------------------------------------


async def _item_id(site_id: int, data: RecallCreate) -> int:
    if data.item_id is not None:
        row = await Item.select(Item.id).where((Item.id == data.item_id) & (Item.site == site_id)).first()
    else:
        row = (
            await ItemCode.select(ItemCode.item.as_alias("id"))
            .where((ItemCode.site == site_id) & ItemCode.code.is_in(gtin_forms(data.gtin or "")))
            .first()
        )
    if row is None:
        raise NotFound("This item is not in this site's catalog.", code="item_not_found")
    return int(row["id"])


def _check(data: RecallCreate) -> list[str]:
    if (data.item_id is None) == (data.gtin is None):
        raise InvalidInput(
            "Name the item by item_id or by gtin (one of the two).",
            code="item_or_gtin",
            fields=[{"field": "item_id", "message": "or gtin is required, not both"}],
        )
    numbers = parse_lot_numbers(data.lot_numbers)
    if not numbers:
        raise InvalidInput(
            "The notice names no lot number.",
            code="no_lot_numbers",
            fields=[{"field": "lot_numbers", "message": "has only blank entries"}],
        )
    return numbers


async def create(principal: Principal, site_id: int, data: RecallCreate, *, now: datetime) -> RecallDetail:
    numbers = _check(data)
    async with write_transaction():
        item_id = await _item_id(site_id, data)
        lots = await _matching_lots(site_id, item_id, numbers)
        ids = [int(r["id"]) for r in lots]
        if ids and not is_sqlite():  # every lot before the first audit append: no lock cycle with uses
            await Lot.select(Lot.id).where(Lot.id.is_in(ids)).order_by(Lot.id).lock_rows("NO KEY UPDATE")
        for lot_id in ids:  # each change is audited as lot.status, as every status change is
            await ledger.set_lot_status(principal, site_id, lot_id, LotStatus.RECALLED, data.notice, now=now)
        inserted = await Recall.insert(
            Recall(
                site=site_id,
                item=item_id,
                lot_numbers=json.dumps(numbers),
                notice=data.notice,
                source=data.source,
                created_by=principal.actor,
                created_at=now,
            )
        ).returning(Recall.id)
        recall_id = int(inserted[0]["id"])
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="recall.create",
            entity="recall",
            entity_id=recall_id,
            payload={
                "item_id": item_id,
                "lot_numbers": numbers,
                "lots": [{"id": r["id"], "lot_number": r["lot_number"], "was": r["status"]} for r in lots],
                "not_found": not_found(numbers, (r["lot_number"] for r in lots)),
                "source": data.source,
            },
            now=now,
        )
        return await get_recall(site_id, recall_id)
