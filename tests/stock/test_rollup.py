"""The alert sweep's view of stock (server/stock/rollup.py): after a fold, lot_stock has each lot's
units over every place and item_stock each item at or below its reorder point with its units in
available lots, whatever changed them, on both engines."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from server import sql
from server.clock import utcnow
from server.core.auth import SYSTEM
from server.core.rules import LocationKind
from server.db import write_transaction
from server.stock import ledger, rollup
from server.stock.rules import AdjustReason, LotStatus, WasteReason
from server.stock.schemas import AdjustIn, TransferIn, UseIn, WasteIn
from server.stock.tables import Item
from tests.factories import make_location, make_site
from tests.stock.factories import make_item, receive


async def _totals(item: int, *lots: int) -> tuple[int | None, list[int]]:
    """After a fold: the item's available units (None when it is above its reorder point, so not
    in the view) and each lot's units (0 when it has none)."""
    async with write_transaction():
        await rollup.fold()
    row = await sql.fetchrow("SELECT available FROM item_stock WHERE item = {}", item)
    kept = []
    for lot in lots:
        found = await sql.fetchrow("SELECT on_hand FROM lot_stock WHERE lot = {}", lot)
        kept.append(int(found["on_hand"]) if found else 0)
    return (int(row["available"]) if row else None), kept


async def _setup() -> dict[str, Any]:
    site = await make_site("Rollup clinic")
    fridge = await make_location(site, "Fridge", LocationKind.FRIDGE)
    shelf = await make_location(site, "Shelf", LocationKind.CABINET)
    item = await make_item(site, "Hep B vaccine")
    a = (await receive(site, item, fridge, 10, lot="A", expiry=date(2031, 1, 31))).lot.id
    b = (await receive(site, item, fridge, 5, lot="B", expiry=date(2031, 6, 30))).lot.id
    await Item.update({Item.reorder_point: 100}).where(Item.id == item)  # in the view at <= 100
    return {"site": site, "fridge": fridge, "shelf": shelf, "item": item, "a": a, "b": b}


async def test_totals_follow_every_kind_of_change() -> None:
    d = await _setup()
    site, item, a, b, fridge, shelf = d["site"], d["item"], d["a"], d["b"], d["fridge"], d["shelf"]
    now = utcnow()
    assert await _totals(item, a, b) == (15, [10, 5])

    await ledger.use(SYSTEM, site, UseIn(lot_id=a, location_id=fridge, quantity=2), now=now)
    await ledger.transfer(
        SYSTEM, site, TransferIn(lot_id=a, from_location_id=fridge, to_location_id=shelf, quantity=3), now=now
    )
    assert await _totals(item, a, b) == (13, [8, 5])  # a move changes places, not totals

    await ledger.waste(
        SYSTEM, site, WasteIn(lot_id=b, location_id=fridge, quantity=1, reason=WasteReason.BROKEN), now=now
    )
    await ledger.adjust(
        SYSTEM, site, AdjustIn(lot_id=a, location_id=shelf, counted=1, reason=AdjustReason.COUNT), now=now
    )
    assert await _totals(item, a, b) == (10, [6, 4])

    # A lot on hold is not available: its units leave the item's total and come back on release.
    await ledger.set_lot_status(SYSTEM, site, b, LotStatus.QUARANTINED, "fridge too warm", now=now)
    assert await _totals(item, a, b) == (6, [6, 4])
    await ledger.set_lot_status(SYSTEM, site, b, LotStatus.AVAILABLE, "data logger checked", now=now)
    assert await _totals(item, a, b) == (10, [6, 4])

    # Using a lot up (it may become depleted) and receiving it again.
    await ledger.use(SYSTEM, site, UseIn(lot_id=b, location_id=fridge, quantity=4), now=now)
    assert await _totals(item, a, b) == (6, [6, 0])
    await receive(site, item, fridge, 7, lot="B", expiry=date(2031, 6, 30))
    assert await _totals(item, a, b) == (13, [6, 7])
    assert await rollup.mismatches() == (0, 0)


async def test_the_view_leaves_items_above_their_reorder_point_and_lots_used_up() -> None:
    d = await _setup()
    site, item, fridge = d["site"], d["item"], d["fridge"]
    await Item.update({Item.reorder_point: 10}).where(Item.id == item)
    assert await _totals(item, d["a"]) == (None, [10])  # 15 > 10: not low
    await ledger.use(SYSTEM, site, UseIn(lot_id=d["a"], location_id=fridge, quantity=10), now=utcnow())
    assert await _totals(item, d["a"], d["b"]) == (5, [0, 5])
    await Item.update({Item.active: False}).where(Item.id == item)
    assert await _totals(item) == (None, [])  # retired items raise no stock alert
    assert await sql.fetchrow("SELECT COUNT(*) AS n FROM stock_change") == {"n": 0}  # all folded


async def test_rebuild_repairs_the_view() -> None:
    d = await _setup()
    await rollup.mismatches()
    await sql.fetch("UPDATE lot_stock SET on_hand = 99 WHERE lot = {}", d["a"])  # as a bad load might
    await sql.fetch("DELETE FROM item_stock WHERE item = {}", d["item"])
    # A wrong row counts twice (the right one missing, the wrong one extra); a missing row once.
    assert await rollup.mismatches() == (2, 1)
    assert await rollup.rebuild() == await Item.count()
    assert await rollup.mismatches() == (0, 0)
    assert await _totals(d["item"], d["a"], d["b"]) == (15, [10, 5])


async def test_racing_uses_of_one_items_lots_neither_deadlock_nor_drift() -> None:
    """Many transactions over different lots of one item at once (PostgreSQL takes the item's row
    lock at commit): every use lands and the totals still add up."""
    d = await _setup()
    site, item, fridge = d["site"], d["item"], d["fridge"]
    lots = [d["a"], d["b"]] + [
        (await receive(site, item, fridge, 6, lot=f"L{i}", expiry=date(2031, 3, 31))).lot.id for i in range(4)
    ]

    async def use(lot: int) -> None:
        await ledger.use(SYSTEM, site, UseIn(lot_id=lot, location_id=fridge, quantity=1), now=utcnow())

    async def count_down(lot: int) -> None:
        await ledger.adjust(
            SYSTEM, site, AdjustIn(lot_id=lot, location_id=fridge, counted=2, reason=AdjustReason.COUNT),
            now=utcnow(),
        )

    spare = (await receive(site, item, fridge, 6, lot="SPARE", expiry=date(2031, 3, 31))).lot.id
    await asyncio.gather(*[use(lot) for lot in lots for _ in range(3)], count_down(spare))
    total, kept = await _totals(item, *lots, spare)
    assert kept == [7, 2, 3, 3, 3, 3, 2]
    assert total == sum(kept) == 23
    assert await rollup.mismatches() == (0, 0)
