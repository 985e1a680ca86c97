"""Request and response shapes for stock counts and recalls."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

import msgspec

from server.schemas import Id, Read, Request
from server.stock.rules import AdjustReason, LotStatus
from server.stock.schemas import Code, Count, LotNumber, Note, Short

MAX_RECALL_LOTS = 100
NoticeText = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
Serial = Annotated[str, msgspec.Meta(max_length=40)]


class CountStatus(enum.StrEnum):
    OPEN = "open"
    POSTED = "posted"
    CANCELLED = "cancelled"


class CountStart(Request):
    location_id: Id
    note: Note = ""


class CountLineIn(Request):
    """Either ``lot_id``, or a scan's ``item_id`` + ``lot_number`` (+ ``serial``) for found stock."""

    counted: Count
    lot_id: Id | None = None
    item_id: Id | None = None
    lot_number: LotNumber | None = None
    serial: Serial = ""


class CountPost(Request):
    reasons: Annotated[dict[Id, AdjustReason], msgspec.Meta(max_length=10_000)] = {}
    note: Note = ""


class CountSummary(Read):
    id: int
    location_id: int
    location_name: str
    status: CountStatus
    note: str
    started_by: str
    started_at: datetime
    closed_by: str
    closed_at: datetime | None
    lines: int
    counted: int


class CountLineRead(Read):
    lot_id: int
    item_id: int
    item_name: str
    lot_number: str
    serial: str
    expiry: date | None
    lot_status: LotStatus
    expected: int
    counted: int | None
    on_hand: int
    variance: int | None
    reason: str
    counted_by: str
    counted_at: datetime | None
    found: bool


class CountDetail(Read):
    count: CountSummary
    lines: list[CountLineRead]


class CountAdjustment(Read):
    lot_id: int
    movement_id: int
    on_hand_before: int
    counted: int
    quantity: int
    reason: AdjustReason


class CountPostResult(Read):
    count: CountSummary
    adjustments: list[CountAdjustment]
    matched: list[int]
    not_counted: list[int]


class RecallCreate(Request):
    """Name the item by ``item_id`` or by one of its ``gtin``s, not both."""

    lot_numbers: Annotated[list[LotNumber], msgspec.Meta(min_length=1, max_length=MAX_RECALL_LOTS)]
    notice: NoticeText
    item_id: Id | None = None
    gtin: Code | None = None
    source: Short = ""


class RecallLocation(Read):
    location_id: int
    location_name: str
    on_hand: int


class RecalledLot(Read):
    lot_id: int
    lot_number: str
    serial: str
    expiry: date | None
    status: LotStatus
    received: int
    used: int
    on_hand: int
    locations: list[RecallLocation]


class RecallSummary(Read):
    id: int
    item_id: int
    item_name: str
    lot_numbers: list[str]
    notice: str
    source: str
    created_by: str
    created_at: datetime


class RecallDetail(Read):
    recall: RecallSummary
    lots: list[RecalledLot]
    not_found: list[str]
