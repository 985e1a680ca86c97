"""SVG for one label (the preview): the same drawing as the PDF, in dots, sized in millimetres."""

from __future__ import annotations

from xml.sax.saxutils import escape

from labels.kinds import Label, content, symbol_for
from labels.layout import Drawing, layout, mm_to_dots
from labels.symbols import Symbology

PREVIEW_DPI = 150


def drawing_to_svg(d: Drawing, width_mm: float, height_mm: float) -> bytes:
    bars = "".join(f"M{r.x} {r.y}h{r.w}v{r.h}h{-r.w}z" for r in d.bars)
    texts = []
    for t in d.texts:
        x = t.x + t.w / 2 if t.center else t.x
        anchor = ' text-anchor="middle"' if t.center else ""
        weight = ' font-weight="bold"' if t.bold else ""
        texts.append(
            f'<text x="{x:g}" y="{t.baseline:g}" font-size="{t.size}"{anchor}{weight}>{escape(t.text)}</text>'
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width_mm:g}mm" height="{height_mm:g}mm" '
        f'viewBox="0 0 {d.width} {d.height}" role="img">'
        f'<rect width="{d.width}" height="{d.height}" fill="#fff"/>'
        f'<path d="{bars}" fill="#000" shape-rendering="crispEdges"/>'
        f'<g font-family="Helvetica, Arial, sans-serif" fill="#000">{"".join(texts)}</g></svg>'
    )
    return svg.encode()


def render_svg(
    label: Label,
    width_mm: float,
    height_mm: float,
    *,
    dpi: int = PREVIEW_DPI,
    symbology: Symbology | None = None,
) -> bytes:
    what = content(label)
    symbol = symbol_for(what.code, symbology, two_d_first=False)
    d = layout(what, symbol, mm_to_dots(width_mm, dpi), mm_to_dots(height_mm, dpi), dpi)
    return drawing_to_svg(d, width_mm, height_mm)
