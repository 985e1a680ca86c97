"""Where things go on one label, in whole printer dots (pure).

Everything is laid out on the printer's dot grid: a barcode module is a whole number of dots and
each bar starts on a dot, because a barcode scaled by a fraction of a dot prints bars of uneven
width and stops decoding (stack-notes §4). The same drawing feeds the PDF, SVG and ZPL writers.
"""

from __future__ import annotations

from dataclasses import dataclass

from labels.errors import LabelError
from labels.kinds import Content
from labels.symbols import Symbol

FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"
# Helvetica's ascent (718/1000): from a text box's top to its baseline.
ASCENT = 0.75
LINE = 1.18  # line height as a multiple of the font size


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Text:
    """A line of text: ``top`` of its box, font ``size`` in dots, centered in ``w`` if ``center``."""

    x: int
    top: int
    w: int
    size: int
    text: str
    bold: bool = False
    center: bool = False

    @property
    def baseline(self) -> float:
        return self.top + ASCENT * self.size


@dataclass(frozen=True)
class Drawing:
    width: int
    height: int
    dpi: int
    bars: tuple[Rect, ...]
    texts: tuple[Text, ...]
    symbol: Symbol
    # The symbol with its quiet zone, and the size of one module, in dots.
    symbol_box: Rect
    module: int


def mm_to_dots(mm: float, dpi: int) -> int:
    return round(mm * dpi / 25.4)


def _pt(points: float, dpi: int) -> int:
    return max(1, round(points * dpi / 72))


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    # Imported here, not at the top: a service worker that never lays out a label does not load reportlab.
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return float(stringWidth(text, FONT_BOLD if bold else FONT, size))


def fit_text(text: str, width: int, size: int, *, bold: bool = False, smallest: int = 1) -> tuple[str, int]:
    """Shrink to fit ``width`` (down to ``smallest``), then cut with an ellipsis."""
    while size > smallest and text_width(text, size, bold=bold) > width:
        size -= 1
    if text_width(text, size, bold=bold) <= width:
        return text, size
    while text and text_width(text + "…", size, bold=bold) > width:
        text = text[:-1]
    return text.rstrip() + "…", size


def _stack(
    lines: list[tuple[str, int, bool]], x: int, top: int, width: int, *, center: bool, smallest: int
) -> tuple[list[Text], int]:
    texts = []
    for text, size, bold in lines:
        if not text:
            continue
        fitted, fsize = fit_text(text, width, size, bold=bold, smallest=smallest)
        texts.append(Text(x, top, width, fsize, fitted, bold=bold, center=center))
        top += round(fsize * LINE)
    return texts, top


def _stack_height(lines: list[tuple[str, int, bool]]) -> int:
    return sum(round(size * LINE) for text, size, _ in lines if text)


def _bars(symbol: Symbol, x: int, y: int, module: int, bar_height: int) -> list[Rect]:
    """Runs of dark modules as rectangles (one per run keeps the PDF small)."""
    rects = []
    q = symbol.quiet
    for r, row in enumerate(symbol.rows):
        top = y + (q + r) * module if not symbol.linear else y
        height = module if not symbol.linear else bar_height
        i = 0
        while i < len(row):
            if row[i] == "1":
                j = i
                while j < len(row) and row[j] == "1":
                    j += 1
                rects.append(Rect(x + (q + i) * module, top, (j - i) * module, height))
                i = j
            else:
                i += 1
    return rects


def _module(avail_w: int, avail_h: int, symbol: Symbol, most: int) -> int:
    across = avail_w // symbol.width
    down = across if symbol.linear else avail_h // symbol.height
    module = min(across, down, most)
    if module < 1:
        raise LabelError(
            f"The {symbol.symbology} barcode for {symbol.text!r} does not fit this label size; "
            "pick a bigger sheet or another symbology.",
            code="does_not_fit",
        )
    return module


def _scaled(lines: list[tuple[str, int, bool]], budget: int, floor: int) -> list[tuple[str, int, bool]]:
    """Shrink all font sizes together until the lines fit ``budget`` dots of height."""
    scaled = lines
    factor = 1.0
    while _stack_height(scaled) > budget and factor > 0.5:
        factor *= 0.9
        scaled = [(t, max(floor, round(s * factor)), b) for t, s, b in lines]
    return scaled


def layout(content: Content, symbol: Symbol, width: int, height: int, dpi: int) -> Drawing:
    """Lay out one label of ``width`` x ``height`` dots at ``dpi``."""
    pad = max(2, mm_to_dots(1.5, dpi))
    smallest = _pt(5, dpi)
    caption = symbol.text
    if content.big:
        return _big(content, symbol, width, height, dpi, pad, smallest, caption)
    if not symbol.linear:
        return _side_by_side(content, symbol, width, height, dpi, pad, smallest, caption)
    return _stacked(content, symbol, width, height, dpi, pad, smallest, caption)


def _side_by_side(
    content: Content, symbol: Symbol, width: int, height: int, dpi: int, pad: int, smallest: int, caption: str
) -> Drawing:
    """A 2D symbol on the left, the words on the right (item, lot, device and pack labels)."""
    most = max(1, mm_to_dots(1.0, dpi))
    module = _module(width * 45 // 100, height - pad, symbol, most)
    side = symbol.width * module
    sy = (height - side) // 2
    sx = max(0, pad - symbol.quiet * module)
    bars = _bars(symbol, sx, sy, module, 0)
    tx = sx + side + pad // 2
    tw = width - tx - pad
    lines = [(content.title, _pt(9, dpi), True)]
    lines += [(line, _pt(7.5, dpi), False) for line in content.lines]
    lines += [(caption, _pt(6, dpi), False)]
    lines = _scaled(lines, height - 2 * pad, smallest)
    top = (height - _stack_height(lines)) // 2
    texts, _ = _stack(lines, tx, top, tw, center=False, smallest=smallest)
    return Drawing(width, height, dpi, tuple(bars), tuple(texts), symbol, Rect(sx, sy, side, side), module)


def _stacked(
    content: Content, symbol: Symbol, width: int, height: int, dpi: int, pad: int, smallest: int, caption: str
) -> Drawing:
    """Words on top, a linear barcode across the bottom with its text under it."""
    most = max(1, mm_to_dots(0.5, dpi))
    module = _module(width, height, symbol, most)
    sw = symbol.width * module
    sx = (width - sw) // 2
    head = [(content.title, _pt(9, dpi), True), *((line, _pt(7, dpi), False) for line in content.lines)]
    foot = [(caption, _pt(6, dpi), False)]
    # At least 5 mm of bars (and 15 % of the width), then the words share what is left.
    min_bars = max(mm_to_dots(5, dpi), sw * 15 // 100)
    budget = height - 2 * pad - min_bars
    if budget < _stack_height(foot):
        raise LabelError("The barcode and its text do not fit this label size.", code="does_not_fit")
    head = _scaled(head, budget - _stack_height(foot), smallest)
    texts, top = _stack(head, pad, pad, width - 2 * pad, center=False, smallest=smallest)
    gap = mm_to_dots(0.5, dpi)
    bar_h = height - pad - _stack_height(foot) - top - gap
    bars = _bars(symbol, sx, top, module, bar_h)
    under, _ = _stack(foot, 0, top + bar_h + gap, width, center=True, smallest=smallest)
    return Drawing(
        width, height, dpi, tuple(bars), tuple(texts + under), symbol, Rect(sx, top, sw, bar_h), module
    )


def _big(
    content: Content, symbol: Symbol, width: int, height: int, dpi: int, pad: int, smallest: int, caption: str
) -> Drawing:
    """A name and a big barcode (places, fridges, room doors), centered."""
    head = [(content.title, _pt(16, dpi), True)]
    foot = [(caption, _pt(7, dpi), False), *((line, _pt(7, dpi), False) for line in content.footer)]
    head = _scaled(head, (height - 2 * pad) // 3, smallest)
    foot = _scaled(foot, (height - 2 * pad) // 3, smallest)
    text_h = _stack_height(head) + _stack_height(foot)
    gap = mm_to_dots(0.5, dpi)
    avail_h = height - 2 * pad - text_h - gap
    most = max(1, mm_to_dots(0.6 if symbol.linear else 2.0, dpi))
    module = _module(width, avail_h, symbol, most)
    sw = symbol.width * module
    sh = avail_h if symbol.linear else symbol.height * module
    texts, top = _stack(head, pad, pad, width - 2 * pad, center=True, smallest=smallest)
    sx = (width - sw) // 2
    sy = top + (avail_h - sh) // 2
    bars = _bars(symbol, sx, sy, module, sh)
    under, _ = _stack(foot, pad, sy + sh + gap, width - 2 * pad, center=True, smallest=smallest)
    return Drawing(
        width, height, dpi, tuple(bars), tuple(texts + under), symbol, Rect(sx, sy, sw, sh), module
    )
