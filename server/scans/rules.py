"""The pure part of the scan pipeline (design §4): normalize, then parse. No I/O.

``parse_scan`` never raises; problems come back as ``errors`` with stable codes:
``too_long``, ``bad_check_digit``, ``bad_check_character`` (HIBC), ``impossible_date``, ``unknown_ai``,
``truncated``, ``invalid_value``, ``conflicting_ai``, ``internal_error``.
"""

from __future__ import annotations

from datetime import date

import msgspec

from server.clock import utcnow
from server.core.rules import LABEL_CODE_RE, label_code_valid
from server.scans import ambiguity, gs1
from server.scans.expiry import expiry_from_month_only, parse_expiry_text
from server.scans.gs1_syntax import ParseError, check_digit, gtin_14, upc_gtin_14
from server.scans.hibc import is_hibc, parse_hibc
from server.scans.normalize import (
    GS1_AIMS,
    GTIN_AIMS,
    MAX_SCAN_LENGTH,
    CleanScan,
    clean,
    gs1_data,
    is_ascii_digits,
)
from server.scans.results import HibcData, ScanError, ScanKind, ScanParse, ScanReading

__all__ = [
    "MAX_SCAN_LENGTH",
    "HibcData",
    "ScanError",
    "ScanKind",
    "ScanParse",
    "ScanReading",
    "expiry_from_month_only",
    "parse_expiry_text",
    "parse_scan",
]

# Data longer than a GTIN-14 that starts with one of these AIs is GS1 even without a symbology identifier:
# pack and case labels start with the GTIN (01), the SSCC (00) or the contained GTIN (02).
_LEADING_AIS = frozenset({"00", "01", "02"})


def lookup_code(parsed: ScanParse) -> str | None:
    """The code a scan is linked to an item under: the GTIN; for HIBC the labeler, product and
    unit-of-measure digit (each packaging level is its own product, like a GTIN per pack); else the
    text as read."""
    if parsed.gtin:
        return parsed.gtin
    hibc = parsed.hibc
    if hibc is not None and hibc.lic and hibc.product:
        return f"{hibc.lic}{hibc.product}{'' if hibc.unit is None else hibc.unit}"
    return parsed.text or None


def parse_scan(raw: str, *, today: date | None = None) -> ScanParse:
    """What a scan says. ``today`` sets the century of two-digit years (GS1 General Specifications 7.12)."""
    try:
        return _parse(raw, today or utcnow().date())
    except Exception:  # a scan is untrusted input: a bug in here must not become an HTTP 500
        message = "The scan could not be read. Type the details instead."
        return ScanParse(
            raw=raw[:MAX_SCAN_LENGTH], errors=[ScanError(code="internal_error", message=message)]
        )


def _parse(raw: str, today: date) -> ScanParse:
    # The first test bounds the work before any copy of a huge input is made.
    scan = clean(raw) if len(raw) <= 4 * MAX_SCAN_LENGTH else None
    if scan is None or len(scan.text) > MAX_SCAN_LENGTH:
        message = f"The scan is longer than {MAX_SCAN_LENGTH} characters; no barcode on a pack is."
        return ScanParse(raw=raw[:MAX_SCAN_LENGTH], errors=[ScanError(code="too_long", message=message)])
    base = ScanParse(raw=raw, text=scan.text, symbology=scan.symbology)
    if not scan.text:
        return _with(base, kind="empty")
    if scan.text[:8].lower().startswith(("https://", "http://")):
        outcome = gs1.digital_link(scan.text, today)
        return (
            base if outcome is None else _gs1_result(base, outcome, normalized=gs1.canonical(outcome.scanned))
        )
    caption = scan.text.removeprefix("*").removesuffix("*")  # the printed HIBC caption has asterisks
    if is_hibc(caption):
        hibc = parse_hibc(caption, today)
        data = hibc.data()
        return _with(
            base, kind="hibc", hibc=data, lot=data.lot, serial=data.serial, expiry=data.expiry,
            production_date=data.production_date, quantity=data.quantity, errors=hibc.errors,
        )  # fmt: skip
    if scan.text.isascii() and LABEL_CODE_RE.fullmatch(scan.text.upper()) and label_code_valid(scan.text):
        code = scan.text.upper()
        return _with(base, kind="label", label_code=code, label_prefix=code[0])
    if is_ascii_digits(scan.text) and len(scan.text) in (8, 12, 13, 14) and scan.aim not in GS1_AIMS:
        return _plain_gtin(base, scan)
    return _element_strings(base, scan, today)


def _plain_gtin(base: ScanParse, scan: CleanScan) -> ScanParse:
    """EAN-13, UPC-A, EAN-8, UPC-E or ITF-14 scanned alone; the GTIN is returned in its 14-digit form."""
    text = scan.text
    if len(text) != 8 or scan.aim != "]E0":  # "]E0" with 8 digits is a UPC-E, never an EAN-8
        try:
            return _with(base, kind="gtin", gtin=gtin_14(text))
        except ParseError:
            pass
    if len(text) == 8 and scan.aim != "]E4" and text[0] in "01":
        try:
            return _with(base, kind="gtin", gtin=upc_gtin_14(text))
        except ParseError:
            pass
    expected = check_digit(text[:-1])
    error = ScanError(
        code="bad_check_digit",
        message=f"{text} is not a valid GTIN: its check digit should be {expected}, not {text[-1]}.",
    )
    # From an EAN/UPC symbol it can only be a GTIN; typed or from another symbol it may be a lot number.
    return _with(base, kind="gtin" if scan.aim in GTIN_AIMS else "text", errors=[error])


def _element_strings(base: ScanParse, scan: CleanScan, today: date) -> ScanParse:
    pairs = gs1.hri_pairs(scan.text)
    if pairs is not None:
        outcome = gs1.parse_pairs(pairs, today)
        return _gs1_result(base, outcome, normalized=gs1.canonical(outcome.scanned))
    data = gs1_data(scan.text)
    outcome = gs1.parse_element_string(data.data, today)
    # Checked on the data, not on the parsed fields, so that a GTIN with a bad check digit still counts.
    strong = scan.aim in GS1_AIMS or data.enveloped or (data.data[:2] in _LEADING_AIS and len(data.data) > 14)
    # A separator or a fixed-length field shows that GS1 data was meant, not a lot that starts with "10".
    plausible = bool(outcome.elements) and (
        data.leading_fnc1 or data.has_separator or (len(outcome.elements) >= 2 and _has_fixed(outcome))
    )
    if not (strong or plausible):
        return base
    if outcome.errors or data.has_separator or not outcome.elements:
        return _gs1_result(base, outcome, normalized=data.data)
    found = ambiguity.readings(data.data, outcome.pairs, today)
    if len(found) == 1:
        return _gs1_result(base, outcome, normalized=gs1.canonical(outcome.pairs))
    return _ambiguous(base, [_reading_of(pairs, today) for pairs in found], data.data)


def _has_fixed(outcome: gs1.Gs1Outcome) -> bool:
    return any(gs1.is_fixed_length(element.ai) for element in outcome.elements)


def _reading_of(pairs: tuple[tuple[str, str], ...], today: date) -> ScanReading:
    outcome = gs1.parse_pairs(list(pairs), today)
    return gs1.reading(outcome.elements)


def _gs1_result(base: ScanParse, outcome: gs1.Gs1Outcome, *, normalized: str) -> ScanParse:
    fields = gs1.reading(outcome.elements)
    return _with(base, kind="gs1", normalized=normalized, errors=outcome.errors, **_reading_fields(fields))


def _ambiguous(base: ScanParse, readings: list[ScanReading], normalized: str) -> ScanParse:
    """Keep at the top only what all readings agree on; the user picks among ``readings``."""
    first = readings[0]
    agreed = {
        name: value
        for name, value in _reading_fields(first).items()
        if name != "ais" and all(_reading_fields(other)[name] == value for other in readings[1:])
    }
    ais = {
        ai: value for ai, value in first.ais.items() if all(other.ais.get(ai) == value for other in readings)
    }
    return _with(
        base, kind="gs1", normalized=normalized, ambiguous=True, readings=readings, ais=ais,
        **agreed,
    )  # fmt: skip


def _reading_fields(reading: ScanReading) -> dict[str, object]:
    return {
        "gtin": reading.gtin,
        "lot": reading.lot,
        "expiry": reading.expiry,
        "serial": reading.serial,
        "production_date": reading.production_date,
        "quantity": reading.quantity,
        "ais": reading.ais,
    }


def _with(base: ScanParse, **changes: object) -> ScanParse:
    return msgspec.structs.replace(base, **changes)
