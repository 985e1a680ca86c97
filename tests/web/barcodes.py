"""Barcode images for browser tests, and the fake-camera video Chromium plays from a file.

Chromium's ``--use-file-for-fake-video-capture`` plays a YUV4MPEG2 (.y4m) file in a loop. One frame is
enough. It is written here in pure Python from a Pillow image, so no ffmpeg is needed
(see shared/stack-notes.md §4-5).

- Code 128 comes from python-barcode, with whole-pixel modules (0.2 mm at 254 dpi = 2 px); resizing a
  barcode by a fractional factor can make it unreadable.
- GS1 DataMatrix comes from zxing-cpp's writer with ``gs1=True`` (FNC1, read back as ``]d2``) and
  ``forceSquare=True`` (no rectangular DMRE). It has no quiet zone of its own, so one is added here.
"""

from __future__ import annotations

import io
from pathlib import Path

import barcode
import zxingcpp
from barcode.writer import ImageWriter
from PIL import Image

WIDTH, HEIGHT = 640, 480
Y4M_HEADER = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F30:1 Ip A1:1 C420jpeg\n".encode("ascii")


def code128_image(value: str) -> Image.Image:
    """A Code 128 symbol with 2 px modules, a 3 mm quiet zone and no human-readable text."""
    out = io.BytesIO()
    symbol = barcode.get("code128", value, writer=ImageWriter())
    symbol.write(
        out,
        options={
            "module_width": 0.2,
            "module_height": 10.0,
            "dpi": 254,
            "quiet_zone": 3.0,
            "write_text": False,
        },
    )
    out.seek(0)
    with Image.open(out) as img:
        return img.convert("L")


def gs1_datamatrix_image(hri: str, *, scale: int = 8, quiet_modules: int = 2) -> Image.Image:
    """A square GS1 DataMatrix for a human-readable GS1 string such as ``(01)…(17)…(10)…``."""
    symbol = zxingcpp.create_barcode(hri, zxingcpp.BarcodeFormat.DataMatrix, gs1=True, forceSquare=True)
    raw = symbol.to_image(scale=scale)
    height, width = raw.shape[0], raw.shape[1]
    img = Image.frombytes("L", (width, height), bytes(memoryview(raw)))  # type: ignore[arg-type]
    pad = quiet_modules * scale
    framed = Image.new("L", (width + 2 * pad, height + 2 * pad), 255)
    framed.paste(img, (pad, pad))
    return framed


def decode(img: Image.Image) -> list[tuple[str, str]]:
    """What zxing-cpp reads in an image: (symbology identifier, plain text) pairs. A self-check."""
    return [
        (r.symbology_identifier, r.text)
        for r in zxingcpp.read_barcodes(img, text_mode=zxingcpp.TextMode.Plain)
    ]


def frame(img: Image.Image) -> Image.Image:
    """The barcode centred on a white 640x480 camera frame, at its own size (never resized)."""
    if img.width > WIDTH or img.height > HEIGHT:
        raise ValueError(f"barcode image {img.size} does not fit a {WIDTH}x{HEIGHT} frame")
    canvas = Image.new("RGB", (WIDTH, HEIGHT), "white")
    canvas.paste(img.convert("RGB"), ((WIDTH - img.width) // 2, (HEIGHT - img.height) // 2))
    return canvas


def write_y4m(img: Image.Image, path: Path) -> Path:
    """Write ``img`` (any size that fits) as a one-frame 640x480 4:2:0 Y4M video; returns the path."""
    canvas = frame(img) if img.size != (WIDTH, HEIGHT) else img.convert("RGB")
    y, cb, cr = canvas.convert("YCbCr").split()
    half = (WIDTH // 2, HEIGHT // 2)
    data = b"".join(
        [
            Y4M_HEADER,
            b"FRAME\n",
            y.tobytes(),
            cb.resize(half, Image.Resampling.BILINEAR).tobytes(),
            cr.resize(half, Image.Resampling.BILINEAR).tobytes(),
        ]
    )
    path.write_bytes(data)
    return path.resolve()


def blank_y4m(path: Path) -> Path:
    """A plain white video: a camera that sees no barcode."""
    return write_y4m(Image.new("RGB", (WIDTH, HEIGHT), "white"), path)
