"""The sterilization monitoring log as PDF, laid out like PHO's "Sterilization Monitoring Log for
Table-top Steam Sterilizers": a header per sterilizer (model, serial), then per load the date, time,
load number, contents, time/temperature/pressure met Y/N, chemical indicators, BI result and the
initials; the audit-chain range that covers it is printed at the foot so a reader can check it."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import landscape, letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from server.reprocessing.devices import site_zone
from server.reprocessing.review import LoadFilter, chain_range, list_loads, load_contents
from server.reprocessing.schemas import LoadRead
from server.reprocessing.tables import Sterilizer

HEADER = [
    "Date",
    "Time",
    "Load #",
    "Cycle",
    "Contents",
    "T/T/P met",
    "Ext CI",
    "Int CI",
    "BI",
    "Initials",
    "Released by",
    "Status",
]
RED = colors.HexColor("#b3261e")


def _yn(value: bool | None) -> str:
    return "—" if value is None else ("Y" if value else "N")


def render(
    title: str,
    period: str,
    sterilizers: Sequence[dict[str, Any]],
    loads: Sequence[LoadRead],
    contents: dict[int, list[str]],
    times: dict[int, str],
    chain: Sequence[str],
) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(letter),
        leftMargin=0.4 * inch,
        rightMargin=0.4 * inch,
        topMargin=0.4 * inch,
        bottomMargin=0.4 * inch,
        title=title,
    )
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7.5, leading=9)
    story: list[Any] = [
        Paragraph(escape(title), styles["Title"]),
        Paragraph(escape(period), styles["Normal"]),
    ]
    for st in sterilizers:
        mine = [x for x in loads if x.sterilizer_id == st["id"]]
        if not mine:
            continue
        story += [
            Spacer(1, 8),
            Paragraph(
                escape(
                    f"Sterilizer: {st['name']} — model {st['model']}, serial {st['serial']}, "
                    f"{st['kind'].replace('_', '-')}"
                ),
                styles["Heading3"],
            ),
        ]
        rows: list[list[Any]] = [HEADER]
        bad: list[int] = []
        for i, x in enumerate(mine, start=1):
            bi = x.bi_result.value or ("—" if not x.bi_required else "missing")
            rows.append(
                [
                    x.day.isoformat(),
                    times[x.id],
                    str(x.load_number),
                    x.cycle_type,
                    Paragraph(
                        escape(
                            "; ".join(contents.get(x.id, [])) or ("BI test" if x.purpose == "bi_test" else "")
                        ),
                        small,
                    ),
                    _yn(x.physical_met),
                    x.external_ci or "—",
                    x.internal_ci or "—",
                    bi,
                    x.operator_initials,
                    x.releaser_name,
                    x.status.value,
                ]
            )
            if x.status.value == "failed":
                bad.append(i)
        widths = [0.8, 0.5, 0.5, 0.8, 2.9, 0.7, 0.5, 0.5, 0.7, 0.6, 0.9, 0.6]
        table = Table(rows, repeatRows=1, colWidths=[w * inch for w in widths], hAlign="LEFT")
        style = [
            ("FONTSIZE", (0, 0), (-1, -1), 7.5),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        style += [("TEXTCOLOR", (0, i), (-1, i), RED) for i in bad]
        table.setStyle(TableStyle(style))
        story.append(table)
    if not loads:
        story.append(Paragraph("No loads in this period.", styles["Normal"]))
    story += [
        Spacer(1, 10),
        Paragraph(
            "Any 'N', 'fail' or 'positive' requires the system failure procedure and follow-up.", small
        ),
        Paragraph(escape("Audit chain: " + " · ".join(chain)), small),
    ]
    doc.build(story)
    return out.getvalue()


async def export_pdf(site_id: int, f: LoadFilter) -> bytes:
    loads = await list_loads(site_id, f)
    tz = await site_zone(site_id)
    sterilizers = await Sterilizer.select().where(Sterilizer.site == site_id).order_by(Sterilizer.name)
    contents = await load_contents([x.id for x in loads])
    times = {x.id: x.started_at.astimezone(tz).strftime("%H:%M") for x in loads}
    chain = await chain_range(site_id, f, tz)
    period = f"Site {site_id} · {_day(f.from_day)} to {_day(f.to_day)} · times in {tz.key}"
    return await asyncio.to_thread(
        render, "Sterilization monitoring log", period, sterilizers, loads, contents, times, chain
    )


def _day(value: date | None) -> str:
    return value.isoformat() if value else "…"
