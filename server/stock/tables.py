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
