"""The loads CSV's cells as SQL, so the database formats the export's rows (issue 11: a million rows
at 100k rows/s cannot afford Python objects per row).

Each expression gives the text Python's ``csv.writer`` (``lineterminator="\\n"``, minimal quoting)
writes for ``server.csvcell.cell(value)``: a leading formula character gets a ``'``, then a cell
holding a comma, a double quote or a newline is quoted with its quotes doubled. Python 3.11's csv
does not quote a lone carriage return (it quotes only the line terminator's characters), which is
why the rows are built here and not by PostgreSQL's own CSV format (that one quotes ``\\r``). The
expressions work on both engines, but for two functions they name differently (``Dialect``);
tests/reprocessing/test_export_stream.py compares the result with the per-row Python rendering.
Every expression is non-NULL, so a line can be joined with ``||``.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.csvcell import FORMULA_STARTS

_STARTS = ", ".join(str(ord(c)) for c in FORMULA_STARTS)
# The load's recorded results, as text cells in the PHO log's order (after implant and "met").
RESULT_COLUMNS = (
    "temperature_c", "minutes", "pressure_kpa", "external_ci", "internal_ci", "bi_lot", "bi_result"
)
_NEEDS_QUOTES = (",", '"', "\n")  # a raw newline inside the SQL literal


@dataclass(frozen=True)
class Dialect:
    """The first character's code point (0 or NULL for an empty text) and the position of a text
    in another (0 when absent), as each engine names them."""

    first_code: str
    position: str


POSTGRES = Dialect(first_code="ascii", position="strpos")
SQLITE = Dialect(first_code="unicode", position="instr")


def text_cell(column: str, sql: Dialect) -> str:
    """A text column as its CSV cell (NULL reads as empty, as ``cell(None)`` does). Code points and
    positions rather than ``substr`` and ``LIKE``: a fifth less time for the export on PostgreSQL."""
    t = f"COALESCE({column}, '')"
    formula = f"{sql.first_code}({t}) IN ({_STARTS})"
    quoted = " OR ".join(f"{sql.position}({t}, '{c}') > 0" for c in _NEEDS_QUOTES)
    return (
        f"(CASE WHEN {quoted} THEN '\"' || (CASE WHEN {formula} THEN '''' ELSE '' END) "
        f"|| replace({t}, '\"', '\"\"') || '\"' WHEN {formula} THEN '''' || {t} ELSE {t} END)"
    )


def int_cell(column: str) -> str:
    """An integer column: only a minus sign is a formula start among its characters."""
    return (
        f"(CASE WHEN {column} IS NULL THEN '' WHEN {column} < 0 THEN '''' || CAST({column} AS TEXT) "
        f"ELSE CAST({column} AS TEXT) END)"
    )


def yes_no(column: str) -> str:
    return f"(CASE WHEN {column} IS NULL THEN '' WHEN {column} THEN 'Y' ELSE 'N' END)"


def bi_test_default(purpose: str) -> str:
    """What the contents cell says when the load has no packs."""
    return f"(CASE WHEN {purpose} = 'bi_test' THEN 'BI test' ELSE '' END)"


def joined(cells: list[str]) -> str:
    return " || ',' || ".join(cells)


def csv_text(value: object) -> str:
    """The Python side of the same rule, for cells built in Python (corrections, SQLite contents)."""
    text = "" if value is None else str(value)
    if text[:1] in FORMULA_STARTS:
        text = "'" + text
    if any(c in text for c in _NEEDS_QUOTES):
        return '"' + text.replace('"', '""') + '"'
    return text
