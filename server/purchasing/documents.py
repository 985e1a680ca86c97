"""The order as the supplier receives it: CSV (one row per line) and a one-or-more-page PDF."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from server import sql
from server.csvcell import cell
from server.errors import NotFound
from server.purchasing.rules import format_cad
from server.purchasing.schemas import OrderRead

ORDER_CSV_COLUMNS = [
    "order_number",
    "status",
    "supplier",
    "item",
    "gtin",
    "packs",
    "pack_size",
    "units",
    "received_units",
    "discrepancy",
    "discrepancy_units",
    "unit_price_cad",
    "line_value_cad",
]


def _amount(value: float | None, places: str) -> str:
    """Dollars for the CSV; empty when the price is not known."""
    return "" if value is None else str(Decimal(str(value)).quantize(Decimal(places)))


def _price(value: float | None) -> str:
    return "" if value is None else format_cad(Decimal(str(value)))


def _local(at: datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z") if at else ""


async def order_context(order: OrderRead) -> dict[str, Any]:
    """The site, supplier contact and each item's GTIN for the pack size ordered."""
    site = await sql.fetchrow("SELECT name, timezone FROM site WHERE id = {}", order.site_id)
    if site is None:
        raise NotFound("This site does not exist.", code="site_not_found")
    supplier = await sql.fetchrow("SELECT name, email, phone FROM supplier WHERE id = {}", order.supplier_id)
    codes = await sql.fetch(
        "SELECT item, code, pack_qty FROM item_code WHERE site = {} AND kind = 'gtin' ORDER BY id",
        order.site_id,
    )
    gtins: dict[tuple[int, int], str] = {}
    for c in codes:
        gtins.setdefault((int(c["item"]), int(c["pack_qty"])), str(c["code"]))
    return {
        "site_name": site["name"],
        "tz": ZoneInfo(site["timezone"]),
        "supplier": dict(supplier) if supplier else {"name": order.supplier_name, "email": "", "phone": ""},
        "gtins": {ln.id: gtins.get((ln.item_id, ln.pack_qty), "") for ln in order.lines},
    }


def order_csv(order: OrderRead, ctx: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ORDER_CSV_COLUMNS)
    for ln in order.lines:
        row = [
            order.number,
            order.status.value,
            order.supplier_name,
            ln.item_name,
            ctx["gtins"].get(ln.id, ""),
            ln.packs,
            ln.pack_qty,
            ln.ordered_units,
            ln.received_units,
            ln.discrepancy.value,
            ln.discrepancy_units,
            _amount(ln.unit_price, "0.0001"),
            _amount(ln.line_value, "0.01"),
        ]
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


def order_pdf(order: OrderRead, ctx: dict[str, Any]) -> bytes:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    _width, height = letter
    pdf = canvas.Canvas(buf, pagesize=letter, invariant=True)
    title = f"Purchase order {order.number}"
    pdf.setTitle(title)
    supplier = ctx["supplier"]
    columns = [
        (40, "Item"),
        (250, "GTIN"),
        (340, "Packs"),
        (380, "Pack size"),
        (430, "Units"),
        (470, "Unit price"),
        (530, "Value"),
    ]

    def header() -> float:
        pdf.setFont("Helvetica-Bold", 14)
        pdf.drawString(40, height - 40, title)
        pdf.setFont("Helvetica", 9)
        lines = [
            f"From: {ctx['site_name']}",
            f"To: {supplier['name']}  {supplier['email']}  {supplier['phone']}".rstrip(),
            f"Status: {order.status.value.replace('_', ' ')}   Created: {_local(order.created_at, ctx['tz'])}"
            + (f"   Sent: {_local(order.sent_at, ctx['tz'])}" if order.sent_at else ""),
        ]
        if order.note:
            lines.append(f"Note: {order.note[:110]}")
        y = height - 58
        for text in lines:
            pdf.drawString(40, y, text)
            y -= 12
        y -= 8
        pdf.setFont("Helvetica-Bold", 9)
        for x, text in columns:
            pdf.drawString(x, y, text)
        return float(y - 14)

    y = header()
    pdf.setFont("Helvetica", 9)
    for ln in order.lines:
        if y < 50:
            pdf.showPage()
            y = header()
            pdf.setFont("Helvetica", 9)
        cells = [
            ln.item_name[:40],
            ctx["gtins"].get(ln.id, ""),
            str(ln.packs),
            str(ln.pack_qty),
            str(ln.ordered_units),
            _price(ln.unit_price),
            _price(ln.line_value),
        ]
        for (x, _), text in zip(columns, cells, strict=True):
            pdf.drawString(x, y, text)
        y -= 13
    if not order.lines:
        pdf.drawString(40, y, "This order has no lines.")
    elif order.value is not None:
        pdf.setFont("Helvetica-Bold", 9)
        pdf.drawString(470, y - 4, "Total")
        pdf.drawString(530, y - 4, _price(order.value))
    pdf.showPage()
    pdf.save()
    return buf.getvalue()
