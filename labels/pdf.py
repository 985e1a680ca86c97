"""PDF output: label sheets (Avery 5160, 5163, L7160) and a thermal roll, with reportlab.

reportlab was picked by measurement (bench in the README): 1,000 labels of bars and text took
0.46-0.55 s with reportlab and 0.40-0.67 s with fpdf2, so speed did not decide; reportlab's
peak memory was lower and it fills all bars of a label as one path with font metrics at hand.

The page is laid out on a 1/150 inch grid measured from the page's top-left corner: a module is a
whole number of grid steps, so it is a whole number of dots on 150, 300, 600 and 1200 dpi printers
(and pixels when the page is rasterized at those resolutions). Each label's drawing starts at the
first grid line inside its die-cut edge. A 203 dpi Zebra gets ZPL instead (labels.zpl).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from labels.kinds import Label, content, symbol_for
from labels.layout import FONT, FONT_BOLD, Drawing, layout
from labels.sheets import INCH, ROLL_2X1, Roll, Sheet, placements
from labels.symbols import Symbology

if TYPE_CHECKING:
    from reportlab.pdfgen import canvas

GRID_DPI = 150
POINTS_PER_DOT = 72 / GRID_DPI


@dataclass(frozen=True)
class Placed:
    """One label on a page: its die-cut box (mm) and its drawing's origin on the grid (dots)."""

    page: int
    box_mm: tuple[float, float, float, float]  # x, y (from the top-left), width, height
    x: int
    y: int
    drawing: Drawing


def _grid(x_mm: float, y_mm: float, w_mm: float, h_mm: float) -> tuple[int, int, int, int]:
    per_mm = GRID_DPI / INCH
    # Rounded to a micro-dot first so that 0.5 in is exactly 75 dots, not 75.0000001.
    x0 = math.ceil(round(x_mm * per_mm, 6))
    y0 = math.ceil(round(y_mm * per_mm, 6))
    x1 = math.floor(round((x_mm + w_mm) * per_mm, 6))
    y1 = math.floor(round((y_mm + h_mm) * per_mm, 6))
    return x0, y0, x1 - x0, y1 - y0


def sheet_layout(
    labels: Sequence[Label], sheet: Sheet, *, start: int = 1, symbology: Symbology | None = None
) -> list[Placed]:
    placed = []
    for label, (page, slot) in zip(labels, placements(sheet, len(labels), start), strict=True):
        x_mm, y_mm = sheet.slot(slot)
        x, y, w, h = _grid(x_mm, y_mm, sheet.label_w, sheet.label_h)
        what = content(label)
        drawing = layout(what, symbol_for(what.code, symbology, two_d_first=False), w, h, GRID_DPI)
        placed.append(Placed(page, (x_mm, y_mm, sheet.label_w, sheet.label_h), x, y, drawing))
    return placed


def roll_layout(labels: Sequence[Label], roll: Roll, *, symbology: Symbology | None = None) -> list[Placed]:
    _, _, w, h = _grid(0, 0, roll.label_w, roll.label_h)
    placed = []
    for page, label in enumerate(labels):
        what = content(label)
        drawing = layout(what, symbol_for(what.code, symbology, two_d_first=False), w, h, GRID_DPI)
        placed.append(Placed(page, (0.0, 0.0, roll.label_w, roll.label_h), 0, 0, drawing))
    return placed


def _draw(c: canvas.Canvas, page_h: float, item: Placed) -> None:
    d = item.drawing
    path = c.beginPath()
    for r in d.bars:
        # PDF's y axis points up from the bottom; the grid counts down from the top.
        path.rect(
            (item.x + r.x) * POINTS_PER_DOT,
            page_h - (item.y + r.y + r.h) * POINTS_PER_DOT,
            r.w * POINTS_PER_DOT,
            r.h * POINTS_PER_DOT,
        )
    c.drawPath(path, stroke=0, fill=1)
    for t in d.texts:
        c.setFont(FONT_BOLD if t.bold else FONT, t.size * POINTS_PER_DOT)
        baseline = page_h - (item.y + t.baseline) * POINTS_PER_DOT
        if t.center:
            c.drawCentredString((item.x + t.x + t.w / 2) * POINTS_PER_DOT, baseline, t.text)
        else:
            c.drawString((item.x + t.x) * POINTS_PER_DOT, baseline, t.text)


def _write(placed: list[Placed], page_w_mm: float, page_h_mm: float, cut_lines: bool, title: str) -> bytes:
    from reportlab.pdfgen import canvas  # only when a PDF is made: workers need not hold reportlab

    buf = io.BytesIO()
    page_w, page_h = page_w_mm / INCH * 72, page_h_mm / INCH * 72
    # invariant=1: no creation date or random id, so the same labels give the same bytes.
    c = canvas.Canvas(buf, pagesize=(page_w, page_h), invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setCreator("clinitrack")
    page = 0
    for item in placed:
        while item.page > page:
            c.showPage()
            page += 1
        _draw(c, page_h, item)
        if cut_lines:
            x, y, w, h = (v / INCH * 72 for v in item.box_mm)
            c.saveState()
            c.setStrokeGray(0.6)
            c.setLineWidth(0.3)
            c.setDash(2, 2)
            c.rect(x, page_h - y - h, w, h, stroke=1, fill=0)
            c.restoreState()
    c.showPage()
    c.save()
    return buf.getvalue()


def render_sheet(
    labels: Sequence[Label],
    sheet: Sheet,
    *,
    start: int = 1,
    cut_lines: bool = False,
    symbology: Symbology | None = None,
) -> bytes:
    """A PDF of ``labels`` on ``sheet``, the first at position ``start`` (1 = top left)."""
    placed = sheet_layout(labels, sheet, start=start, symbology=symbology)
    return _write(placed, sheet.page_w, sheet.page_h, cut_lines, sheet.title)


def render_roll(
    labels: Sequence[Label], roll: Roll = ROLL_2X1, *, symbology: Symbology | None = None
) -> bytes:
    """A PDF with one page per label, the size of the roll's label."""
    placed = roll_layout(labels, roll, symbology=symbology)
    return _write(placed, roll.label_w, roll.label_h, False, roll.title)
