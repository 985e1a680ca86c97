"""Stock test data through the real services."""

from __future__ import annotations

from datetime import date

from server.clock import utcnow
from server.core.auth import SYSTEM
from server.stock import catalog, ledger
from server.stock.rules import ItemKind, Storage
from server.stock.schemas import CodeIn, ItemCreate, MovementResult, ReceiveIn


async def make_item(
    site_id: int,
    name: str = "Influenza vaccine",
    *,
    gtin: str | None = None,
    kind: ItemKind = ItemKind.VACCINE,
    pack_qty: int = 1,
) -> int:
    codes = [CodeIn(code=gtin, pack_qty=pack_qty)] if gtin else []
    item = await catalog.create_item(
        SYSTEM,
        site_id,
        ItemCreate(
            kind=kind,
            name=name,
            storage=Storage.FRIDGE if kind is ItemKind.VACCINE else Storage.ROOM,
            codes=codes,
        ),
        now=utcnow(),
    )
    return item.id


async def receive(
    site_id: int,
    item_id: int,
    location_id: int,
    quantity: int,
    lot: str = "LOT1",
    expiry: date | None = date(2030, 1, 31),
) -> MovementResult:
    return await ledger.receive(
        SYSTEM,
        site_id,
        ReceiveIn(item_id=item_id, lot_number=lot, expiry=expiry, quantity=quantity, location_id=location_id),
        now=utcnow(),
    )
