"""Purchasing tables: suppliers, purchase orders with their lines, and receipts against a line.

Quantities on a line are ordered in packs (``packs`` x ``pack_qty`` units); what arrives is counted in
units, as the stock ledger counts them. A receipt names the ledger movement it made.
"""

from piccolo.columns import (
    Boolean,
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
from server.stock.tables import Item, Lot


class Supplier(Table):
    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    name = Varchar(length=200)
    email = Varchar(length=200)
    phone = Varchar(length=40)
    active = Boolean(default=True)
    created_at = Timestamptz()


class PurchaseOrder(Table, tablename="purchase_order"):
    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    supplier = ForeignKey(references=Supplier, on_delete=OnDelete.restrict, null=False, index=True)
    number = Varchar(length=32)
    status = Varchar(length=24, default="draft", index=True)
    note = Text()
    cancel_reason = Text()
    created_by = Varchar(length=80)
    created_at = Timestamptz()
    sent_by = Varchar(length=80)
    sent_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)


class PurchaseOrderLine(Table, tablename="purchase_order_line"):
    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False)
    order = ForeignKey(references=PurchaseOrder, on_delete=OnDelete.restrict, null=False, index=True)
    item = ForeignKey(references=Item, on_delete=OnDelete.restrict, null=False, index=True)
    packs = Integer()
    pack_qty = Integer(default=1)
    suggested_packs = Integer(null=True, default=None)
    received_units = Integer(default=0)
    closed = Boolean(default=False)
    discrepancy = Varchar(length=16, default="none")
    discrepancy_units = Integer(default=0)
    # Dollars (CAD) per stock unit (not per pack); NULL = not known. Defaults to the item's cost.
    unit_price = Numeric(digits=(12, 4), null=True, default=None)


class OrderReceipt(Table, tablename="order_receipt"):
    id: Serial
    site = ForeignKey(references=Site, on_delete=OnDelete.restrict, null=False, index=True)
    line = ForeignKey(references=PurchaseOrderLine, on_delete=OnDelete.restrict, null=False, index=True)
    lot = ForeignKey(references=Lot, on_delete=OnDelete.restrict, null=False)
    location = ForeignKey(references=Location, on_delete=OnDelete.restrict, null=False)
    units = Integer()
    movement_id = Integer()
    note = Text()
    actor = Varchar(length=80)
    at = Timestamptz()
    # What each unit of this receipt cost (the line's price when it came in): the lot's value.
    unit_cost = Numeric(digits=(12, 4), null=True, default=None)
