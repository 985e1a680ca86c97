"""ZPL II for Zebra label printers: one ``^XA … ^XZ`` format per label, laid out in the printer's dots.

Barcodes go as ``^GFA`` graphics drawn from the same module grid as the PDF, not as the printer's
own ``^BC``/``^BX`` commands: the symbol is then exactly the one the tests decode, every module is
a whole number of the printer's dots, and GS1 DataMatrix needs no firmware-specific FNC1 escapes.
Rows that repeat the previous one are sent as ``:`` and zero tails as ``,`` (ZPL's ASCII
compression), so a linear barcode costs one row of hex. Text uses the scalable font 0 in UTF-8
(``^CI28``), escaped with ``^FH``.
"""

from __future__ import annotations

from collections.abc import Sequence

from labels.kinds import Label, content, symbol_for
from labels.layout import Drawing, layout, mm_to_dots
from labels.sheets import ROLL_2X1, Roll
from labels.symbols import Symbology

ZEBRA_DPIS = (203, 300)


def _escape(text: str) -> str:
    # ^FH_ turns _XX into the byte XX; ^ and ~ would otherwise start commands.
    return text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")


def _symbol_rows(d: Drawing) -> list[str]:
    """The symbol box as rows of "1"/"0" dots (quiet zone included)."""
    s, k, box = d.symbol, d.module, d.symbol_box
    quiet = "0" * (s.quiet * k)
    expanded = [quiet + "".join(ch * k for ch in row) + quiet for row in s.rows]
    if s.linear:
        return expanded * box.h
    blank = "0" * (s.width * k)
    rows = [blank] * (s.quiet * k)
    for row in expanded:
        rows += [row] * k
    return rows + [blank] * (s.quiet * k)


def graphic_field(rows: list[str]) -> tuple[int, int, str]:
    """(total bytes, bytes per row, compressed ASCII hex) for ``^GFA``."""
    per_row = (len(rows[0]) + 7) // 8
    out = []
    previous = None
    for row in rows:
        bits = row.ljust(per_row * 8, "0")
        hexrow = "".join(f"{int(bits[i : i + 8], 2):02X}" for i in range(0, len(bits), 8))
        if hexrow == previous:
            out.append(":")
            continue
        previous = hexrow
        trimmed = hexrow.rstrip("0")
        # A row ending in zeros: "," fills the rest of the row with zeros.
        out.append(hexrow if len(trimmed) == len(hexrow) else (trimmed + "," if trimmed else ","))
    return per_row * len(rows), per_row, "".join(out)


def drawing_to_zpl(d: Drawing) -> str:
    total, per_row, data = graphic_field(_symbol_rows(d))
    box = d.symbol_box
    parts = [
        "^XA",
        "^CI28",
        f"^PW{d.width}",
        f"^LL{d.height}",
        "^LH0,0",
        f"^FO{box.x},{box.y}^GFA,{total},{total},{per_row},{data}^FS",
    ]
    for t in d.texts:
        align = "C" if t.center else "L"
        parts.append(f"^FO{t.x},{t.top}^A0N,{t.size}^FB{t.w},1,0,{align}^FH_^FD{_escape(t.text)}^FS")
    parts.append("^XZ")
    return "\n".join(parts) + "\n"


def render_zpl(
    labels: Sequence[Label],
    roll: Roll = ROLL_2X1,
    *,
    dpi: int = 203,
    symbology: Symbology | None = None,
) -> str:
    """ZPL for ``labels`` on ``roll`` at the printer's ``dpi`` (203 or 300)."""
    width, height = mm_to_dots(roll.label_w, dpi), mm_to_dots(roll.label_h, dpi)
    formats = []
    for label in labels:
        what = content(label)
        symbol = symbol_for(what.code, symbology, two_d_first=False)
        formats.append(drawing_to_zpl(layout(what, symbol, width, height, dpi)))
    return "".join(formats)
