"""The monthly temperature log sheet as PDF, laid out like the paper form PHUs ask for (domain §3):
one row per day; for each reading time: time, current, min, max, initials; closed days marked
"CLOSED"; out-of-range values in red with an asterisk; missing readings marked. Also the readings
as CSV. Pure: values in, bytes/text out.
"""

from __future__ import annotations

import calendar
import csv
import io
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from server.coldchain import rules
from server.coldchain.schemas import ReadingRead
from server.csvcell import cell

# reportlab is imported inside the functions that draw: a service worker that never makes this PDF
# does not hold it in memory (README, "RSS per worker").
RED = "#b3261e"
CSV_COLUMNS = [
    "taken_at_local",
    "taken_at_utc",
    "current_c",
    "min_c",
    "max_c",
    "reset",
    "source",
    "initials",
    "taken_by",
    "out_of_range",
    "incident_id",
    "note",
    "corrects_id",
    "correction_reason",
    "corrected",
]


def _c(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _initials(r: ReadingRead) -> str:
    return r.initials or r.taken_by[:3].upper()


def month_bounds(year: int, month: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    return rules.local_instant(first, time(0), zone), rules.local_instant(
        last + timedelta(days=1), time(0), zone
    )


def _day_cells(
    day: date,
    times: Sequence[time],
    zone: ZoneInfo,
    readings: Sequence[ReadingRead],
    closed: str | None,
    now: datetime,
) -> tuple[list[str], list[tuple[int, int]], str]:
    """The row's cells per slot, which cells are out of range (slot, column), and the comment."""
    cells: list[str] = []
    red: list[tuple[int, int]] = []
    notes: list[str] = []
    for i, slot in enumerate(rules.day_slots(day, times, zone)):
        inside = [r for r in readings if slot.window_start <= r.taken_at < slot.window_end]
        if not inside:
            if closed is not None:
                cells += ["CLOSED", "", "", "", ""]
            elif now >= slot.due_at:
                cells += ["missing", "", "", "", ""]
                red.append((i, 0))
            else:
                cells += ["", "", "", "", ""]
            continue
        r = inside[0]
        values = []
        for j, (name, value) in enumerate((("current", r.current), ("min", r.min), ("max", r.max)), start=1):
            bad = name in r.out_of_range
            values.append(_c(value) + ("*" if bad else ""))
            if bad:
                red.append((i, j))
        cells += [r.taken_at.astimezone(zone).strftime("%H:%M"), *values, _initials(r)]
        if len(inside) > 1:
            notes.append(f"{slot.at:%H:%M}: +{len(inside) - 1} more")
        if r.incident_id:
            notes.append(f"incident #{r.incident_id}")
        if r.corrects:
            notes.append(f"{slot.at:%H:%M} corrected: {r.reason}")
    if closed:
        notes.insert(0, f"closed{': ' + closed if closed.strip() else ''}")
    return cells, red, "; ".join(dict.fromkeys(notes))


def month_sheet(
    *,
    site_name: str,
    fridge_name: str,
    low: float,
    high: float,
    year: int,
    month: int,
    zone: ZoneInfo,
    times: Sequence[time],
    readings: Sequence[ReadingRead],
    closed_days: dict[date, str],
    now: datetime,
) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import landscape, letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    red_color = colors.HexColor(RED)
    manual = [r for r in readings if r.source == "manual" and not r.corrected]
    styles = getSampleStyleSheet()
    header = ["Date"]
    for t in times:
        header += [f"{t:%H:%M}", "Current", "Min", "Max", "Init."]
    header.append("Comments")
    rows: list[list[str]] = [header]
    style = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 7.5),
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 7.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
        ("ALIGN", (1, 1), (-2, -1), "CENTER"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
    ]
    for number in range(1, calendar.monthrange(year, month)[1] + 1):
        day = date(year, month, number)
        cells, red, comment = _day_cells(day, times, zone, manual, closed_days.get(day), now)
        row = len(rows)
        rows.append([f"{day:%a %d}", *cells, comment])
        for slot, col in red:
            style.append(("TEXTCOLOR", (1 + slot * 5 + col, row), (1 + slot * 5 + col, row), red_color))
        if day in closed_days:
            style.append(("BACKGROUND", (0, row), (-1, row), colors.HexColor("#f2f2f2")))
    widths = [0.55 * inch] + [0.5 * inch, 0.5 * inch, 0.45 * inch, 0.45 * inch, 0.4 * inch] * len(times)
    widths.append(10 * inch - sum(widths) if sum(widths) < 9 * inch else 1.0 * inch)
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(style))
    title = f"Vaccine fridge temperature log: {calendar.month_name[month]} {year}"
    info = (
        f"Clinic: {escape(site_name)} &nbsp;&nbsp; Unit: {escape(fridge_name)} &nbsp;&nbsp; "
        f"Range: {low:+.1f} to {high:+.1f} °C &nbsp;&nbsp; Times are {zone.key}. "
        "Record current, min and max to 0.1 °C and reset min/max "
        "twice daily; * = out of range (cold chain incident: call the public health unit)."
    )
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=landscape(letter),
        leftMargin=0.4 * inch,
        rightMargin=0.4 * inch,
        topMargin=0.4 * inch,
        bottomMargin=0.4 * inch,
        title=title,
        author="clinitrack",
    )
    sign = "Reviewed by: ________________ &nbsp;&nbsp; Signature: ________________ &nbsp; Date: ________"
    story = [Paragraph(title, styles["Heading2"]), Paragraph(info, styles["BodyText"]), Spacer(1, 6), table]
    doc.build([*story, Spacer(1, 10), Paragraph(sign, styles["BodyText"])])
    return out.getvalue()


def readings_csv(readings: Sequence[ReadingRead], zone: ZoneInfo) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for r in readings:
        writer.writerow(
            [
                r.taken_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                r.taken_at.isoformat(),
                _c(r.current),
                _c(r.min),
                _c(r.max),
                "yes" if r.reset else "no",
                r.source,
                cell(r.initials),
                cell(r.taken_by),
                " ".join(r.out_of_range),
                r.incident_id or "",
                cell(r.note),
                r.corrects or "",
                cell(r.reason),
                "yes" if r.corrected else "no",
            ]
        )
    return out.getvalue()
