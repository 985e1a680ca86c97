"""The cold chain incident report as PDF, for the public health unit (domain §3): the fridge, the
excursion (start, end, extremes), the workflow steps, a table of every lot that was in the unit
(item, lot, expiry, quantity, opened multi-dose vials, decision) and the readings of the weeks
before, with their times. Pure: values in, bytes out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from server.coldchain.schemas import IncidentRead, ReadingRead

if TYPE_CHECKING:
    from reportlab.platypus import Table

# reportlab is imported inside the functions that draw: a service worker that never makes this PDF
# does not hold it in memory (README, "RSS per worker").
RED = "#b3261e"


def _when(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else "-"


def _c(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _table(rows: list[list[Any]], widths: list[float], extra: Sequence[tuple[Any, ...]] = ()) -> Table:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    grid = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([*grid, *extra]))
    return table


def incident_pdf(
    incident: IncidentRead, readings: Sequence[ReadingRead], *, site_name: str, zone: ZoneInfo
) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    p = [
        Paragraph(
            f"Cold chain incident #{incident.id}: {escape(incident.location_name)}", styles["Heading2"]
        ),
        Paragraph(
            f"Clinic: {escape(site_name)}. Range {incident.low:+.1f} to {incident.high:+.1f} °C. "
            f"Times are {zone.key}. Status: {incident.status}.",
            body,
        ),
        Spacer(1, 6),
    ]
    facts: list[list[Any]] = [
        ["", ""],
        ["Last reading in range before", _when(incident.since, zone)],
        ["Out of range found", _when(incident.started_at, zone)],
        ["Back in range", _when(incident.ended_at, zone)],
        ["Lowest / highest", f"{incident.lowest:.1f} °C / {incident.highest:.1f} °C"],
        ["Recorded by", incident.opened_by],
        [
            "Public health unit notified",
            f"{_when(incident.phu_notified_at, zone)} by {incident.phu_notified_by or '-'}: "
            f"{incident.phu_contact or '-'}",
        ],
        ["Logs sent", f"{_when(incident.logs_sent_at, zone)} by {incident.logs_sent_by or '-'}"],
        ["Closed", f"{_when(incident.closed_at, zone)} by {incident.closed_by or '-'}"],
        ["Summary", Paragraph(escape(incident.summary or "-"), body)],
    ]
    p.append(_table(facts[1:], [2.2 * inch, 5.3 * inch], [("FONT", (0, 0), (0, -1), "Helvetica-Bold", 8)]))
    p += [Spacer(1, 8), Paragraph("Vaccine in the unit (held as DO NOT USE)", styles["Heading3"])]
    lots = [["Item", "Lot", "Expiry", "Quantity", "Opened vials", "Decision", "By / when"]]
    lots += [
        [
            x.item_name,
            x.lot_number,
            x.expiry.isoformat() if x.expiry else "",
            str(x.quantity),
            str(x.opened_vials),
            x.decision or "waiting",
            f"{x.decided_by} {_when(x.decided_at, zone)}" if x.decision else "",
        ]
        for x in incident.lots
    ]
    p.append(_table(lots, [w * inch for w in (2.0, 0.9, 0.8, 0.7, 0.8, 0.8, 1.5)]))
    p += [Spacer(1, 8), Paragraph("Temperature readings", styles["Heading3"])]
    rows = [["Taken at", "Current", "Min", "Max", "Source", "By", "Out of range"]]
    red = []
    for i, r in enumerate(readings, start=1):
        rows.append(
            [
                _when(r.taken_at, zone),
                _c(r.current),
                _c(r.min),
                _c(r.max),
                r.source,
                r.initials or r.taken_by,
                " ".join(r.out_of_range),
            ]
        )
        if r.out_of_range:
            red.append(("TEXTCOLOR", (0, i), (-1, i), colors.HexColor(RED)))
    if len(rows) == 1:
        rows.append(["No readings in this period", "", "", "", "", "", ""])
    p.append(_table(rows, [w * inch for w in (1.4, 0.8, 0.7, 0.7, 0.8, 1.4, 1.7)], red))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=letter,
        leftMargin=0.5 * inch,
        rightMargin=0.5 * inch,
        topMargin=0.5 * inch,
        bottomMargin=0.5 * inch,
        title=f"Cold chain incident #{incident.id}",
        author="clinitrack",
    )
    doc.build(p)
    return out.getvalue()
