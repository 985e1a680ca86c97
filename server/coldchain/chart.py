"""The temperature chart of one fridge over a period, as SVG (pure: values in, text out).

The allowed band (2-8 °C by default) is shaded green; current readings are a line with points;
min/max readings are whiskers; readings outside the band are red and marked with a triangle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from server.coldchain.schemas import FridgeRead, ReadingRead

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 36
OK, BAD, BAND = "#1f5f99", "#b3261e", "#d8efd9"


def _scale(lo: float, hi: float, size: float, start: float, invert: bool = False):  # type: ignore[no-untyped-def]
    span = (hi - lo) or 1.0

    def f(v: float) -> float:
        share = (v - lo) / span
        return round(start + (1 - share if invert else share) * size, 1)

    return f


def render(
    fridge: FridgeRead, rows: Sequence[ReadingRead], start: datetime, end: datetime, zone: ZoneInfo
) -> str:
    """``start`` and ``end`` are local midnights; point labels are in the site's time zone."""
    rows = [r for r in rows if not r.corrected]  # a corrected reading is replaced by its correction
    values = [v for r in rows for v in (r.current, r.min, r.max) if v is not None]
    lo = min([fridge.low - 2, *values])
    hi = max([fridge.high + 2, *values])
    x = _scale(start.timestamp(), end.timestamp(), WIDTH - LEFT - RIGHT, LEFT)
    y = _scale(lo, hi, HEIGHT - TOP - BOTTOM, TOP, invert=True)
    first, last = start.astimezone(zone).date(), (end - timedelta(seconds=1)).astimezone(zone).date()
    title = escape(f"{fridge.name}: {first} to {last}")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{title}" font-family="sans-serif" font-size="11">',
        f"<title>{title}</title>",
        f'<rect x="{LEFT}" y="{y(fridge.high)}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{round(y(fridge.low) - y(fridge.high), 1)}" fill="{BAND}" class="band"/>',
        f'<text x="{LEFT}" y="16">{title}</text>',
    ]
    for value in (fridge.low, fridge.high):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value)}" y2="{y(value)}" stroke="#4a8a4f" '
            f'stroke-dasharray="4 3"/><text x="{LEFT - 4}" y="{y(value) + 4}" '
            f'text-anchor="end">{value:.1f}</text>'
        )
    parts.append(
        f'<text x="{LEFT}" y="{HEIGHT - 10}">{first}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 10}" text-anchor="end">{last}</text>'
    )
    line = " ".join(f"{x(r.taken_at.timestamp())},{y(r.current)}" for r in rows)
    if len(rows) > 1:
        parts.append(f'<polyline points="{line}" fill="none" stroke="{OK}" stroke-width="1.5"/>')
    for r in rows:
        px = x(r.taken_at.timestamp())
        colour = BAD if r.out_of_range else OK
        if r.min is not None and r.max is not None:
            parts.append(
                f'<line x1="{px}" x2="{px}" y1="{y(r.max)}" y2="{y(r.min)}" stroke="{colour}" opacity="0.6"/>'
            )
        label = escape(f"{r.taken_at.astimezone(zone):%Y-%m-%d %H:%M}: {r.current:.1f} °C")
        parts.append(
            f'<circle cx="{px}" cy="{y(r.current)}" r="2.5" fill="{colour}"><title>{label}</title></circle>'
        )
        if r.out_of_range:
            top = y(max(v for v in (r.current, r.max) if v is not None)) - 6
            parts.append(
                f'<path class="excursion" d="M{px - 5},{top - 8} h10 l-5,8 z" fill="{BAD}">'
                f"<title>{label}</title></path>"
            )
    if not rows:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">No readings</text>')
    parts.append("</svg>")
    return "".join(parts)
