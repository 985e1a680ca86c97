"""The parts of biip's GS1 parsing that the scan pipeline uses, without importing biip.

Importing biip loads GS1's company-prefix table (15 MiB of dicts in every worker) that nothing here
reads. This module gives the same answers (tests/scans/test_gs1_syntax.py compares them with biip's on
a generated corpus) for: the AI table (read from biip's own data file, so both stay the same),
element strings (extracted from longer data or parsed whole, dates checked as biip checks them),
GTIN and UPC validation with their GTIN-14 form, Digital Link URIs and ISO symbology names.
"""

from __future__ import annotations

import calendar
import datetime as dt
import importlib.util
import itertools
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

GS = "\x1d"


class ParseError(Exception):
    """The data is not what it was read as (biip's ParseError, same cases)."""


@dataclass(frozen=True)
class ApplicationIdentifier:
    ai: str
    description: str
    data_title: str
    separator_required: bool
    format: str
    pattern: str


@cache
def _table() -> dict[str, ApplicationIdentifier]:
    # biip's data file, found without importing biip (find_spec of a top-level package does not run it).
    spec = importlib.util.find_spec("biip")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("biip is not installed: its GS1 Application Identifier table is needed")
    path = Path(next(iter(spec.submodule_search_locations)))
    rows = json.loads((path / "gs1_application_identifiers" / "_application_identifiers.json").read_text())
    return {row["ai"]: ApplicationIdentifier(**row) for row in rows}


def known_ai(ai: str) -> ApplicationIdentifier | None:
    return _table().get(ai)


def extract_ai(text: str) -> ApplicationIdentifier:
    """The AI ``text`` starts with (the table's first match, as biip)."""
    for entry in _table().values():
        if text.startswith(entry.ai):
            return entry
    raise ParseError(f"Failed to get GS1 Application Identifier from {text!r}.")


@dataclass(frozen=True)
class ElementString:
    ai: ApplicationIdentifier
    value: str

    def __len__(self) -> int:
        return len(self.ai.ai) + len(self.value)


def extract_element(data: str) -> ElementString:
    """The first element string of ``data``, which may hold more after it (biip's ``extract``)."""
    ai = extract_ai(data)
    data = data.split(GS, maxsplit=1)[0]
    return _element(ai, re.match(ai.pattern.removesuffix("$"), data), data)


def parse_element(data: str) -> ElementString:
    """``data`` as exactly one element string (biip's ``parse``)."""
    ai = extract_ai(data)
    return _element(ai, re.fullmatch(ai.pattern, data), data)


_DATE_AIS = frozenset(
    {"11", "12", "13", "15", "16", "17", "4324", "4325", "4326", "7003", "7006", "7007", "7011", "8008"}
)


def _element(ai: ApplicationIdentifier, match: re.Match[str] | None, data: str) -> ElementString:
    if not match:
        raise ParseError(f"Failed to match {data!r} with GS1 AI ({ai.ai}) pattern '{ai.pattern}'.")
    groups = [group for group in match.groups() if group is not None]
    value = "".join(groups)
    if ai.ai in _DATE_AIS:
        try:
            _date_and_time(value)
        except ValueError as exc:
            raise ParseError(f"Failed to parse GS1 AI ({ai.ai}) date/time from {value!r}.") from exc
    if ai.ai[:2] in ("31", "32", "33", "34", "35", "36") or ai.ai[:3] in ("390", "391", "392", "393", "394"):
        # biip reads these as decimals; on data its patterns let through that can still fail.
        digits = groups[-1]
        units = len(digits) - int(ai.ai[3])
        Decimal(f"{digits[:units]}.{digits[units:]}")
    return ElementString(ai=ai, value=value)


def _date_and_time(value: str) -> None:
    """Raise ValueError unless ``value`` is a GS1 date (YYMMDD, DD 00 = the month's end) with an
    optional time, checked as biip checks it (century from the current year, GS1 7.12)."""
    pairs = [value[i : i + 2] for i in range(0, len(value), 2)]
    year = int(pairs[0])
    year += _century(year)
    month, day = int(pairs[1]), int(pairs[2])
    if day == 0:
        day = calendar.monthrange(year, month)[1]
    dt.date(year, month, day)
    if not pairs[3:]:
        return
    hour = int(pairs[3])
    minute = int(pairs[4] if pairs[4:] else 0)
    seconds = int(pairs[5] if pairs[5:] else 0)
    if hour == 99 and minute == 99:
        return
    dt.datetime(year, month, day, hour, minute, seconds)  # noqa: DTZ001  (only checked)


def _century(two_digit_year: int) -> int:
    current_year = dt.datetime.now(tz=dt.UTC).year
    current_century = current_year - current_year % 100
    difference = two_digit_year - (current_year - current_century)
    if 51 <= difference <= 99:
        return current_century - 100
    if -99 <= difference <= -50:
        return current_century + 100
    return current_century


def check_digit(digits: str) -> int:
    """GS1 standard check digit (General Specifications 7.9.1) of the digits before it."""
    if not digits.isdecimal():
        raise ValueError(f"Expected numeric value, got {digits!r}.")
    total = sum(int(d) * w for d, w in zip(reversed(digits), itertools.cycle((3, 1)), strict=False))
    return (10 - total % 10) % 10


def gtin_14(text: str) -> str:
    """A GTIN-8, -12, -13 or -14 with a right check digit, as 14 digits; ParseError otherwise."""
    value = text.strip()
    if len(value) not in (8, 12, 13, 14):
        raise ParseError(f"Failed to parse {value!r} as GTIN: Expected 8, 12, 13, or 14 digits.")
    if not value.isdecimal():
        raise ParseError(f"Failed to parse {value!r} as GTIN: Expected a numerical value.")
    significant = _strip_leading_zeros(value)
    payload, check = significant[:-1], int(significant[-1])
    if check != check_digit(payload):
        raise ParseError(f"Invalid GTIN check digit for {value!r}.")
    return f"{payload}{check}".zfill(14)


def _strip_leading_zeros(value: str) -> str:
    if len(value) in (12, 13, 14) and len(value.lstrip("0")) in (9, 10, 11, 12):
        return value[len(value) - 12 :]  # up to three leading zeros kept in a GTIN-12
    if len(value) >= 8 and len(value.lstrip("0")) <= 8:
        return value[len(value) - 8 :]  # a GTIN-8 keeps its leading zeros
    return value.lstrip("0")


def upc_gtin_14(text: str) -> str:
    """A UPC-A (12 digits) or UPC-E (6, 7 or 8 digits) with a right check digit, as a GTIN-14."""
    value = text.strip()
    if len(value) not in (6, 7, 8, 12):
        raise ParseError(f"Failed to parse {value!r} as UPC: Expected 6, 7, 8, or 12 digits.")
    if not value.isdecimal():
        raise ParseError(f"Failed to parse {value!r} as UPC: Expected a numerical value.")
    if len(value) == 12:
        check = int(value[-1])
        if check != check_digit(value[:-1]):
            raise ParseError(f"Invalid UPC-A check digit for {value!r}.")
        return gtin_14(f"{value[:-1]}{check}")
    if len(value) == 8:
        system, payload, check = int(value[0]), value[:-1], int(value[-1])
    else:
        payload = value if len(value) == 7 else f"0{value}"
        system = int(payload[0])
        check = check_digit(_upc_e_to_upc_a(f"{payload}0")[:-1])
    if system not in (0, 1):
        raise ParseError(f"Invalid UPC-E number system for {value!r}: Expected 0 or 1.")
    if check != check_digit(_upc_e_to_upc_a(f"{payload}{check}")[:-1]):
        raise ParseError(f"Invalid UPC-E check digit for {value!r}.")
    return gtin_14(_upc_e_to_upc_a(f"{payload}{check}"))


def _upc_e_to_upc_a(value: str) -> str:
    """GS1 General Specifications 5.2.2.4.2: the zeros a UPC-E leaves out, put back."""
    last, check = int(value[6]), int(value[7])
    if last in (0, 1, 2):
        return f"{value[:3]}{last}0000{value[3:6]}{check}"
    if last == 3:
        return f"{value[:4]}00000{value[4:6]}{check}"
    if last == 4:
        return f"{value[:5]}00000{value[5]}{check}"
    return f"{value[:6]}0000{last}{check}"


# ISO/IEC 15424 symbology code characters, named as biip names them.
_ISO_SYMBOLOGIES = {
    "A": "CODE_39", "B": "TELEPEN", "C": "CODE_128", "D": "CODE_ONE", "E": "EAN_UPC", "F": "CODABAR",
    "G": "CODE_93", "H": "CODE_11", "I": "ITF", "K": "CODE_16K", "L": "PDF417", "M": "MSI", "N": "ANKER",
    "O": "CODABLOCK", "P": "PLESSEY_CODE", "Q": "QR_CODE", "R": "STRAIGHT_2_OF_5_WITH_2_BAR_START_STOP_CODE",
    "S": "STRAIGHT_2_OF_5_WITH_3_BAR_START_STOP_CODE", "T": "CODE_49", "U": "MAXICODE",
    "X": "OTHER_BARCODE", "Y": "SYSTEM_EXPANSION", "Z": "NON_BARCODE", "c": "CHANNEL_CODE",
    "d": "DATA_MATRIX", "e": "RSS_EAN_UCC_COMPOSITE", "o": "OCR", "p": "POSICODE", "s": "SUPERCODE",
    "z": "AZTEC_CODE",
}  # fmt: skip


def iso_symbology(aim: str) -> str:
    """The ISO/IEC 15424 symbology of an AIM identifier like ``]A0``, e.g. ``CODE_39``."""
    name = _ISO_SYMBOLOGIES.get(aim[1:2]) if aim.startswith("]") else None
    if name is None:
        raise ParseError(f"Failed to get Symbology Identifier from {aim!r}.")
    return name


# Digital Link primary keys, their zero-fill and their qualifiers in the only order allowed.
_PRIMARY_KEYS: dict[str, tuple[int | None, tuple[str, ...]]] = {
    "01": (14, ("22", "10", "21", "235")),
    "8006": (None, ("22", "10", "21")),
    "8013": (None, ()),
    "8010": (None, ("8011",)),
    "414": (None, ("254", "7040")),
    "415": (None, ("8020",)),
    "417": (None, ("7040",)),
    "8017": (None, ("8019",)),
    "8018": (None, ("8019",)),
    "255": (None, ()),
    "00": (None, ()),
    "253": (None, ()),
    "401": (None, ()),
    "402": (None, ()),
    "8003": (None, ()),
    "8004": (None, ("7040",)),
}


def digital_link_elements(url: str) -> list[ElementString]:
    """The element strings of a GS1 Digital Link URI (biip's ``GS1DigitalLinkURI.parse``).

    Raises ParseError, or ValueError from ``urlsplit`` on a malformed URL.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise ParseError(f"Expected a URI with scheme 'http' or 'https', got {url!r}.")
    path = parts.path.split("/")
    while path and path[0] not in _PRIMARY_KEYS:
        path.pop(0)
    if not path:
        raise ParseError(f"Expected a primary identifier in the path, got '{parts.path}'.")
    if len(path) % 2:
        raise ParseError(f"Expected even number of path segments, got '/{'/'.join(path)}'.")
    segments = [unquote(segment) for segment in path]
    key, value = segments[0], segments[1]
    width, qualifiers = _PRIMARY_KEYS[key]
    elements = [parse_element(key + (value.zfill(width) if width else value))]
    expected = list(qualifiers)
    for qualifier, value in zip(segments[2::2], segments[3::2], strict=True):
        if not expected:
            raise ParseError(f"Did not expect a qualifier, got {qualifier!r}.")
        while expected:  # each qualifier at most once, and in order
            if expected.pop(0) == qualifier:
                break
        else:
            raise ParseError(f"Expected one of ({', '.join(qualifiers)}) as qualifier, got {qualifier!r}.")
        elements.append(parse_element(qualifier + value))
    for name, values in parse_qs(parts.query).items():
        if known_ai(name) is not None:  # other query parameters are not GS1 data
            elements.append(parse_element(name + values[-1]))
    return elements
