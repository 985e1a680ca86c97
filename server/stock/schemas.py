"""Request and response shapes for the catalog and the ledger."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from server.schemas import Id, Name, Read, Request
from server.stock.rules import AdjustReason, ItemKind, LotStatus, MovementKind, Storage, WasteReason

Quantity = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
Level = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
LotNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Reference = Annotated[str, msgspec.Meta(max_length=64)]
Note = Annotated[str, msgspec.Meta(max_length=1000)]
Days = Annotated[int, msgspec.Meta(ge=1, le=3650)]
# Dollars (CAD) per stock unit, to the hundredth of a cent.
Cost = Annotated[float, msgspec.Meta(ge=0, le=1_000_000)]


class CodeIn(Request):
    code: Code
    pack_qty: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 1
    kind: Literal["gtin", "barcode"] = "gtin"


class CodeRead(Read):
    code: str
    kind: str
    pack_qty: int


class ItemCreate(Request):
    kind: ItemKind
    name: Name
    din: Annotated[str, msgspec.Meta(max_length=16)] = ""
    manufacturer: Short = ""
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] = "unit"
    doses_per_unit: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    storage: Storage = Storage.ROOM
    par_level: Level = 0
    reorder_point: Level = 0
    reorder_qty: Level = 0
    default_supplier: Short = ""
    publicly_funded: bool = False
    beyond_use_days: Days | None = None
    unit_cost: Cost | None = None
    codes: list[CodeIn] = []


class ItemUpdate(Request):
    name: Name | None = None
    din: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    manufacturer: Short | None = None
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    doses_per_unit: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    storage: Storage | None = None
    par_level: Level | None = None
    reorder_point: Level | None = None
    reorder_qty: Level | None = None
    default_supplier: Short | None = None
    publicly_funded: bool | None = None
    beyond_use_days: Days | None = None
    unit_cost: Cost | None = None
    active: bool | None = None


class ItemRead(Read):
    id: int
    site_id: int
    kind: ItemKind
    name: str
    din: str
    manufacturer: str
    unit: str
    doses_per_unit: int | None
    storage: Storage
    par_level: int
    reorder_point: int
    reorder_qty: int
    default_supplier: str
    publicly_funded: bool
    beyond_use_days: int | None
    unit_cost: float | None
    active: bool
    codes: list[CodeRead]


class LotRead(Read):
    id: int
    item_id: int
    lot_number: str
    expiry: date | None
    serial: str
    status: LotStatus


class ReceiveIn(Request):
    item_id: Id
    lot_number: LotNumber
    expiry: date | None
    quantity: Quantity
    location_id: Id
    serial: Annotated[str, msgspec.Meta(max_length=40)] = ""
    reference: Reference = ""


class UseIn(Request):
    lot_id: Id
    location_id: Id
    quantity: Quantity = 1
    reference: Reference = ""


class WasteIn(Request):
    lot_id: Id
    location_id: Id
    quantity: Quantity
    reason: WasteReason
    note: Note = ""


class TransferIn(Request):
    lot_id: Id
    from_location_id: Id
    to_location_id: Id
    quantity: Quantity


class ReturnIn(Request):
    lot_id: Id
    location_id: Id
    quantity: Quantity
    note: Note = ""


class AdjustIn(Request):
    lot_id: Id
    location_id: Id
    counted: Count
    reason: AdjustReason
    note: Note = ""


class StockWarning(Read):
    code: str
    message: str
    lot_id: int | None = None
    lot_number: str | None = None
    expiry: date | None = None
    location_id: int | None = None  # the place a FEFO warning is about
    scanned_expiry: date | None = None  # an expiry mismatch: what the scan said (expiry: what is recorded)


class MovementRead(Read):
    id: int
    kind: MovementKind
    lot_id: int
    location_id: int
    quantity: int
    reason: str
    reference: str
    note: str
    actor: str
    at: datetime


class MovementResult(Read):
    movements: list[MovementRead]
    lot: LotRead
    on_hand: dict[str, int]
    warnings: list[StockWarning] = []


class StockRow(Read):
    item_id: int
    item_name: str
    item_kind: ItemKind
    lot_id: int
    lot_number: str
    expiry: date | None
    status: LotStatus
    location_id: int
    location_name: str
    on_hand: int


class JournalRow(Read):
    id: int
    kind: MovementKind
    at: datetime
    quantity: int
    reason: str
    reference: str
    note: str
    actor: str
    actor_name: str
    lot_id: int
    lot_number: str
    expiry: date | None
    item_id: int
    item_name: str
    location_id: int
    location_name: str


class JournalPage(Read):
    items: list[JournalRow]
    next_before: int | None


class LotLevel(Read):
    location_id: int
    location_name: str
    on_hand: int


class LotDetail(Read):
    lot: LotRead
    item_name: str
    levels: list[LotLevel]
    history: list[JournalRow]


class VialOpen(Request):
    lot_id: Id
    location_id: Id


class VialRead(Read):
    id: int
    lot_id: int
    location_id: int
    opened_at: datetime
    beyond_use_at: datetime
    status: str
    opened_by: str


class ItemImport(Request):
    csv: Annotated[str, msgspec.Meta(min_length=1, max_length=2_000_000)]
    dry_run: bool = True


class ImportResult(Read):
    dry_run: bool
    created: list[str]
    updated: list[str]
    errors: list[dict[str, object]]
