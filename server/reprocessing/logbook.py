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

from server.core.service import site_zone
from server.reprocessing.loads import failure_detail
from server.reprocessing.review import LoadFilter, chain_range, each_load_page, load_contents
from server.reprocessing.schemas import LoadRead
from server.reprocessing.tables import Load, Sterilizer

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
# reportlab is imported inside the functions that draw: a service worker that never makes this PDF
# does not hold it in memory (README, "RSS per worker").
RED = "#b3261e"


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
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import landscape, letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

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
        style += [("TEXTCOLOR", (0, i), (-1, i), colors.HexColor(RED)) for i in bad]
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
    # A PDF is laid out whole in memory (reportlab), so unlike the CSV it is not streamed.
    loads = [x async for page in each_load_page(site_id, f) for x in page]
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


def render_failure(
    lines: Sequence[tuple[str, str]], packs: Sequence[Sequence[str]], tests: Sequence[Sequence[str]]
) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=letter,
        leftMargin=0.6 * inch,
        rightMargin=0.6 * inch,
        topMargin=0.6 * inch,
        bottomMargin=0.6 * inch,
        title="System failure report",
    )
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8.5, leading=10.5)
    story: list[Any] = [Paragraph("System failure report", styles["Title"])]
    for label, value in lines:
        story.append(Paragraph(f"<b>{escape(label)}:</b> {escape(value)}", small))
    grid = [
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    story += [Spacer(1, 8), Paragraph("Recalled packs and the visits they went to", styles["Heading3"])]
    rows = [["Pack", "Device or set", "Load", "Where it was", "Visits"], *packs]
    story.append(
        Table(rows, repeatRows=1, hAlign="LEFT", style=TableStyle(grid))
        if packs
        else Paragraph("No packs.", small)
    )
    story += [
        Spacer(1, 8),
        Paragraph("BI tests since the sterilizer went out of service", styles["Heading3"]),
    ]
    rows = [["Date", "Load #", "Cycle", "BI result", "Read at"], *tests]
    story.append(
        Table(rows, repeatRows=1, hAlign="LEFT", style=TableStyle(grid))
        if tests
        else Paragraph("None yet.", small)
    )
    doc.build(story)
    return out.getvalue()


async def failure_pdf(site_id: int, failure_id: int) -> bytes:
    """What the PHU procedure asks the report to hold: time, date, the sterilizer, the loads and
    items since the last negative BI, where they went, the call to the health unit, the repeat tests."""
    detail = await failure_detail(site_id, failure_id)
    f = detail.failure
    tz = await site_zone(site_id)
    st = await Sterilizer.select().where(Sterilizer.id == f.sterilizer_id).first()

    def when(value: Any) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "—"

    lines = [
        ("Sterilizer", f"{st['name']} — model {st['model']}, serial {st['serial']}" if st else "—"),
        ("Failure", f"{f.kind.replace('_', ' ')}: {f.detail}"),
        ("Opened", when(f.opened_at)),
        ("Load", str(f.load_id or "—")),
        ("Loads recalled", ", ".join(str(x) for x in detail.loads) or "—"),
        ("Public health unit notified", f"{when(f.phu_notified_at)} {f.phu_contact}".strip()),
        ("Closed", when(f.closed_at)),
        ("Report", f.report or "—"),
    ]
    packs = [
        [
            p.label_code,
            p.device_name,
            f"{p.load_day.isoformat()} #{p.load_number}",
            p.status_before,
            ", ".join(p.visits),
        ]
        for p in detail.packs
    ]
    tests: list[list[str]] = []
    if st is not None:
        rows = (
            await Load.select()
            .where((Load.sterilizer == st["id"]) & (Load.started_at > f.opened_at) & (Load.bi_result != ""))
            .order_by(Load.started_at)
        )
        tests = [
            [
                r["day"].isoformat(),
                str(r["load_number"]),
                r["cycle_type"],
                r["bi_result"],
                when(r["bi_read_at"]),
            ]
            for r in rows
        ]
    return await asyncio.to_thread(render_failure, lines, packs, tests)
