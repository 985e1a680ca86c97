"""The alert sweep's view of stock: lot_stock and item_stock, folded from the ledger's changes.

`lot_stock` holds each lot with units on hand (its total over every place, with the lot's
number, status and expiry and the item's name, kind and settings: what the rules read and
print); `item_stock` each active item whose units in `available` lots are at or below its
reorder point. Triggers append
the item of every changed stock level, lot or item to `stock_change` (migration
`stock_2026_11_29t07_46_00_000000`); `fold()`, run by the sweep before the stock rules,
recomputes just those items. So the stock rules read a few thousand rows through small indexes
instead of adding up every stock level of the region (2 M rows: 3 s per rule), and the ledger's
transactions only append: nothing they do waits on these tables (totals kept on the lot and item
rows were locked by a committing use while a recall held the lot: a deadlock).

The view is as fresh as the last fold: the sweep folds first, inside its own transaction.
"""

from __future__ import annotations

from server import sql
from server.db import is_sqlite, write_transaction

# Any constant: sweeps that fold at once would otherwise race to rewrite the same rows.
_FOLD_LOCK = 7_305_001


_REFOLD = [
    "DELETE FROM lot_stock WHERE item IN (SELECT c.item FROM stock_changed c)",
    """
INSERT INTO lot_stock (lot, site, item, lot_number, expiry, status, name, kind, active, reorder_point,
                       par_level, on_hand)
SELECT l.id, l.site, l.item, l.lot_number, l.expiry, l.status, i.name, i.kind, i.active, i.reorder_point,
       i.par_level, s.units
FROM (SELECT sl.lot, SUM(sl.on_hand) AS units
      FROM stock_level sl JOIN lot held ON held.id = sl.lot
      WHERE held.item IN (SELECT c.item FROM stock_changed c)
      GROUP BY sl.lot) s
JOIN lot l ON l.id = s.lot
JOIN item i ON i.id = l.item
WHERE s.units > 0
""",
    "DELETE FROM item_stock WHERE item IN (SELECT c.item FROM stock_changed c)",
    """
INSERT INTO item_stock (item, site, name, kind, reorder_point, par_level, available)
SELECT i.id, i.site, i.name, i.kind, i.reorder_point, i.par_level, COALESCE(a.units, 0)
FROM item i
LEFT JOIN (SELECT ls.item, SUM(ls.on_hand) AS units FROM lot_stock ls
           WHERE ls.status = 'available' AND ls.item IN (SELECT c.item FROM stock_changed c)
           GROUP BY ls.item) a ON a.item = i.id
WHERE i.id IN (SELECT c.item FROM stock_changed c) AND i.active
  AND COALESCE(a.units, 0) <= i.reorder_point AND (i.reorder_point > 0 OR i.par_level > 0)
""",
]


async def fold() -> int:
    """Recompute the items changed since the last fold; returns how many. Call it inside a write
    transaction: the view then matches the ledger as that transaction sees it."""
    if not await sql.fetch("SELECT 1 AS one FROM stock_change LIMIT 1"):
        return 0
    async with sql.scratch_table("stock_changed", "item INTEGER PRIMARY KEY"):
        if is_sqlite():
            # One writer at a time: what is read here is what is deleted.
            await sql.fetch("INSERT INTO stock_changed SELECT DISTINCT item FROM stock_change")
            await sql.fetch("DELETE FROM stock_change")
        else:
            await sql.fetch("SELECT pg_advisory_xact_lock({})", _FOLD_LOCK)
            # DELETE ... RETURNING takes exactly the changes this statement sees; one committed
            # after it stays for the next fold (a read-then-delete by id could drop it unread).
            await sql.fetch(
                "WITH done AS (DELETE FROM stock_change RETURNING item) "
                "INSERT INTO stock_changed SELECT DISTINCT item FROM done"
            )
            await sql.fetch("ANALYZE stock_changed")  # a handful of items or all: plan for it
        row = await sql.fetchrow("SELECT COUNT(*) AS n FROM stock_changed")
        for statement in _REFOLD:
            await sql.fetch(statement)
    return int(row["n"]) if row else 0


async def rebuild() -> int:
    """Recompute every item (after a bulk load that bypassed the triggers); returns how many."""
    async with write_transaction():
        await sql.fetch("INSERT INTO stock_change (item) SELECT id FROM item")
        return await fold()


# The view as it should be, computed from the ledger (EXCEPT compares NULLs as equal).
_LOTS_EXPECTED = """
SELECT l.id, l.site, l.item, l.lot_number, l.expiry, l.status, i.name, i.kind, i.active, i.reorder_point,
       i.par_level, s.units
FROM (SELECT lot, SUM(on_hand) AS units FROM stock_level GROUP BY lot) s
JOIN lot l ON l.id = s.lot JOIN item i ON i.id = l.item
WHERE s.units > 0
"""
_LOTS_KEPT = (
    "SELECT lot, site, item, lot_number, expiry, status, name, kind, active, reorder_point, par_level, "
    "on_hand FROM lot_stock"
)
_ITEMS_EXPECTED = """
SELECT i.id, i.site, i.name, i.kind, i.reorder_point, i.par_level, COALESCE(a.units, 0)
FROM item i
LEFT JOIN (SELECT l.item, SUM(sl.on_hand) AS units FROM stock_level sl JOIN lot l ON l.id = sl.lot
           WHERE l.status = 'available' GROUP BY l.item) a ON a.item = i.id
WHERE i.active AND COALESCE(a.units, 0) <= i.reorder_point AND (i.reorder_point > 0 OR i.par_level > 0)
"""
_ITEMS_KEPT = "SELECT item, site, name, kind, reorder_point, par_level, available FROM item_stock"


def _differences(expected: str, kept: str) -> str:
    """Rows in one and not the other, both ways."""
    one_way = "SELECT COUNT(*) FROM (SELECT * FROM (A) a EXCEPT SELECT * FROM (B) b) d"
    return (
        "SELECT ("
        + one_way.replace("(A)", f"({expected})").replace("(B)", f"({kept})")
        + ") + ("
        + one_way.replace("(A)", f"({kept})").replace("(B)", f"({expected})")
        + ") AS n"
    )


async def mismatches() -> tuple[int, int]:
    """Fold, then count the lot and item rows of the view that differ from the ledger: (0, 0)."""
    async with write_transaction():
        await fold()
        lots = await sql.fetchrow(_differences(_LOTS_EXPECTED, _LOTS_KEPT))
        items = await sql.fetchrow(_differences(_ITEMS_EXPECTED, _ITEMS_KEPT))
    return int(lots["n"] if lots else 0), int(items["n"] if items else 0)
