"""Stock tables. Every table carries site_id for per-site queries (and sharding by site later).

The ledger (Movement) is append-only; StockLevel is the running sum per lot and location, updated
in the same transaction as each movement.
"""

from piccolo.columns import (
    UUID,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    OnDelete,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from server.core.tables import Location, Site


class Item(Table):
    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=16)
    name = Varchar(length=200)
    din = Varchar(length=16)
    manufacturer = Varchar(length=200)
    unit = Varchar(length=32, default="unit")
    doses_per_unit = Integer(null=True, default=None)
    storage = Varchar(length=16, default="room")
    par_level = Integer(default=0)
    reorder_point = Integer(default=0)
    reorder_qty = Integer(default=0)
    default_supplier = Varchar(length=200)
    publicly_funded = Boolean(default=False)
    beyond_use_days = Integer(null=True, default=None)
    active = Boolean(default=True)
    created_at = Timestamptz()
    # Dollars (CAD) per stock unit; NULL = not known (reports say so rather than count it as free).
    unit_cost = Numeric(digits=(12, 4), null=True, default=None)


class ItemCode(Table, tablename="item_code"):
    """A GTIN (with its pack quantity) or another barcode linked to an item; unique per site."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False)
    item = ForeignKey(references=Item, on_delete=OnDelete.restrict, null=False, index=True)
    code = Varchar(length=64)
    kind = Varchar(length=16, default="gtin")
    pack_qty = Integer(default=1)
    created_at = Timestamptz()


class Lot(Table):
    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    item = ForeignKey(references=Item, on_delete=OnDelete.restrict, null=False, index=True)
    lot_number = Varchar(length=40)
    expiry = Date(null=True, default=None)
    serial = Varchar(length=40)
    status = Varchar(length=16, default="available")
    status_reason = Text()
    created_at = Timestamptz()


class StockLevel(Table, tablename="stock_level"):
    """On hand per lot and location: always the sum of that pair's movements, never negative."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict, null=False, index=True)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict, null=False, index=True)
    on_hand = Integer(default=0)


class Movement(Table):
    """Append-only ledger row: quantity is signed (+ in, - out) for one lot at one location."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    kind = Varchar(length=16)
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict, null=False, index=True)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict, null=False, index=True)
    quantity = Integer()
    reason = Varchar(length=32)
    note = Text()
    reference = Varchar(length=64)
    group_key = UUID(index=True)
    actor = Varchar(length=80)
    at = Timestamptz(index=True)


class StockCount(Table, tablename="stock_count"):
    """A count of one place (for example the vaccine fridge, monthly): open, then posted."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict, null=False)
    status = Varchar(length=16, default="open")
    started_by = Varchar(length=80)
    started_at = Timestamptz()
    posted_by = Varchar(length=80)
    posted_at = Timestamptz(null=True, default=None)
    note = Text()


class StockCountLine(Table, tablename="stock_count_line"):
    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False)
    count = ForeignKey(references=StockCount, on_delete=OnDelete.restrict, null=False, index=True)
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict, null=False)
    expected = Integer(default=0)
    counted = Integer(null=True, default=None)
    reason = Varchar(length=32)
    counted_by = Varchar(length=80)
    counted_at = Timestamptz(null=True, default=None)


class Recall(Table):
    """A recall notice: an item (or GTIN) and lot numbers; matching lots are quarantined as recalled."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    item = ForeignKey(references=Item, on_delete=OnDelete.restrict, null=False)
    lot_numbers = Text()
    notice = Text()
    source = Varchar(length=200)
    created_by = Varchar(length=80)
    created_at = Timestamptz()


class OpenedVial(Table, tablename="opened_vial"):
    """A multi-dose vial once opened: tracked until finished or wasted at its beyond-use time."""

    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict, null=False, index=True)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict, null=False)
    opened_at = Timestamptz()
    beyond_use_at = Timestamptz(index=True)
    opened_by = Varchar(length=80)
    status = Varchar(length=16, default="open")
    closed_at = Timestamptz(null=True, default=None)


# The alert sweep's view of stock (server/stock/rollup.py). Triggers only append to stock_change;
# the sweep folds those items into lot_stock and item_stock, which nothing else writes, so no
# user's transaction ever waits on them.
class StockChange(Table, tablename="stock_change"):
    """An item whose levels, lots or settings changed since the last fold (one row per change)."""

    id: Serial
    item = Integer()


class LotStock(Table, tablename="lot_stock"):
    """Each lot with units on hand: its total over every place, with what the alerts print."""

    lot = Integer(primary_key=True)
    site = Integer(index=True)
    item = Integer(index=True)
    lot_number = Varchar(length=40)
    expiry = Date(null=True, default=None)
    status = Varchar(length=16)
    name = Varchar(length=200)
    kind = Varchar(length=16)
    active = Boolean(default=True)
    reorder_point = Integer(default=0)
    par_level = Integer(default=0)
    on_hand = Integer()


class ItemStock(Table, tablename="item_stock"):
    """Each active item whose units in available lots are at or below its reorder point."""

    item = Integer(primary_key=True)
    site = Integer(index=True)
    name = Varchar(length=200)
    kind = Varchar(length=16)
    reorder_point = Integer()
    par_level = Integer()
    available = Integer()
