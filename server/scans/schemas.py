"""What the scan endpoint answers."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec

from server.scans.results import ScanError, ScanParse, ScanReading
from server.schemas import Read, Request
from server.stock.schemas import StockWarning


class ScanIn(Request):
    raw: Annotated[str, msgspec.Meta(max_length=4096)]
    site_id: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)] | None = None


class ScanAction(Read):
    action: str
    enabled: bool
    reason: str | None = None
    code: str | None = None


class ScanPrefill(Read):
    """What a receive form can fill in from the scan."""

    item_id: int
    lot_number: str | None
    expiry: date | None
    serial: str | None
    pack_qty: int


class ScanAnswer(Read):
    raw: str
    kind: str
    parsed: ScanParse
    ambiguous: bool
    readings: list[ScanReading]
    errors: list[ScanError]
    code: str | None = None  # what an unknown code is linked to an item under
    entity: dict[str, Any] | None = None
    item: dict[str, Any] | None = None
    levels: list[dict[str, Any]] = []
    actions: list[ScanAction] = []
    prefill: ScanPrefill | None = None
    warnings: list[StockWarning] = []
