"""The publicly funded vaccine order for the public health unit: one ZIP with the order (PDF and CSV,
publicly funded vaccine lines only) and each fridge's temperature log sheet for last month and this
month so far (Halton asks for one full month of logs with each order, domain.md section 3)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

import msgspec

from server import sql
from server.coldchain import outputs as coldchain_outputs
from server.coldchain import readings as coldchain_readings
from server.core.service import site_zone
from server.errors import RuleViolation
from server.purchasing import documents, service

_FUNDED = "SELECT id FROM item WHERE site = {} AND publicly_funded = {} AND kind = 'vaccine'"


def _months(now: datetime) -> list[str]:
    """Last month and this month, as YYYY-MM."""
    year, month = now.year, now.month
    before = (year - 1, 12) if month == 1 else (year, month - 1)
    return [f"{before[0]:04d}-{before[1]:02d}", f"{year:04d}-{month:02d}"]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "fridge"


async def export_zip(site_id: int, order_id: int, *, now: datetime) -> tuple[str, bytes]:
    order = await service.get_order(site_id, order_id)
    funded = {int(r["id"]) for r in await sql.fetch(_FUNDED, site_id, True)}
    lines = [ln for ln in order.lines if ln.item_id in funded]
    if not lines:
        raise RuleViolation(
            "This order has no publicly funded vaccine on it: there is nothing to send to public health.",
            code="no_funded_vaccine",
        )
    funded_order = msgspec.structs.replace(order, lines=lines)
    ctx = await documents.order_context(funded_order)
    zone = await site_zone(site_id)
    local_now = now.astimezone(zone)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{order.number}-vaccine-order.pdf", documents.order_pdf(funded_order, ctx))
        archive.writestr(f"{order.number}-vaccine-order.csv", documents.order_csv(funded_order, ctx))
        for fridge in await coldchain_readings.list_fridges(site_id):
            for month in _months(local_now):
                pdf = await coldchain_outputs.month_sheet_pdf(site_id, fridge.location_id, month, now=now)
                archive.writestr(
                    f"temperature-log-{_slug(fridge.name)}-{fridge.location_id}-{month}.pdf", pdf
                )
    return f"{order.number}-public-health.zip", buf.getvalue()
