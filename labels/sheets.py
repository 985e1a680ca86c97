"""Label stock: sheets of die-cut labels and thermal rolls, in millimetres (pure).

Sheet geometry is the manufacturer's published template data (Avery's template specifications,
as also carried by gLabels' avery-us/avery-iso template files): label size, grid, top-left
margin and pitch. All three sheets are symmetric, so right and bottom margins follow.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from labels.errors import LabelError

INCH = 25.4


@dataclass(frozen=True)
class Sheet:
    name: str
    title: str
    page_w: float
    page_h: float
    label_w: float
    label_h: float
    cols: int
    rows: int
    left: float  # page edge to the first label's left edge
    top: float  # page edge to the first label's top edge
    pitch_x: float  # left edge to left edge
    pitch_y: float  # top edge to top edge

    @property
    def per_page(self) -> int:
        return self.cols * self.rows

    def slot(self, index: int) -> tuple[float, float]:
        """Top-left corner (mm from the page's top-left) of position ``index`` (0-based, row by row)."""
        row, col = divmod(index, self.cols)
        return self.left + col * self.pitch_x, self.top + row * self.pitch_y


class SheetName(enum.StrEnum):
    AVERY_5160 = "avery5160"
    AVERY_5163 = "avery5163"
    AVERY_L7160 = "averyL7160"


SHEETS = {
    # Avery 5160 (Letter): 2-5/8" x 1", 3 x 10; top margin 1/2", side margin 3/16",
    # horizontal pitch 2-3/4" (1/8" gap), vertical pitch 1".
    SheetName.AVERY_5160: Sheet(
        "avery5160", "Avery 5160 (Letter, 30 a sheet, 2-5/8 x 1 in)", 8.5 * INCH, 11 * INCH,
        2.625 * INCH, 1 * INCH, 3, 10, 0.1875 * INCH, 0.5 * INCH, 2.75 * INCH, 1 * INCH,
    ),
    # Avery 5163 (Letter): 4" x 2", 2 x 5; top margin 1/2", side margin 5/32",
    # horizontal pitch 4-3/16" (3/16" gap), vertical pitch 2".
    SheetName.AVERY_5163: Sheet(
        "avery5163", "Avery 5163 (Letter, 10 a sheet, 4 x 2 in)", 8.5 * INCH, 11 * INCH,
        4 * INCH, 2 * INCH, 2, 5, 0.15625 * INCH, 0.5 * INCH, 4.1875 * INCH, 2 * INCH,
    ),
    # Avery L7160 (A4): 63.5 x 38.1 mm, 3 x 7; top margin 15.15 mm, horizontal pitch 66.04 mm
    # (2.54 mm gap), vertical pitch 38.1 mm; side margin (210 - 3 x 63.5 - 2 x 2.54) / 2 = 7.21 mm.
    SheetName.AVERY_L7160: Sheet(
        "averyL7160", "Avery L7160 (A4, 21 a sheet, 63.5 x 38.1 mm)", 210.0, 297.0,
        63.5, 38.1, 3, 7, 7.21, 15.15, 66.04, 38.1,
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Roll:
    """Continuous die-cut labels on a roll, one label a page."""

    name: str
    title: str
    label_w: float
    label_h: float


ROLL_2X1 = Roll("roll2x1", "Thermal roll, 2 x 1 in", 2 * INCH, 1 * INCH)


def placements(sheet: Sheet, count: int, start: int = 1) -> list[tuple[int, int]]:
    """(page, position) for ``count`` labels, the first at ``start`` (1-based) on a partly used sheet."""
    if not 1 <= start <= sheet.per_page:
        raise LabelError(
            f"The start position must be 1 to {sheet.per_page} on {sheet.title}.", code="bad_start"
        )
    return [divmod(start - 1 + i, sheet.per_page) for i in range(count)]
