"""The manager's reports from the stock ledger, each as CSV and PDF (EN/FR):

- wastage by local month, reason and item, with its cost;
- expiry loss: what was wasted as expired, and what is still on the shelf past its expiry;
- usage by local month and item, with its cost;
- stock valuation: what is on hand now, per item.

Months are the site's local calendar months. Costs are CAD from valuation.Costs; a cost that is not
known is reported as unknown with the units it covers, never as zero.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server import sql
from server.core.service import site_zone
from server.csvcell import cell
from server.errors import InvalidInput, NotFound
from server.purchasing import valuation
from server.purchasing.rules import Valued, format_cad

Lang = str  # "en" | "fr"

_MOVES = """
SELECT m.at, m.quantity, m.reason, m.lot, l.lot_number, l.expiry, i.id AS item_id, i.name AS item_name
FROM movement m JOIN lot l ON l.id = m.lot JOIN item i ON i.id = l.item
WHERE m.site = {} AND m.kind = {} AND m.at >= {} AND m.at < {}
"""
_ON_HAND = """
SELECT l.id AS lot, l.lot_number, l.expiry, l.status, i.id AS item_id, i.name AS item_name, i.kind,
       SUM(sl.on_hand) AS units
FROM stock_level sl JOIN lot l ON l.id = sl.lot JOIN item i ON i.id = l.item
WHERE sl.site = {} AND sl.on_hand > 0
GROUP BY l.id, l.lot_number, l.expiry, l.status, i.id, i.name, i.kind
"""

REASONS = {
    "en": {
        "expired": "Expired",
        "broken": "Broken",
        "cold_chain": "Cold chain",
        "beyond_use": "Past beyond-use time",
        "other": "Other",
    },
    "fr": {
        "expired": "Expiré",
        "broken": "Brisé",
        "cold_chain": "Chaîne du froid",
        "beyond_use": "Délai d\u2019utilisation dépassé",
        "other": "Autre",
    },
}
WORDS = {
    "en": {
        "wastage": "Wastage by month, reason and item",
        "expiry_loss": "Expiry loss",
        "usage": "Usage by month and item",
        "valuation": "Stock valuation",
        "month": "Month",
        "reason": "Reason",
        "item": "Item",
        "kind": "Kind",
        "lot": "Lot",
        "expiry": "Expiry",
        "where": "Where",
        "wasted": "Wasted",
        "still_on_hand": "Still on the shelf",
        "lots": "Lots",
        "units": "Units",
        "records": "Records",
        "value": "Value (CAD)",
        "total": "Total",
        "period": "Period: {start} to {end}",
        "as_of": "On hand at {when}",
        "made": "Made {when}",
        "none": "Nothing in this period.",
        "partial": "* part of it has no cost: {n} units are not counted in the value.",
        "no_cost": "{n} of {total} catalog items have no unit cost; their value shows as unknown.",
        "page": "Page {n}",
    },
    "fr": {
        "wastage": "Pertes par mois, motif et article",
        "expiry_loss": "Pertes par péremption",
        "usage": "Utilisation par mois et article",
        "valuation": "Valeur du stock",
        "month": "Mois",
        "reason": "Motif",
        "item": "Article",
        "kind": "Type",
        "lot": "Lot",
        "expiry": "Péremption",
        "where": "Où",
        "wasted": "Jeté",
        "still_on_hand": "Encore en stock",
        "lots": "Lots",
        "units": "Unités",
        "records": "Entrées",
        "value": "Valeur ($ CA)",
        "total": "Total",
        "period": "Période : du {start} au {end}",
        "as_of": "En stock le {when}",
        "made": "Produit le {when}",
        "none": "Rien pour cette période.",
        "partial": "* une partie n\u2019a pas de coût : {n} unités ne sont pas comptées dans la valeur.",
        "no_cost": "{n} des {total} articles du catalogue n\u2019ont pas de coût unitaire ; "
        "leur valeur est inconnue.",
        "page": "Page {n}",
    },
}
NAMES = ("wastage", "expiry_loss", "usage", "valuation")


@dataclass
class Report:
    """Rows of plain values, with a ``value`` (Valued) per row; CSV and PDF render the same rows."""

    name: str
    columns: list[str]  # keys of WORDS; "value" is the money column
    rows: list[dict[str, Any]]
    site_name: str
    tz: ZoneInfo
    made_at: datetime
    period: tuple[date, date] | None  # None: a position now (valuation)
    items_without_cost: int = 0
    active_items: int = 0
    total: Valued = field(default_factory=Valued)


def _window(from_date: date | None, to_date: date | None, today: date) -> tuple[date, date]:
    end = to_date or today
    start = from_date or date(end.year - 1, end.month, 1)
    if start > end:
        raise InvalidInput(
            "The start day is after the end day.",
            code="bad_period",
            fields=[{"field": "from_date", "message": "is after to_date"}],
        )
    return start, end


def _local(at: Any, tz: ZoneInfo) -> datetime:
    if isinstance(at, str):  # SQLite hands raw timestamps back as text
        at = datetime.fromisoformat(at)
    return at.astimezone(tz)  # type: ignore[no-any-return]


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


async def _base(site_id: int) -> tuple[str, ZoneInfo]:
    site = await sql.fetchrow("SELECT name FROM site WHERE id = {}", site_id)
    if site is None:
        raise NotFound("This site does not exist.", code="site_not_found")
    return str(site["name"]), await site_zone(site_id)


def _group(
    rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], tuple[Any, ...]], columns: list[str]
) -> tuple[list[dict[str, Any]], Valued]:
    """Sum units, records and value per key; rows carry ``units``, ``unit_cost`` and the key's fields."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    total = Valued()
    for r in rows:
        k = key(r)
        g = groups.get(k)
        if g is None:
            g = groups[k] = {c: r.get(c) for c in columns if c not in ("units", "records", "value")}
            g.update(units=0, records=0, value=Valued())
        g["units"] += r["units"]
        g["records"] += 1
        g["value"].add(r["units"], r["unit_cost"])
        total.add(r["units"], r["unit_cost"])
    return [groups[k] for k in sorted(groups, key=lambda t: tuple(str(x).casefold() for x in t))], total


async def _movements(
    site_id: int, kind: str, start: date, end: date, tz: ZoneInfo, costs: valuation.Costs
) -> list[dict[str, Any]]:
    since = datetime.combine(start, time(0), tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)
    out = []
    for r in await sql.fetch(_MOVES, site_id, kind, since, until):
        out.append(
            {
                "month": _local(r["at"], tz).strftime("%Y-%m"),
                "reason": str(r["reason"] or "") or "other",
                "item": str(r["item_name"]),
                "lot": str(r["lot_number"]),
                "expiry": _day(r["expiry"]),
                "units": -int(r["quantity"]),
                "unit_cost": costs.unit_cost(int(r["lot"]), int(r["item_id"])),
            }
        )
    return out


async def build(
    name: str, site_id: int, from_date: date | None, to_date: date | None, *, now: datetime
) -> Report:
    if name not in NAMES:
        raise NotFound("There is no such report.", code="report_not_found")
    site_name, tz = await _base(site_id)
    today = now.astimezone(tz).date()
    async with sql.one_connection():
        costs = await valuation.costs(site_id)
        period: tuple[date, date] | None = None
        if name == "valuation":
            held = await sql.fetch(_ON_HAND, site_id)
            raw = [
                {
                    "item": str(r["item_name"]),
                    "kind": str(r["kind"]),
                    "lot": int(r["lot"]),
                    "units": int(r["units"]),
                    "unit_cost": costs.unit_cost(int(r["lot"]), int(r["item_id"])),
                }
                for r in held
            ]
            columns = ["item", "kind", "lots", "units", "value"]
            rows, total = _group(raw, lambda r: (r["item"],), columns)
            for row, lots in zip(rows, _count_lots(raw), strict=True):
                row["lots"] = lots
        else:
            start, end = period = _window(from_date, to_date, today)
            kind = "use" if name == "usage" else "waste"
            raw = await _movements(site_id, kind, start, end, tz, costs)
            if name == "wastage":
                columns = ["month", "reason", "item", "units", "records", "value"]
                rows, total = _group(raw, lambda r: (r["month"], r["reason"], r["item"]), columns)
            elif name == "usage":
                columns = ["month", "item", "units", "value"]
                rows, total = _group(raw, lambda r: (r["month"], r["item"]), columns)
            else:
                columns = ["where", "month", "item", "lot", "expiry", "units", "value"]
                wasted = [dict(r, where="wasted") for r in raw if r["reason"] == "expired"]
                held = await sql.fetch(_ON_HAND, site_id)
                shelf = [
                    {
                        "where": "still_on_hand",
                        "month": today.strftime("%Y-%m"),
                        "item": str(r["item_name"]),
                        "lot": str(r["lot_number"]),
                        "expiry": _day(r["expiry"]),
                        "units": int(r["units"]),
                        "unit_cost": costs.unit_cost(int(r["lot"]), int(r["item_id"])),
                    }
                    for r in held
                    if (exp := _day(r["expiry"])) is not None and exp < today
                ]
                rows, total = _group(
                    wasted + shelf, lambda r: (r["where"], r["month"], r["item"], r["lot"]), columns
                )
    return Report(
        name=name,
        columns=columns,
        rows=rows,
        site_name=site_name,
        tz=tz,
        made_at=now,
        period=period,
        items_without_cost=costs.items_without_cost,
        active_items=costs.active_items,
        total=total,
    )


def _count_lots(raw: list[dict[str, Any]]) -> list[int]:
    """Distinct lots per item, in the order _group sorts items."""
    lots: dict[str, set[int]] = defaultdict(set)
    for r in raw:
        lots[r["item"]].add(r["lot"])
    return [len(lots[k]) for k in sorted(lots, key=str.casefold)]


# --- CSV ---------------------------------------------------------------------------------------


def value_cell(v: Valued) -> str:
    """The value in CSV: dollars to the cent, or empty when none of it has a cost."""
    if v.unpriced_units and v.value == 0:
        return ""
    return f"{v.cents:.2f}"


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = [c for c in report.columns if c != "value"]
    writer.writerow([*header, "value_cad", "unpriced_units"])
    for row in report.rows:
        values = [row[c].isoformat() if isinstance(row[c], date) else row[c] for c in header]
        writer.writerow(
            [cell("" if v is None else v) for v in values]
            + [value_cell(row["value"]), row["value"].unpriced_units]
        )
    return out.getvalue()


# --- PDF ---------------------------------------------------------------------------------------


def money_text(v: Valued, lang: Lang) -> str:
    if v.unpriced_units and v.value == 0:
        return format_cad(None, lang)
    return format_cad(v.value, lang) + (" *" if v.unpriced_units else "")


def _text(key: str, row: dict[str, Any], lang: Lang) -> str:
    value = row.get(key)
    if key == "value":
        return money_text(row["value"], lang)
    if key == "reason":
        return REASONS[lang].get(str(value), str(value))
    if key == "where":
        return WORDS[lang][str(value)]
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u00a0" if lang == "fr" else ",")
    return "" if value is None else str(value)


_WIDTHS = {
    "month": 52,
    "reason": 130,
    "item": 170,
    "kind": 60,
    "lot": 70,
    "expiry": 62,
    "where": 95,
    "lots": 40,
    "units": 50,
    "records": 50,
    "value": 95,
}
_RIGHT = {"lots", "units", "records", "value"}


def to_pdf(report: Report, lang: Lang) -> bytes:
    from reportlab.lib.pagesizes import landscape, letter
    from reportlab.pdfgen import canvas

    words = WORDS[lang]
    buf = io.BytesIO()
    width, height = landscape(letter)
    pdf = canvas.Canvas(buf, pagesize=(width, height), invariant=True)
    title = f"{words[report.name]} · {report.site_name}"
    pdf.setTitle(title)
    x = 36.0
    xs: list[tuple[str, float]] = []
    for c in report.columns:
        xs.append((c, x))
        x += _WIDTHS[c]
    made = report.made_at.astimezone(report.tz).strftime("%Y-%m-%d %H:%M %Z")
    page = 0

    def header() -> float:
        nonlocal page
        page += 1
        pdf.setFont("Helvetica-Bold", 14)
        pdf.drawString(36, height - 40, title)
        pdf.setFont("Helvetica", 9)
        if report.period:
            where = words["period"].format(start=report.period[0], end=report.period[1])
        else:
            where = words["as_of"].format(when=made)
        pdf.drawString(36, height - 56, f"{where}   {words['made'].format(when=made)}")
        pdf.drawRightString(width - 36, height - 40, words["page"].format(n=page))
        y = height - 78
        pdf.setFont("Helvetica-Bold", 9)
        for c, cx in xs:
            _cell(pdf, c, cx, y, words[c])
        return float(y - 14)

    def _cell(p: Any, c: str, cx: float, y: float, text: str) -> None:
        if c in _RIGHT:
            p.drawRightString(cx + _WIDTHS[c] - 6, y, text)
        else:
            p.drawString(cx, y, text[: int(_WIDTHS[c] / 4.6)])

    y = header()
    pdf.setFont("Helvetica", 9)
    for row in report.rows:
        if y < 60:
            pdf.showPage()
            y = header()
            pdf.setFont("Helvetica", 9)
        for c, cx in xs:
            _cell(pdf, c, cx, y, _text(c, row, lang))
        y -= 13
    if not report.rows:
        pdf.drawString(36, y, words["none"])
        y -= 13
    else:
        pdf.setFont("Helvetica-Bold", 9)
        total = {"units": sum(r["units"] for r in report.rows), "value": report.total}
        pdf.drawString(36, y, words["total"])
        for c, cx in xs:
            if c in total:
                _cell(pdf, c, cx, y, _text(c, total, lang))
        y -= 16
    pdf.setFont("Helvetica", 8)
    notes = []
    if report.total.unpriced_units:
        notes.append(words["partial"].format(n=report.total.unpriced_units))
    if report.items_without_cost:
        notes.append(words["no_cost"].format(n=report.items_without_cost, total=report.active_items))
    for note in notes:
        if y < 40:
            pdf.showPage()
            y = header()
            pdf.setFont("Helvetica", 8)
        pdf.drawString(36, y, note)
        y -= 11
    pdf.showPage()
    pdf.save()
    return buf.getvalue()
