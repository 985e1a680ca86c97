"""Expiry dates: month-only dates, two-digit years, and expiry typed by hand. Pure functions."""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date

from server.clock import utcnow


def expiry_from_month_only(year: int, month: int) -> date:
    """A month-only expiry (or GS1 day ``00``): the product is good through the last day of that month."""
    return date(year, month, calendar.monthrange(year, month)[1])


def century_year(two_digit_year: int, today: date) -> int:
    """Full year for a two-digit year: from 49 years back to 50 ahead of ``today`` (GS1 General Specs 7.12).

    biip applies the same window but against the wall clock; taking ``today`` keeps results reproducible.
    """
    century = today.year - today.year % 100
    difference = two_digit_year - today.year % 100
    if 51 <= difference <= 99:
        return century - 100 + two_digit_year
    if -99 <= difference <= -50:
        return century + 100 + two_digit_year
    return century + two_digit_year


def gs1_date(yymmdd: str, today: date) -> date:
    """A GS1 YYMMDD date, day ``00`` meaning the last day of the month. Raises ValueError when impossible."""
    if len(yymmdd) != 6 or not (yymmdd.isascii() and yymmdd.isdigit()):
        raise ValueError(f"{yymmdd!r} is not six digits")
    year = century_year(int(yymmdd[:2]), today)
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if day == 0:
        return expiry_from_month_only(year, month)
    return date(year, month, day)


# Printed Canadian labels are bilingual; month names come in English or French, with or without accents.
_MONTHS = {
    "jan": 1, "janv": 1, "january": 1, "janvier": 1,
    "feb": 2, "fev": 2, "fevr": 2, "february": 2, "fevrier": 2,
    "mar": 3, "mars": 3, "march": 3,
    "apr": 4, "avr": 4, "april": 4, "avril": 4,
    "may": 5, "mai": 5,
    "jun": 6, "juin": 6, "june": 6,
    "jul": 7, "juil": 7, "july": 7, "juillet": 7,
    "aug": 8, "aou": 8, "aout": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "septembre": 9,
    "oct": 10, "october": 10, "octobre": 10,
    "nov": 11, "november": 11, "novembre": 11,
    "dec": 12, "december": 12, "decembre": 12,
}  # fmt: skip
_PREFIX_RE = re.compile(r"^(?:(?:exp(?:iry|iration)?|per(?:emption)?|use by)\b[\s.:/-]*)+")
_ISO_RE = re.compile(r"^(\d{4})[-/. ](\d{1,2})(?:[-/. ](\d{1,2}))?$")
_MONTH_YEAR_RE = re.compile(r"^(\d{1,2})[-/. ](\d{4}|\d{2})$")
_NAMED_RE = re.compile(r"^(?:(\d{1,2}) )?([a-z]+) (\d{4})$|^(\d{4}) ([a-z]+)(?: (\d{1,2}))?$")


def parse_expiry_text(text: str, *, today: date | None = None) -> date | None:
    """An expiry typed by hand, or None when it is not one of the accepted forms.

    Accepted: ``2026-12``, ``2026-12-31``, ``2026/12``, ``12/2026``, ``12-2026``, ``12/26``, ``DEC 2026``,
    ``31 DEC 2026``, ``2026 DEC 31``, ``déc. 2026``, optionally after ``EXP``. A month alone means its last
    day. ``DD/MM/YYYY`` and ``MM/DD/YYYY`` are refused: both are in use in Canada, so the order is a guess.
    ``today`` sets the century of a two-digit year.
    """
    cleaned = _fold(text)
    if cleaned is None:
        return None
    try:
        if match := _ISO_RE.match(cleaned):
            year, month, day = int(match[1]), int(match[2]), match[3]
            return _day_or_month_end(year, month, day)
        if match := _MONTH_YEAR_RE.match(cleaned):
            year = (
                int(match[2]) if len(match[2]) == 4 else century_year(int(match[2]), today or utcnow().date())
            )
            return expiry_from_month_only(year, int(match[1]))
        if match := _NAMED_RE.match(cleaned):
            day, name, year_text = (
                (match[1], match[2], match[3]) if match[2] else (match[6], match[5], match[4])
            )
            named = _MONTHS.get(name)
            return None if named is None else _day_or_month_end(int(year_text), named, day)
    except ValueError:
        return None
    return None


def _fold(text: str) -> str | None:
    """Lower case, accents off, single spaces, no ``EXP`` label; None for input that cannot be a date."""
    if len(text) > 40:
        return None
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    if not folded.isascii():
        return None
    folded = _PREFIX_RE.sub("", folded)
    # "déc. 2026" and "Dec-2026" become "dec 2026"; the numeric patterns accept a space where these were.
    for mark in ".,-":
        folded = folded.replace(mark, " ")
    return " ".join(folded.split())


def _day_or_month_end(year: int, month: int, day: str | None) -> date:
    if day is None or int(day) == 0:
        return expiry_from_month_only(year, month)
    return date(year, month, int(day))
