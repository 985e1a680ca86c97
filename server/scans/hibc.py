"""HIBC supplier labels (ANSI/HIBC 2.x, LIC format), used on medical supplies instead of GS1.

Primary data: "+", a 4-character labeler code (first a letter), a product number of 1 to 18 characters,
a unit-of-measure digit, a mod-43 check character. Secondary data: lot or serial, expiry, quantity, in
the "$", "$$", "$+", "$$+" or Julian-date forms. Both may share one symbol ("primary/secondary" and one
check character) or sit in two, the secondary then ending with a link character (the primary's check
character) before its own check character.

No maintained Python library parses HIBC (on PyPI there is only a client for a paid web API), so this is
a small parser; the tests check it against the standard's worked example of the check character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from server.scans.expiry import century_year, expiry_from_month_only
from server.scans.normalize import is_ascii_digits
from server.scans.results import HibcData, ScanError

# Code 39's 43 characters, in the order of their mod-43 values.
HIBC_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
_VALUES = {ch: i for i, ch in enumerate(HIBC_CHARS)}
_PRIMARY_RE = re.compile(r"([A-Z][A-Z0-9]{3})([A-Z0-9]{1,18})([0-9])")
_LOT_RE = re.compile(r"[A-Z0-9.\-]{0,18}")
# Date formats after "$$": digit -> (length after the digit, layout). "0"/"1" have no format digit: they
# are the first digit of MMYY.
_DATE_FORMATS = {
    "2": (6, "MMDDYY"),
    "3": (6, "YYMMDD"),
    "4": (8, "YYMMDDHH"),
    "5": (5, "YYJJJ"),
    "6": (7, "YYJJJHH"),
}


def hibc_check_char(data: str) -> str:
    """The mod-43 check character over everything before it, the leading "+" included."""
    return HIBC_CHARS[sum(_VALUES[ch] for ch in data) % 43]


def is_hibc(text: str) -> bool:
    # "+/" starts the HIBC Provider Applications Standard (hospital-internal labels), not supplier data.
    return len(text) >= 3 and text[0] == "+" and text[1] != "/" and all(ch in _VALUES for ch in text)


@dataclass
class HibcOutcome:
    lic: str | None = None
    product: str | None = None
    unit: int | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    production_date: date | None = None
    quantity: int | None = None
    link: str | None = None
    errors: list[ScanError] = field(default_factory=list)

    def data(self) -> HibcData:
        return HibcData(
            lic=self.lic,
            product=self.product,
            unit=self.unit,
            lot=self.lot,
            expiry=self.expiry,
            serial=self.serial,
            quantity=self.quantity,
            production_date=self.production_date,
            link=self.link,
        )

    def fail(self, code: str, message: str) -> None:
        self.errors.append(ScanError(code=code, message=message))


def parse_hibc(text: str, today: date) -> HibcOutcome:
    """Parse HIBC data that ``is_hibc`` accepted (without the asterisks of the printed caption)."""
    outcome = HibcOutcome()
    body, check = text[:-1], text[-1]
    expected = hibc_check_char(body)
    if check != expected:
        outcome.fail(
            "bad_check_character", f"HIBC check character {check!r} is wrong: {expected!r} expected."
        )
    if body[1].isalpha():
        primary, *rest = body[1:].split("/")
        match = _PRIMARY_RE.fullmatch(primary)
        if match is None:
            outcome.fail("invalid_value", f"HIBC primary data {primary!r} is not LIC + product + unit.")
            return outcome
        outcome.lic, outcome.product, outcome.unit = match[1], match[2], int(match[3])
    else:
        outcome.link = body[-1]
        rest = body[1:-1].split("/")
    if rest:
        _secondary(rest[0], today, outcome)
        for supplement in rest[1:]:
            _supplemental(supplement, outcome)
    return outcome


def _secondary(data: str, today: date, outcome: HibcOutcome) -> None:
    if data.startswith(("$$+", "$$")):
        target = "serial" if data.startswith("$$+") else "lot"
        rest = _quantity_and_date(data[3:] if target == "serial" else data[2:], today, outcome)
        if rest is not None:
            _set_lot_or_serial(target, rest, outcome)
    elif data.startswith("$+"):
        _set_lot_or_serial("serial", data[2:], outcome)
    elif data.startswith("$"):
        _set_lot_or_serial("lot", data[1:], outcome)
    elif len(data) >= 5 and is_ascii_digits(data[:5]):
        _set_date("expiry", data[:5], "YYJJJ", today, outcome)
        _set_lot_or_serial("lot", data[5:], outcome)
    else:
        outcome.fail("invalid_value", f"HIBC secondary data {data!r} starts with neither $ nor a date.")


def _quantity_and_date(data: str, today: date, outcome: HibcOutcome) -> str | None:
    """Read the optional quantity and date after "$$"; return what follows, or None after an error."""
    if data[:1] in ("8", "9"):
        width = 2 if data[0] == "8" else 5
        quantity = data[1 : 1 + width]
        if len(quantity) < width or not is_ascii_digits(quantity):
            outcome.fail("truncated", f"HIBC quantity {quantity!r} should have {width} digits.")
            return None
        outcome.quantity = int(quantity)
        data = data[1 + width :]
    kind = data[:1]
    if kind in ("", "7"):
        return data[1:]
    if kind in ("0", "1"):
        return data[4:] if _set_date("expiry", data[:4], "MMYY", today, outcome) else None
    if kind in _DATE_FORMATS:
        length, layout = _DATE_FORMATS[kind]
        return (
            data[1 + length :] if _set_date("expiry", data[1 : 1 + length], layout, today, outcome) else None
        )
    outcome.fail("invalid_value", f"HIBC date format {kind!r} is not one of 0-7.")
    return None


def _set_date(name: str, digits: str, layout: str, today: date, outcome: HibcOutcome) -> bool:
    if len(digits) != len(layout) or not is_ascii_digits(digits):
        outcome.fail("truncated", f"HIBC date {digits!r} should be {layout}.")
        return False
    parts = {key: int(digits[layout.index(key) : layout.index(key) + len(key)]) for key in _keys(layout)}
    try:
        year = parts["YYYY"] if "YYYY" in parts else century_year(parts["YY"], today)
        if "JJJ" in parts:
            if not 1 <= parts["JJJ"] <= (date(year, 12, 31) - date(year, 1, 1)).days + 1:
                raise ValueError("day of year out of range")
            value = date(year, 1, 1) + timedelta(days=parts["JJJ"] - 1)
        elif "DD" in parts:
            value = date(year, parts["MM"], parts["DD"])
        else:
            value = expiry_from_month_only(year, parts["MM"])
    except ValueError:
        outcome.fail("impossible_date", f"HIBC date {digits} is not a real date ({layout}).")
        return False
    setattr(outcome, name, value)
    return True


def _keys(layout: str) -> list[str]:
    return [
        key
        for key in ("YYYY", "YY", "MM", "DD", "JJJ")
        if key in layout and not (key == "YY" and "YYYY" in layout)
    ]


def _set_lot_or_serial(name: str, value: str, outcome: HibcOutcome) -> None:
    if _LOT_RE.fullmatch(value) is None:
        outcome.fail(
            "invalid_value", f"HIBC {name} {value!r} has characters or a length HIBC does not allow."
        )
    elif value:
        setattr(outcome, name, value)


def _supplemental(data: str, outcome: HibcOutcome) -> None:
    """ANSI/HIBC 2.6 supplemental fields: "/S" serial, "/14D" expiry and "/16D" production as YYYYMMDD.

    Others (quantity, reference numbers) are not used by clinitrack and are skipped.
    """
    if data.startswith("14D"):
        _set_date("expiry", data[3:], "YYYYMMDD", date.min, outcome)
    elif data.startswith("16D"):
        _set_date("production_date", data[3:], "YYYYMMDD", date.min, outcome)
    elif data.startswith("S"):
        _set_lot_or_serial("serial", data[1:], outcome)
