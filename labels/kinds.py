"""The kinds of label, as plain values, and what each one prints (pure).

A label carries a :class:`Code`: either clinitrack's own code or plain text for Code 128 / QR /
DataMatrix, or GS1 element pairs for GS1-128 / GS1 DataMatrix. ``content()`` turns any label into
the same shape: a title, a few text lines, the code, and whether the code should be big.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from labels.symbols import Gs1, Symbol, Symbology, code128, datamatrix, gs1_128, gs1_datamatrix, qr

ROOM_LINES = ("Scan me to log a cleaning", "Scannez-moi pour consigner un nettoyage")


@dataclass(frozen=True)
class Code:
    """What the barcode holds: ``text`` (own code, item code or lot number) or ``gs1`` pairs."""

    text: str | None = None
    gs1: Gs1 | None = None

    @staticmethod
    def of_text(text: str) -> Code:
        return Code(text=text)

    @staticmethod
    def of_gs1(*pairs: tuple[str, str]) -> Code:
        return Code(gs1=tuple(pairs))


def gs1_lot(gtin: str, lot: str | None, expiry: date | None) -> Code:
    """(01) GTIN, (17) expiry, (10) lot: fixed-length fields first, so only the lot is variable."""
    pairs: list[tuple[str, str]] = [("01", gtin)]
    if expiry is not None:
        pairs.append(("17", expiry.strftime("%y%m%d")))
    if lot:
        pairs.append(("10", lot))
    return Code(gs1=tuple(pairs))


@dataclass(frozen=True)
class ItemLabel:
    name: str
    code: Code
    detail: str = ""


@dataclass(frozen=True)
class LotLabel:
    name: str
    lot: str
    expiry: date | None
    code: Code


@dataclass(frozen=True)
class LocationLabel:
    """A place or a fridge: its name and a big barcode."""

    name: str
    code: Code
    kind: str = "location"


@dataclass(frozen=True)
class RoomLabel:
    """A door label: scanning it starts a cleaning log for the room."""

    name: str
    code: Code


@dataclass(frozen=True)
class DeviceLabel:
    """A device or instrument set."""

    name: str
    code: Code
    detail: str = ""


@dataclass(frozen=True)
class PackLabel:
    """A sterilized pack (PIDAC/CSA Z314: date, sterilizer, load number and the reprocessor's initials)."""

    sterilized_on: date
    sterilizer: str
    load_number: str
    operator_initials: str
    contents: str
    code: Code
    use_by: date | None = None


Label = ItemLabel | LotLabel | LocationLabel | RoomLabel | DeviceLabel | PackLabel


@dataclass(frozen=True)
class Content:
    title: str
    lines: tuple[str, ...]
    code: Code
    big: bool = False
    footer: tuple[str, ...] = field(default=())


def _date(value: date | None) -> str:
    return value.isoformat() if value else "—"


def content(label: Label) -> Content:
    """What a label says, whatever its kind. Dates are ISO (2030-06-30): unambiguous in EN and FR."""
    match label:
        case ItemLabel():
            return Content(label.name, (label.detail,) if label.detail else (), label.code)
        case LotLabel():
            return Content(label.name, (f"Lot {label.lot}", f"Exp {_date(label.expiry)}"), label.code)
        case LocationLabel():
            return Content(label.name, (), label.code, big=True)
        case RoomLabel():
            return Content(label.name, (), label.code, big=True, footer=ROOM_LINES)
        case DeviceLabel():
            return Content(label.name, (label.detail,) if label.detail else (), label.code)
        case PackLabel():
            lines = [
                f"{_date(label.sterilized_on)}  Load {label.load_number}  {label.operator_initials}",
                f"Sterilizer {label.sterilizer}",
            ]
            if label.use_by:
                lines.append(f"Use by {_date(label.use_by)}")
            return Content(label.contents, tuple(lines), label.code)
    raise TypeError(f"not a label: {label!r}")


def symbol_for(code: Code, symbology: Symbology | None, *, two_d_first: bool) -> Symbol:
    """Encode ``code``; with no symbology given, GS1 data goes to GS1 DataMatrix (the Canadian vaccine
    standard's carrier) and text to Code 128 (every scanner reads it) or, where asked, a 2D symbol."""
    if code.gs1 is not None:
        if symbology in (Symbology.GS1_128, Symbology.CODE128):
            return gs1_128(code.gs1)
        return gs1_datamatrix(code.gs1)
    if code.text is None:
        raise TypeError("a code needs text or GS1 pairs")
    if symbology is Symbology.QR:
        return qr(code.text)
    if symbology is Symbology.DATAMATRIX or (symbology is None and two_d_first):
        return datamatrix(code.text)
    return code128(code.text)
