"""CSV exports opened in a spreadsheet: a cell must never run as a formula (CSV injection)."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """The value as text a spreadsheet shows as written: a leading formula character gets a '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text
