"""Request and response shapes for the labels API."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from server.schemas import Id, Read, Request

What = Literal["items", "lots", "locations", "rooms"]
Format = Literal["avery5160", "avery5163", "averyL7160", "roll2x1"]
SymbologyIn = Literal["auto", "code128", "gs1-128", "qr", "datamatrix"]
# One request prints at most this many labels (about 34 sheets of Avery 5160).
MAX_LABELS = 1000


class LabelRequest(Request):
    what: What
    # Empty: every active place (locations, rooms) or item of the site; lots must be named.
    ids: Annotated[list[Id], msgspec.Meta(max_length=MAX_LABELS)] = msgspec.field(default_factory=list)
    copies: Annotated[int, msgspec.Meta(ge=1, le=100)] = 1
    format: Format = "avery5160"
    start: Annotated[int, msgspec.Meta(ge=1, le=30)] = 1
    cut_lines: bool = False
    symbology: SymbologyIn = "auto"


class PrintRequest(LabelRequest):
    # A name from CLINITRACK_LABEL_PRINTERS (never an address: see server.labels.printers).
    printer: Annotated[str, msgspec.Meta(max_length=100)] = ""


class ItemCodeIn(Request):
    item_id: Id


class FormatRead(Read):
    name: str
    title: str
    per_page: int
    label_w_mm: float
    label_h_mm: float


class PrinterRead(Read):
    name: str
    dpi: int


class LabelOptions(Read):
    formats: list[FormatRead]
    printers: list[PrinterRead]


class LabelSource(Read):
    """Something that can be printed, with what its barcode will hold (or why it cannot be yet)."""

    id: int
    name: str
    detail: str = ""
    code: str | None = None
    problem: str | None = None


class PrintResult(Read):
    printer: str
    labels: int
    bytes: int


class ItemCodeRead(Read):
    item_id: int
    code: str
