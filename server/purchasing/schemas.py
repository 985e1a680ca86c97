"""Request and response shapes for suppliers, suggestions, purchase orders and receipts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from server.purchasing.rules import Discrepancy, OrderStatus
from server.schemas import Id, Name, Read, Request

Packs = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
PackQty = Annotated[int, msgspec.Meta(ge=1, le=100_000)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
Email = Annotated[str, msgspec.Meta(max_length=200, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, msgspec.Meta(max_length=40)]
Note = Annotated[str, msgspec.Meta(max_length=1000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
Scan = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
LotNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Price = Annotated[float, msgspec.Meta(ge=0, le=1_000_000)]  # CAD per stock unit


class SupplierIn(Request):
    name: Name
    email: Email = ""
    phone: Phone = ""


class SupplierUpdate(Request):
    name: Name | None = None
    email: Email | None = None
    phone: Phone | None = None
    active: bool | None = None


class SupplierRead(Read):
    id: int
    name: str
    email: str
    phone: str
    active: bool


class SuggestionRead(Read):
    item_id: int
    item_name: str
    item_kind: str
    supplier_name: str  # the item's default supplier, as typed in the catalog
    supplier_id: int | None  # that supplier, when it is on the site's supplier list
    par_level: int
    reorder_point: int
    usable_on_hand: int
    on_order: int
    pack_qty: int
    needed_units: int
    packs: int
    units: int
    capped: bool
    month_supply: int | None
    used_recently: int
    note: str


class SupplierSuggestions(Read):
    supplier_name: str
    supplier_id: int | None
    lines: list[SuggestionRead]


class DraftLineIn(Request):
    item_id: Id
    packs: Annotated[int, msgspec.Meta(ge=1, le=100_000)]
    pack_qty: PackQty | None = None  # default: the item's largest GTIN pack
    supplier_id: Id | None = None  # default: the item's default supplier
    suggested_packs: Packs | None = None
    unit_price: Price | None = None  # default: the item's unit cost in the catalog


class DraftsIn(Request):
    lines: Annotated[list[DraftLineIn], msgspec.Meta(min_length=1, max_length=500)]
    note: Note = ""


class LineUpdate(Request):
    packs: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | None = None
    unit_price: Price | None = None


class SendIn(Request):
    email: bool = False  # also e-mail the order to the supplier (queued, retried until sent)


class CloseLineIn(Request):
    reason: Reason


class CancelIn(Request):
    reason: Reason


class ReceiptRead(Read):
    id: int
    lot_id: int
    lot_number: str
    expiry: date | None
    location_id: int
    units: int
    movement_id: int
    note: str
    actor: str
    at: datetime
    unit_cost: float | None = None


class LineRead(Read):
    id: int
    item_id: int
    item_name: str
    packs: int
    pack_qty: int
    ordered_units: int
    suggested_packs: int | None
    received_units: int
    closed: bool
    discrepancy: Discrepancy
    discrepancy_units: int
    unit_price: float | None = None  # CAD per unit; None = not known
    line_value: float | None = None  # ordered units x unit price
    receipts: list[ReceiptRead] = []


class OrderRead(Read):
    id: int
    number: str
    site_id: int
    supplier_id: int
    supplier_name: str
    status: OrderStatus
    note: str
    cancel_reason: str
    created_by: str
    created_at: datetime
    sent_by: str
    sent_at: datetime | None
    closed_at: datetime | None
    lines: list[LineRead]
    value: float | None = None  # the lines' value in CAD; None when a line has no price


class DraftsResult(Read):
    orders: list[OrderRead]


class ReceiveLineIn(Request):
    """Receive against one order line. With ``scan`` (a GS1 code), the item must match the line and
    its lot and expiry fill what is not given; ``quantity`` then counts scanned packs (x the code's
    pack size). Without a scan, ``quantity`` is in units and the lot number is required."""

    location_id: Id
    quantity: Quantity
    scan: Scan | None = None
    lot_number: LotNumber | None = None
    expiry: date | None = None
    final: bool = False  # nothing more is coming for this line: a shortfall becomes a discrepancy
    note: Note = ""


class ReceiveResult(Read):
    order: OrderRead
    line_id: int
    receipt: ReceiptRead
    units: int
    warnings: list[str] = []


class LowStockRead(Read):
    item_id: int
    item_name: str
    usable_on_hand: int
    on_order: int
    par_level: int


class ExpiringRead(Read):
    days: int
    lots: int
    units: int
    value: float | None = None  # CAD of the units with a known cost; None when none has one
    unpriced_units: int = 0  # units whose cost is not known (not in value)


class WasteCostRead(Read):
    reason: str
    units: int
    value: float | None  # CAD; None when none of it has a known cost
    unpriced_units: int


class ComplianceRead(Read):
    done: int  # up to date / complete
    total: int
    late: int  # overdue / incomplete


class CountRead(Read):
    key: str
    count: int


class DashboardRead(Read):
    """The manager's numbers for one site. Money is CAD; a cost that is not known is None (unknown),
    with the units it covers, never counted as zero."""

    low_stock: list[LowStockRead]
    expiring: list[ExpiringRead]  # usable lots expiring within 30, 60 and 90 days (cumulative)
    wastage_month: str  # the site's current local month, YYYY-MM
    wastage_by_reason: list[CountRead]  # units wasted this month per reason
    open_orders: list[CountRead]  # per status: draft, sent, partly_received
    open_alerts: list[CountRead]  # unresolved alerts per rule (overdue counts, cleaning, expiry...)
    currency: str = "CAD"
    wastage_cost: list[WasteCostRead] = []  # this month, per reason
    wastage_total: WasteCostRead | None = None
    items_without_cost: int = 0  # active catalog items with no unit cost
    active_items: int = 0
    overdue_tasks: list[CountRead] = []  # cleaning (now), stock counts, temperature readings, ...
    cleaning: ComplianceRead | None = None  # cleaning plans up to date now
    reprocessing: ComplianceRead | None = None  # loads of the last 30 days released vs still open/held
    sterilization_gaps_today: int = 0  # what today's sterilization log is missing
