"""PDF sheets and roll: every barcode decodes back (PDFium raster + zxing-cpp, 300 and 150 dpi), and
labels sit where the manufacturer's published template puts them (layout and raster, within 0.5 mm).
"""

from __future__ import annotations

from datetime import date

import pypdfium2 as pdfium
import pytest
from PIL import Image

from labels import (
    SHEETS,
    Code,
    DeviceLabel,
    ItemLabel,
    Label,
    LabelError,
    LocationLabel,
    LotLabel,
    PackLabel,
    RoomLabel,
    Symbology,
    gs1_lot,
    render_roll,
    render_sheet,
)
from labels.pdf import GRID_DPI, sheet_layout
from server.core.rules import label_check_char
from tests.labels.decode import MM_PER_INCH, decode_image, decode_pdf, rasterize

IN = MM_PER_INCH
# The published geometry, written out again here (not imported) so that a typo in labels/sheets.py
# fails: page, label size, columns x rows, first label's top-left corner, pitch; all in mm.
PUBLISHED = {
    "avery5160": (
        (8.5 * IN, 11 * IN),
        (2.625 * IN, 1 * IN),
        (3, 10),
        (3 / 16 * IN, 0.5 * IN),
        (2.75 * IN, IN),
    ),
    "avery5163": (
        (8.5 * IN, 11 * IN),
        (4 * IN, 2 * IN),
        (2, 5),
        (5 / 32 * IN, 0.5 * IN),
        (4.1875 * IN, 2 * IN),
    ),
    "averyL7160": ((210.0, 297.0), (63.5, 38.1), (3, 7), (7.21, 15.15), (66.04, 38.1)),
}
TOLERANCE_MM = 0.5
GTIN = "09506000134352"  # GS1's example GTIN


def own(prefix: str, n: int) -> str:
    body = f"{prefix}{n:06d}"
    return body + label_check_char(body)


def published_box(sheet: str, index: int) -> tuple[float, float, float, float]:
    _, (w, h), (cols, _), (x0, y0), (px, py) = PUBLISHED[sheet]
    row, col = divmod(index, cols)
    return x0 + col * px, y0 + row * py, w, h


def mixed_labels() -> tuple[list[Label], list[str]]:
    """One label of every kind, each with a distinct code, and the text each barcode must give back."""
    lots = [("FLU24A", date(2030, 6, 30)), ("HPV-9", date(2029, 1, 31)), ("MMR7", None)]
    out: list[Label] = [LotLabel("Influenza vaccine", lot, exp, gs1_lot(GTIN, lot, exp)) for lot, exp in lots]
    out += [
        LotLabel("Gauze 4x4 (no GTIN)", "G-1007", date(2031, 3, 31), Code.of_text("G-1007")),
        ItemLabel("Influenza vaccine", Code.of_gs1(("01", GTIN))),
        ItemLabel("Tongue depressors", Code.of_text(own("I", 1))),
        LocationLabel("Vaccine Fridge", Code.of_text(own("L", 1)), kind="fridge"),
        LocationLabel("Supply Room cupboard B", Code.of_text(own("L", 2))),
        RoomLabel("Exam Room 1", Code.of_text(own("L", 3))),
        DeviceLabel("Otoscope set", Code.of_text(own("D", 1)), "5 pieces"),
        PackLabel(date(2026, 11, 28), "Statim 5000", "12", "AB", "Suture set", Code.of_text(own("P", 1))),
    ]
    expected = [
        f"(01){GTIN}(17)300630(10)FLU24A",
        f"(01){GTIN}(17)290131(10)HPV-9",
        f"(01){GTIN}(10)MMR7",
        "G-1007",
        f"(01){GTIN}",
        own("I", 1),
        own("L", 1),
        own("L", 2),
        own("L", 3),
        own("D", 1),
        own("P", 1),
    ]
    return out, expected


@pytest.mark.parametrize("dpi", [300, 150])
@pytest.mark.parametrize("sheet", ["avery5160", "avery5163", "averyL7160"])
def test_every_barcode_on_a_sheet_decodes_to_its_exact_value_in_its_own_label(sheet: str, dpi: int) -> None:
    labels, expected = mixed_labels()
    start = 4  # a partly used sheet: 3 labels already gone; on 5163 this spills onto a second page
    pdf = render_sheet(labels, SHEETS[sheet], start=start, cut_lines=True)
    found = decode_pdf(pdf, dpi)
    assert sorted(f.text for f in found) == sorted(expected)
    per_page = PUBLISHED[sheet][2][0] * PUBLISHED[sheet][2][1]
    for f in found:
        index = expected.index(f.text)
        page, slot = divmod(start - 1 + index, per_page)
        x, y, w, h = published_box(sheet, slot)
        assert f.page == page, f.text
        assert x < f.center_mm[0] < x + w and y < f.center_mm[1] < y + h, f"{f.text} is outside its label"
        assert f.gs1 == f.text.startswith("(01)")


@pytest.mark.parametrize("symbology", [Symbology.GS1_128, Symbology.QR, Symbology.DATAMATRIX])
def test_other_symbologies_decode_too(symbology: Symbology) -> None:
    labels, expected = mixed_labels()
    found = decode_pdf(render_sheet(labels, SHEETS["avery5163"], symbology=symbology), 150)
    assert sorted(f.text for f in found) == sorted(expected)
    formats = {f.format for f in found if not f.text.startswith("(01)")}
    assert formats == {
        "Code128"
        if symbology is Symbology.GS1_128
        else symbology.name.replace("DATAMATRIX", "DataMatrix").replace("QR", "QRCode")
    }
    if symbology is Symbology.GS1_128:
        assert {f.raw[:3] for f in found if f.gs1} == {"]C1"}  # FNC1 first: a GS1-128, not a plain Code 128


@pytest.mark.parametrize("dpi", [300, 150])
def test_the_thermal_roll_is_one_2x1_inch_page_per_label_and_each_decodes(dpi: int) -> None:
    labels, expected = mixed_labels()
    pdf = render_roll(labels)
    doc = pdfium.PdfDocument(pdf)
    sizes = {tuple(round(v / 72 * IN, 1) for v in doc[i].get_size()) for i in range(len(doc))}
    doc.close()
    assert sizes == {(50.8, 25.4)}
    found = decode_pdf(pdf, dpi)
    assert [f.text for f in sorted(found, key=lambda f: f.page)] == expected


@pytest.mark.parametrize("sheet", ["avery5160", "avery5163", "averyL7160"])
def test_layout_follows_the_published_geometry_at_every_position(sheet: str) -> None:
    spec = SHEETS[sheet]
    (page_w, page_h), _, (cols, rows), _, _ = PUBLISHED[sheet]
    assert abs(spec.page_w - page_w) < TOLERANCE_MM and abs(spec.page_h - page_h) < TOLERANCE_MM
    count = cols * rows
    placed = sheet_layout([LocationLabel(f"P{i}", Code.of_text(own("L", i))) for i in range(count)], spec)
    dot = MM_PER_INCH / GRID_DPI
    for i, p in enumerate(placed):
        x, y, w, h = published_box(sheet, i)
        for got, want in zip(p.box_mm, (x, y, w, h), strict=True):
            assert abs(got - want) <= TOLERANCE_MM, (i, p.box_mm)
        # The drawing starts within one grid step inside the die-cut corner and stays inside the label.
        assert 0 <= p.x * dot - x < dot and 0 <= p.y * dot - y < dot
        d = p.drawing
        for r in d.bars:
            assert x <= (p.x + r.x) * dot and (p.x + r.x + r.w) * dot <= x + w
            assert y <= (p.y + r.y) * dot and (p.y + r.y + r.h) * dot <= y + h


def _dark_columns(image: Image.Image, x0: int, x1: int, y0: int, y1: int) -> list[int]:
    px = image.load()
    assert px is not None
    return [x for x in range(x0, x1) if sum(1 for y in range(y0, y1) if px[x, y] < 235) > (y1 - y0) // 4]


def _dark_rows(image: Image.Image, x0: int, x1: int, y0: int, y1: int) -> list[int]:
    px = image.load()
    assert px is not None
    return [y for y in range(y0, y1) if sum(1 for x in range(x0, x1) if px[x, y] < 235) > (x1 - x0) // 4]


@pytest.mark.parametrize("sheet", ["avery5160", "avery5163", "averyL7160"])
def test_cut_lines_on_the_raster_sit_on_the_published_edges(sheet: str) -> None:
    """Measured on the 150 dpi raster: each label's dashed outline is within 0.5 mm of the template."""
    dpi = 150
    _, _, (cols, rows), _, _ = PUBLISHED[sheet]
    count = cols * rows
    pdf = render_sheet(
        [LocationLabel(f"P{i}", Code.of_text(own("L", i))) for i in range(count)],
        SHEETS[sheet],
        cut_lines=True,
    )
    (image,) = rasterize(pdf, dpi, [0])
    to_px = dpi / MM_PER_INCH
    for i in range(count):
        x, y, w, h = published_box(sheet, i)
        band = round(1.0 * to_px)  # look 1 mm either side of where the edge should be
        mid = (round((y + h * 0.3) * to_px), round((y + h * 0.7) * to_px))
        for edge in (x, x + w):
            cols_found = _dark_columns(
                image, round(edge * to_px) - band, round(edge * to_px) + band + 1, *mid
            )
            assert cols_found, f"no cut line near x={edge:.2f} mm (label {i + 1})"
            measured = sum(cols_found) / len(cols_found) / to_px
            assert abs(measured - edge) <= TOLERANCE_MM, (i, edge, measured)
        span = (round((x + w * 0.3) * to_px), round((x + w * 0.7) * to_px))
        for edge in (y, y + h):
            rows_found = _dark_rows(image, *span, round(edge * to_px) - band, round(edge * to_px) + band + 1)
            assert rows_found, f"no cut line near y={edge:.2f} mm (label {i + 1})"
            measured = sum(rows_found) / len(rows_found) / to_px
            assert abs(measured - edge) <= TOLERANCE_MM, (i, edge, measured)


def test_start_position_leaves_the_used_labels_blank_and_copies_each_decode() -> None:
    """Copies repeat a code, so each label is decoded from its own crop of the raster."""
    dpi = 150
    code = own("L", 9)
    pdf = render_sheet([LocationLabel("Fridge", Code.of_text(code))] * 3, SHEETS["avery5160"], start=5)
    (image,) = rasterize(pdf, dpi, [0])
    to_px = dpi / MM_PER_INCH
    for slot in range(8):
        x, y, w, h = published_box("avery5160", slot)
        crop = image.crop(
            (round(x * to_px), round(y * to_px), round((x + w) * to_px), round((y + h) * to_px))
        )
        texts = [f.text for f in decode_image(crop, 0, dpi)]
        if 4 <= slot < 7:
            assert texts == [code], slot
        else:
            assert texts == [] and crop.getextrema() == (255, 255), f"position {slot + 1} should be unused"


def test_a_start_position_off_the_sheet_is_refused() -> None:
    with pytest.raises(LabelError) as err:
        render_sheet([LocationLabel("Fridge", Code.of_text(own("L", 1)))], SHEETS["avery5163"], start=11)
    assert err.value.code == "bad_start"


def test_same_labels_give_the_same_bytes() -> None:
    labels, _ = mixed_labels()
    assert render_sheet(labels, SHEETS["avery5160"]) == render_sheet(labels, SHEETS["avery5160"])
