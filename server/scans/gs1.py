"""GS1 element strings, human-readable text and Digital Link URIs, parsed element by element (biip's
rules, server/scans/gs1_syntax.py) so that one bad field is reported by name while the good ones are kept."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qsl, unquote, urlsplit

from server.scans.expiry import gs1_date
from server.scans.gs1_syntax import (
    ApplicationIdentifier,
    ParseError,
    check_digit,
    digital_link_elements,
    extract_ai,
    extract_element,
    parse_element,
)
from server.scans.normalize import GS, is_ascii_digits
from server.scans.results import ScanError, ScanReading

# AIs holding a YYMMDD date in their first six digits (biip's list, minus those with other layouts).
DATE_AIS = frozenset({"11", "12", "13", "15", "16", "17", "7003", "7006", "7007", "7011"})
# AIs holding a GTIN, an SSCC or a GLN, each with a check digit.
_CHECKED_PREFIXES = ("01", "02", "03", "00", "41")


@dataclass(frozen=True)
class Element:
    ai: str
    value: str
    date: date | None = None


@dataclass
class Gs1Outcome:
    elements: list[Element] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    # What the scan held, good or bad, when its fields had explicit boundaries (HRI, Digital Link).
    scanned: list[tuple[str, str]] = field(default_factory=list)

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple((element.ai, element.value) for element in self.elements)


def parse_element_string(data: str, today: date) -> Gs1Outcome:
    """GS-separated element strings. After a bad fixed-length field the parse goes on past it."""
    outcome = Gs1Outcome()
    rest = data
    while rest:
        try:
            parsed = extract_element(rest)
        except ParseError:
            skip = _diagnose(rest, outcome)
            if skip is None:
                break
            rest = rest[skip:].lstrip(GS)
            continue
        check_element(parsed.ai.ai, parsed.value, today, outcome)
        rest = rest[len(parsed) :].lstrip(GS)
    return outcome


def parse_pairs(pairs: list[tuple[str, str]], today: date) -> Gs1Outcome:
    """(AI, value) pairs whose boundaries are known: from human-readable text or a Digital Link URI."""
    outcome = Gs1Outcome(scanned=pairs)
    for ai, value in pairs:
        known = _known_ai(ai)
        if known is None:
            outcome.errors.append(_error("unknown_ai", f"({ai}) is not a GS1 Application Identifier."))
            continue
        try:
            parse_element(ai + value)
        except ParseError:
            _diagnose(ai + value, outcome)
            continue
        check_element(ai, value, today, outcome)
    return outcome


_HRI_RE = re.compile(r"\((\d{2,4})\)([^()]*)")


def hri_pairs(text: str) -> list[tuple[str, str]] | None:
    """Pairs from ``(01)09506000134352(17)261231(10)LOT42``, or None when the text is not in that form.

    The same split as biip's ``GS1Message.parse_hri``, done here so that each field is checked on its own.
    """
    compact = "".join(text.split())
    if not compact.startswith("(") or _HRI_RE.sub("", compact):
        return None
    return _HRI_RE.findall(compact)


def digital_link(url: str, today: date) -> Gs1Outcome | None:
    """A GS1 Digital Link URI on any host, or None when the URL carries no GS1 primary key."""
    try:
        elements = digital_link_elements(url)
    except (ParseError, ValueError):  # urlsplit raises ValueError, e.g. on "http://[x"
        pairs = _digital_link_pairs(url)
        return None if pairs is None else parse_pairs(pairs, today)
    outcome = Gs1Outcome(scanned=[(element.ai.ai, element.value) for element in elements])
    for element in elements:
        check_element(element.ai.ai, element.value, today, outcome)
    return outcome


def _digital_link_pairs(url: str) -> list[tuple[str, str]] | None:
    """Pairs from a Digital Link URI that the parser refused, so the bad field can be named."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    segments = [unquote(segment) for segment in parts.path.split("/") if segment]
    start = next((i for i, segment in enumerate(segments) if segment in ("00", "01", "8006", "8018")), None)
    if start is None:
        return None
    path = segments[start:]
    pairs = list(zip(path[::2], path[1::2], strict=False))
    if len(path) % 2:
        pairs.append((path[-1], ""))
    if pairs[0][0] == "01" and is_ascii_digits(pairs[0][1]) and len(pairs[0][1]) in (8, 12, 13):
        pairs[0] = ("01", pairs[0][1].zfill(14))
    pairs.extend((key, value) for key, value in parse_qsl(parts.query) if is_ascii_digits(key))
    return pairs


def reading(elements: list[Element] | tuple[Element, ...]) -> ScanReading:
    """The typed fields of one reading."""
    by_ai = {element.ai: element for element in elements}

    def value(ai: str) -> str | None:
        return by_ai[ai].value if ai in by_ai else None

    def day(ai: str) -> date | None:
        return by_ai[ai].date if ai in by_ai else None

    quantity = value("30") or value("37")
    return ScanReading(
        gtin=value("01") or value("02"),
        lot=value("10"),
        expiry=day("17") or day("7003"),
        serial=value("21"),
        production_date=day("11"),
        quantity=int(quantity) if quantity and is_ascii_digits(quantity) else None,
        ais={element.ai: element.value for element in elements},
    )


def canonical(pairs: Iterable[tuple[str, str]]) -> str:
    """The element string with a GS after each variable-length field but the last."""
    parts = []
    for ai, value in pairs:
        known = _known_ai(ai)
        parts.append(ai + value + (GS if known and known.separator_required else ""))
    return "".join(parts).removesuffix(GS)


def check_element(ai: str, value: str, today: date, outcome: Gs1Outcome) -> None:
    """Keep a structurally valid element, unless its check digit or date is wrong or its AI repeats."""
    if not value:
        outcome.errors.append(_error("truncated", f"({ai}) has no value."))
        return
    if not value.isascii():
        # biip's patterns use \d, which also matches Arabic-Indic and other digits; GS1 data is ASCII.
        outcome.errors.append(
            _error("invalid_value", f"({ai}) {value[:40]} has characters GS1 does not allow.")
        )
        return
    if ai.startswith(_CHECKED_PREFIXES) and is_ascii_digits(value):
        expected = check_digit(value[:-1])
        if str(expected) != value[-1]:
            outcome.errors.append(
                _error(
                    "bad_check_digit",
                    f"({ai}) {value} has a wrong check digit: {expected} expected, {value[-1]} found. "
                    "Scan again or check the number.",
                )
            )
            return
    parsed_date = None
    if ai in DATE_AIS:
        try:
            parsed_date = gs1_date(value[:6], today)
        except ValueError:
            outcome.errors.append(_impossible_date(ai, value))
            return
    for earlier in outcome.elements:
        if earlier.ai == ai and earlier.value != value:
            outcome.errors.append(
                _error("conflicting_ai", f"({ai}) appears twice: {earlier.value}, {value}.")
            )
            return
    if all(earlier.ai != ai for earlier in outcome.elements):
        outcome.elements.append(Element(ai=ai, value=value, date=parsed_date))


def _diagnose(rest: str, outcome: Gs1Outcome) -> int | None:
    """Say why no element could be taken at the start of ``rest``; return how far to skip, if known."""
    segment = rest.split(GS, 1)[0]
    ai = _prefix_ai(segment)
    if ai is None:
        if len(segment) < 4 and is_ascii_digits(segment):
            outcome.errors.append(_error("truncated", f"The data ends in the middle of an AI: {segment!r}."))
        else:
            outcome.errors.append(_error("unknown_ai", f"No GS1 Application Identifier at {segment[:8]!r}."))
        return None
    value = segment[len(ai.ai) :]
    length = fixed_length(ai)
    if ai.ai in DATE_AIS and len(value) >= 6 and is_ascii_digits(value[:6]):
        outcome.errors.append(_impossible_date(ai.ai, value[:6]))
        return len(ai.ai) + length if length is not None and len(value) >= length else None
    if (length is not None and len(value) < length) or not value:
        outcome.errors.append(_error("truncated", f"({ai.ai}) {value} is cut short."))
    else:
        outcome.errors.append(
            _error("invalid_value", f"({ai.ai}) {value[:40]} is not a valid {ai.data_title}.")
        )
    return None


def fixed_length(ai: ApplicationIdentifier) -> int | None:
    """Length of the data of a fixed-length AI (format like ``N2+N6``), None when it varies."""
    parts = ai.format.split("+")[1:]
    if not parts or any(not re.fullmatch(r"N\d+", part) for part in parts):
        return None
    return sum(int(part[1:]) for part in parts)


def is_fixed_length(ai: str) -> bool:
    known = _known_ai(ai)
    return known is not None and fixed_length(known) is not None


def _prefix_ai(text: str) -> ApplicationIdentifier | None:
    try:
        return extract_ai(text)
    except ParseError:
        return None


def _known_ai(ai: str) -> ApplicationIdentifier | None:
    found = _prefix_ai(ai) if is_ascii_digits(ai) else None
    return found if found is not None and found.ai == ai else None


def _impossible_date(ai: str, value: str) -> ScanError:
    return _error("impossible_date", f"({ai}) {value[:6]} is not a real date (YYMMDD).")


def _error(code: str, message: str) -> ScanError:
    return ScanError(code=code, message=message)
