"""Test helpers: rasterize PDF pages with PDFium and decode every barcode with zxing-cpp."""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image

MM_PER_INCH = 25.4


@dataclass(frozen=True)
class Found:
    page: int
    format: str
    text: str  # the human-readable text (GS1 as "(01)...(17)...")
    raw: str  # what a scanner sends: symbology identifier + plain text, GS as \x1d
    gs1: bool
    center_mm: tuple[float, float]  # from the page's top-left


def rasterize(pdf: bytes, dpi: int, pages: list[int] | None = None) -> list[Image.Image]:
    doc = pdfium.PdfDocument(pdf)
    try:
        wanted = range(len(doc)) if pages is None else pages
        return [doc[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in wanted]
    finally:
        doc.close()


def decode_image(image: Image.Image, page: int, dpi: int) -> list[Found]:
    found = []
    for r in zxingcpp.read_barcodes(image, text_mode=zxingcpp.TextMode.HRI):
        plain = r.bytes.decode("latin-1")
        p = r.position
        cx = (p.top_left.x + p.top_right.x + p.bottom_left.x + p.bottom_right.x) / 4
        cy = (p.top_left.y + p.top_right.y + p.bottom_left.y + p.bottom_right.y) / 4
        found.append(
            Found(
                page,
                r.format.name,
                r.text,
                r.symbology_identifier + plain,
                r.content_type == zxingcpp.ContentType.GS1,
                (cx / dpi * MM_PER_INCH, cy / dpi * MM_PER_INCH),
            )
        )
    return found


def decode_pdf(pdf: bytes, dpi: int, pages: list[int] | None = None) -> list[Found]:
    found = []
    for i, image in enumerate(rasterize(pdf, dpi, pages)):
        found += decode_image(image, i if pages is None else pages[i], dpi)
    return found
