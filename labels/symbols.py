"""Barcode symbols as module grids: what to print, independent of where and how big.

Each encoder returns a :class:`Symbol` whose rows are strings of ``"1"`` (dark) and ``"0"``
(light) modules, without the quiet zone, plus how many quiet modules the symbology needs.
Renderers multiply modules by a whole number of printer dots, never by a fraction.

- Code 128 and GS1-128: python-barcode (FNC1 is ``"\\xf1"`` after a variable-length AI).
- QR: segno.
- GS1 DataMatrix: zxing-cpp's writer, the only maintained PyPI library found that writes a real
  GS1 DataMatrix (``]d2``) from a wheel with no system package (stack-notes §4): pylibdmtx has no
  FNC1 mode and needs apt's libdmtx, ppf-datamatrix has no GS1 mode, treepoem needs Ghostscript.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from labels.errors import LabelError

if TYPE_CHECKING:
    import zxingcpp

# The encoders (python-barcode, segno, zxing-cpp) are imported where a symbol is made: a service
# worker that never draws a label does not hold them in memory (README, "RSS per worker").


class Symbology(enum.StrEnum):
    CODE128 = "code128"
    GS1_128 = "gs1-128"
    QR = "qr"
    DATAMATRIX = "datamatrix"


@dataclass(frozen=True)
class Symbol:
    symbology: Symbology
    rows: tuple[str, ...]
    quiet: int
    # The human-readable text printed under or beside the symbol.
    text: str

    @property
    def linear(self) -> bool:
        return len(self.rows) == 1

    @property
    def width(self) -> int:
        """Modules across, quiet zones included."""
        return len(self.rows[0]) + 2 * self.quiet

    @property
    def height(self) -> int:
        """Modules down for a 2D symbol, quiet zones included (a linear symbol's height is chosen)."""
        return len(self.rows) + 2 * self.quiet


# --- GS1 element strings -------------------------------------------------------------------------

Gs1 = tuple[tuple[str, str], ...]

# AIs with a predefined length (GS1 General Specifications, figure 7.8.5-2): no FNC1 after them.
_FIXED_LENGTH = {"00": 18, "01": 14, "02": 14, "11": 6, "12": 6, "13": 6, "15": 6, "16": 6, "17": 6}
# GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
_CSET82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$")
_VARIABLE_MAX = {"10": 20, "21": 20}


def check_gs1(pairs: Gs1) -> None:
    """Refuse what a scanner would read back differently: bad GTIN, bad dates, bad characters."""
    if not pairs:
        raise LabelError("A GS1 barcode needs at least one element.", code="gs1_empty")
    for ai, value in pairs:
        fixed = _FIXED_LENGTH.get(ai)
        if fixed is not None:
            if len(value) != fixed or not value.isascii() or not value.isdigit():
                raise LabelError(f"GS1 ({ai}) must be {fixed} digits, not {value!r}.", code="gs1_invalid")
        elif ai in _VARIABLE_MAX:
            if not 1 <= len(value) <= _VARIABLE_MAX[ai] or not _CSET82.match(value):
                raise LabelError(
                    f"GS1 ({ai}) takes 1 to {_VARIABLE_MAX[ai]} letters, digits or GS1 punctuation, "
                    f"not {value!r}.",
                    code="gs1_invalid",
                )
        else:
            raise LabelError(f"GS1 AI ({ai}) is not supported on labels.", code="gs1_invalid")
        if ai in ("01", "02") and str(_check_digit(value[:-1])) != value[-1]:
            raise LabelError(f"{value} is not a valid GTIN: bad check digit.", code="gs1_invalid")


def _check_digit(digits: str) -> int:
    """GS1 standard check digit (General Specifications 7.9.1); ``digits`` are ASCII digits here."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def gs1_hri(pairs: Gs1) -> str:
    """The human-readable interpretation: ``(01)09506000134352(17)261231(10)LOT42``."""
    return "".join(f"({ai}){value}" for ai, value in pairs)


def gs1_element_string(pairs: Gs1, fnc1: str = "\xf1") -> str:
    """AIs and values run together, with FNC1 after each variable-length value but the last."""
    parts = []
    for i, (ai, value) in enumerate(pairs):
        parts.append(ai + value)
        if ai not in _FIXED_LENGTH and i < len(pairs) - 1:
            parts.append(fnc1)
    return "".join(parts)


# --- encoders ------------------------------------------------------------------------------------

_CODE128_TEXT = re.compile(r"^[\x20-\x7e]{1,48}$")


def _check_text(value: str) -> None:
    if not _CODE128_TEXT.match(value):
        raise LabelError(
            "A barcode text must be 1 to 48 printable ASCII characters.", code="barcode_text_invalid"
        )


@lru_cache(maxsize=4096)
def code128(value: str) -> Symbol:
    import barcode

    _check_text(value)
    bars = barcode.get("code128", value).build()[0]
    return Symbol(Symbology.CODE128, (bars,), quiet=10, text=value)


@lru_cache(maxsize=4096)
def gs1_128(pairs: Gs1) -> Symbol:
    import barcode

    check_gs1(pairs)
    bars = barcode.get("gs1_128", gs1_element_string(pairs)).build()[0]
    return Symbol(Symbology.GS1_128, (bars,), quiet=10, text=gs1_hri(pairs))


@lru_cache(maxsize=4096)
def qr(value: str) -> Symbol:
    import segno

    _check_text(value)
    # Level M: a door label may get scuffed; boost_error=False keeps the symbol no larger than needed.
    code = segno.make(value, error="m", micro=False, boost_error=False)
    rows = tuple("".join("1" if m else "0" for m in row) for row in code.matrix)
    return Symbol(Symbology.QR, rows, quiet=4, text=value)


def _zxing_rows(made: zxingcpp.Barcode) -> tuple[str, ...]:
    image = made.to_image(scale=1, add_quiet_zones=False)
    height, width = image.shape[0], image.shape[1]
    data = bytes(memoryview(image))  # type: ignore[arg-type]  # zxingcpp.Image is a buffer
    return tuple(
        "".join("1" if data[y * width + x] < 128 else "0" for x in range(width)) for y in range(height)
    )


@lru_cache(maxsize=4096)
def datamatrix(value: str) -> Symbol:
    import zxingcpp

    _check_text(value)
    made = zxingcpp.create_barcode(value, zxingcpp.BarcodeFormat.DataMatrix, forceSquare=True)
    # ISO/IEC 16022 asks for one module of quiet zone; two leave room for a slightly off print.
    return Symbol(Symbology.DATAMATRIX, _zxing_rows(made), quiet=2, text=value)


@lru_cache(maxsize=4096)
def gs1_datamatrix(pairs: Gs1) -> Symbol:
    import zxingcpp

    check_gs1(pairs)
    # gs1=True is what makes it ]d2 (unknown keyword arguments are silently ignored), and
    # forceSquare=True avoids the rectangular DMRE sizes many scanners reject (stack-notes §4).
    made = zxingcpp.create_barcode(
        gs1_hri(pairs), zxingcpp.BarcodeFormat.DataMatrix, gs1=True, forceSquare=True
    )
    return Symbol(Symbology.DATAMATRIX, _zxing_rows(made), quiet=2, text=gs1_hri(pairs))
