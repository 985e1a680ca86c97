"""What a lot's unit is worth: the prices it was received at against orders, else the item's catalog
cost, else unknown (rules.lot_unit_cost). Two queries per site, read-only."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from server import sql
from server.purchasing import rules

_ITEM_COSTS = "SELECT id, unit_cost, active FROM item WHERE site = {}"
_RECEIVED = """
SELECT r.lot, SUM(r.units) AS units, SUM(r.units * r.unit_cost) AS value,
       SUM(CASE WHEN r.unit_cost IS NULL THEN r.units ELSE 0 END) AS unpriced
FROM order_receipt r WHERE r.site = {} GROUP BY r.lot
"""


@dataclass
class Costs:
    items: dict[int, Decimal | None]
    received: dict[int, tuple[int, Decimal | None, int]]  # lot -> (units, value, unpriced units)
    items_without_cost: int  # active catalog items with no unit cost
    active_items: int

    def unit_cost(self, lot_id: int, item_id: int) -> Decimal | None:
        item_cost = self.items.get(item_id)
        got = self.received.get(lot_id)
        if got is None:
            return item_cost
        return rules.lot_unit_cost(got[0], got[1], got[2], item_cost)


async def costs(site_id: int) -> Costs:
    items = await sql.fetch(_ITEM_COSTS, site_id)
    received = await sql.fetch(_RECEIVED, site_id)
    active = [r for r in items if r["active"]]
    return Costs(
        items={int(r["id"]): rules.money(r["unit_cost"]) for r in items},
        received={
            int(r["lot"]): (int(r["units"] or 0), rules.money(r["value"]), int(r["unpriced"] or 0))
            for r in received
        },
        items_without_cost=sum(1 for r in active if r["unit_cost"] is None),
        active_items=len(active),
    )
