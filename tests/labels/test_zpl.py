"""ZPL: byte-for-byte golden files, the ^GFA symbols decode back, and sending to a stand-in for a
printer's raw port 9100 (a local TCP listener).

Regenerate the golden files after an intended change with
``CLINITRACK_UPDATE_GOLDEN=1 .venv/bin/pytest tests/labels/test_zpl.py`` and review the diff.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
from datetime import date
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from labels import (
    Code,
    LabelError,
    LocationLabel,
    LotLabel,
    PackLabel,
    PrinterError,
    RoomLabel,
    gs1_lot,
    parse_address,
    render_zpl,
    send_raw,
)
from labels.zpl import graphic_field
from server.core.rules import label_check_char

GOLDEN = Path(__file__).parent / "golden"
GTIN = "09506000134352"


def own(prefix: str, n: int) -> str:
    body = f"{prefix}{n:06d}"
    return body + label_check_char(body)


LABELS = [
    LotLabel("Influenza vaccine", "FLU24A", date(2030, 6, 30), gs1_lot(GTIN, "FLU24A", date(2030, 6, 30))),
    LocationLabel("Vaccine Fridge", Code.of_text(own("L", 1)), kind="fridge"),
    RoomLabel("Salle d'examen 2", Code.of_text(own("L", 2))),
    PackLabel(date(2026, 11, 28), "Statim 5000", "12", "AB", "Suture set ^ ~ _", Code.of_text(own("P", 1))),
]
EXPECTED = [f"(01){GTIN}(17)300630(10)FLU24A", own("L", 1), own("L", 2), own("P", 1)]


@pytest.mark.parametrize("dpi", [203, 300])
def test_zpl_matches_the_golden_file(dpi: int) -> None:
    zpl = render_zpl(LABELS, dpi=dpi)
    path = GOLDEN / f"labels-{dpi}dpi.zpl"
    if os.environ.get("CLINITRACK_UPDATE_GOLDEN"):
        path.write_text(zpl, encoding="utf-8")
    assert zpl == path.read_text(encoding="utf-8")


def _inflate(data: str, per_row: int, total: int) -> list[bytes]:
    """ZPL ASCII-hex graphic data back to rows (":" repeats the row above, "," zero-fills the row)."""
    rows: list[bytes] = []
    tokens = re.findall(r"[0-9A-F]+,?|,|:", data)
    for token in tokens:
        if token == ":":
            rows.append(rows[-1])
            continue
        hexpart = token.rstrip(",")
        if token.endswith(","):
            hexpart = hexpart.ljust(per_row * 2, "0")
        assert len(hexpart) == per_row * 2, token
        rows.append(bytes.fromhex(hexpart))
    assert len(rows) * per_row == total
    return rows


def _symbols(zpl: str) -> list[Image.Image]:
    """Each format's ^GFA graphic painted on a white label, as the printer would."""
    images = []
    for fmt in zpl.split("^XZ")[:-1]:
        width = int(re.search(r"\^PW(\d+)", fmt)[1])  # type: ignore[index]
        height = int(re.search(r"\^LL(\d+)", fmt)[1])  # type: ignore[index]
        m = re.search(r"\^FO(\d+),(\d+)\^GFA,(\d+),(\d+),(\d+),([0-9A-F:,]+)\^FS", fmt)
        assert m is not None
        x, y, total, _, per_row, data = int(m[1]), int(m[2]), int(m[3]), m[4], int(m[5]), m[6]
        image = Image.new("L", (width + 40, height + 40), 255)  # a margin stands in for the backing paper
        px = image.load()
        assert px is not None
        for r, row in enumerate(_inflate(data, per_row, total)):
            for c in range(per_row * 8):
                if row[c // 8] & (0x80 >> (c % 8)):
                    px[20 + x + c, 20 + y + r] = 0
        images.append(image)
    return images


@pytest.mark.parametrize("dpi", [203, 300])
def test_each_zpl_symbol_decodes_to_its_value(dpi: int) -> None:
    zpl = render_zpl(LABELS, dpi=dpi)
    assert zpl.count("^XA") == len(LABELS)
    assert f"^PW{round(50.8 * dpi / 25.4)}" in zpl and "^CI28" in zpl
    for image, want in zip(_symbols(zpl), EXPECTED, strict=True):
        found = zxingcpp.read_barcodes(image)
        assert [r.text for r in found] == [want]


def test_text_is_escaped_for_field_hex() -> None:
    zpl = render_zpl(LABELS[3:], dpi=203)
    assert "^FH_^FDSuture set _5E _7E _5F^FS" in zpl


def test_graphic_field_compresses_repeated_rows_and_zero_tails() -> None:
    total, per_row, data = graphic_field(["1100000000000000", "1100000000000000", "0000000000000000"])
    assert (total, per_row, data) == (6, 2, "C,:,")


async def _listener() -> tuple[asyncio.Server, int, asyncio.Future[bytes]]:
    received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.set_result(await reader.read())  # until the sender closes, as a printer reads a job
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, port, received


async def test_zpl_is_received_whole_by_a_raw_port_listener() -> None:
    server, port, received = await _listener()
    data = render_zpl(LABELS, dpi=203).encode()
    async with server:
        await send_raw("127.0.0.1", port, data, seconds=5)
        assert await asyncio.wait_for(received, 5) == data


async def test_an_unreachable_printer_is_a_clear_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(PrinterError) as err:
        await send_raw("127.0.0.1", port, b"^XA^XZ", seconds=2)
    assert err.value.code == "printer_unreachable"
    assert f"127.0.0.1:{port} cannot be reached" in err.value.message


def test_printer_addresses() -> None:
    assert parse_address("192.0.2.10") == ("192.0.2.10", 9100)
    assert parse_address(" zebra-lab:6101 ") == ("zebra-lab", 6101)
    assert parse_address("[::1]:9100") == ("::1", 9100)
    for bad in ("", "host:99999", "a b:9100", "http://x"):
        with pytest.raises(LabelError):
            parse_address(bad)
