"""Result types of the pure scan pipeline; msgspec Structs because they go out over HTTP as they are."""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

ScanKind = Literal["gs1", "hibc", "label", "gtin", "text", "empty"]


class ScanError(msgspec.Struct, kw_only=True, frozen=True):
    """One problem found in a scan. ``code`` is stable (the UI translates it); ``message`` is English."""

    code: str
    message: str


class ScanReading(msgspec.Struct, kw_only=True, frozen=True):
    """One way to read a GS1 message; several of them exist when a missing separator leaves a choice."""

    gtin: str | None = None
    lot: str | None = None
    expiry: date | None = None
    serial: str | None = None
    production_date: date | None = None
    quantity: int | None = None
    ais: dict[str, str] = msgspec.field(default_factory=dict)


class HibcData(msgspec.Struct, kw_only=True, frozen=True):
    """Fields of an HIBC supplier label (ANSI/HIBC 2.x), primary and/or secondary data."""

    lic: str | None = None
    product: str | None = None
    unit: int | None = None
    lot: str | None = None
    expiry: date | None = None
    serial: str | None = None
    quantity: int | None = None
    production_date: date | None = None
    # A secondary scanned on its own carries the primary's check character, to pair the two scans.
    link: str | None = None


class ScanParse(msgspec.Struct, kw_only=True, frozen=True):
    """What a scan says, before anything is looked up.

    ``text`` is the scan without surrounding whitespace and without its AIM symbology identifier: the
    resolver tries it as a lot number or a linked barcode when nothing else matches.
    When ``ambiguous`` is true the top-level fields hold only what every reading agrees on.
    """

    raw: str
    text: str = ""
    normalized: str | None = None
    symbology: str | None = None
    kind: ScanKind = "text"
    gtin: str | None = None
    lot: str | None = None
    expiry: date | None = None
    serial: str | None = None
    production_date: date | None = None
    quantity: int | None = None
    ais: dict[str, str] = msgspec.field(default_factory=dict)
    label_code: str | None = None
    label_prefix: str | None = None
    hibc: HibcData | None = None
    ambiguous: bool = False
    readings: list[ScanReading] = msgspec.field(default_factory=list)
    errors: list[ScanError] = msgspec.field(default_factory=list)

    @property
    def error_codes(self) -> list[str]:
        return [error.code for error in self.errors]
