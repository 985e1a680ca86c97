"""Read models over the ledger: on hand, expiring, journal. One query per list, no N+1."""

from __future__ import annotations

from typing import Any

from server.stock.rules import ItemKind, LotStatus
from server.stock.schemas import StockRow
from server.stock.tables import StockLevel


def _row(r: dict[str, Any]) -> StockRow:
    return StockRow(
        item_id=r["lot.item"],
        item_name=r["lot.item.name"],
        item_kind=ItemKind(r["lot.item.kind"]),
        lot_id=r["lot"],
        lot_number=r["lot.lot_number"],
        expiry=r["lot.expiry"],
        status=LotStatus(r["lot.status"]),
        location_id=r["location"],
        location_name=r["location.name"],
        on_hand=r["on_hand"],
    )


async def on_hand(
    site_id: int, *, item_id: int | None = None, location_id: int | None = None, include_empty: bool = False
) -> list[StockRow]:
    query = (
        StockLevel.select(
            StockLevel.lot,
            StockLevel.location,
            StockLevel.on_hand,
            StockLevel.lot.item,
            # Piccolo types nested joins loosely, hence the ignores.
            StockLevel.lot.item.name,  # type: ignore[union-attr]
            StockLevel.lot.item.kind,  # type: ignore[union-attr]
            StockLevel.lot.lot_number,
            StockLevel.lot.expiry,
            StockLevel.lot.status,
            StockLevel.location.name,
        )
        .where(StockLevel.site == site_id)
        .order_by(StockLevel.lot.item.name)  # type: ignore[union-attr]
        .order_by(StockLevel.lot.expiry)
    )
    if item_id is not None:
        query = query.where(StockLevel.lot.item == item_id)
    if location_id is not None:
        query = query.where(StockLevel.location == location_id)
    if not include_empty:
        query = query.where(StockLevel.on_hand > 0)
    return [_row(r) for r in await query]
