"""Sending to a network label printer's raw port (9100, "JetDirect"): bytes in, nothing back."""

from __future__ import annotations

import asyncio
import contextlib
import re

from labels.errors import LabelError

RAW_PORT = 9100
_ADDRESS = re.compile(r"^(?P<host>[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:]+\])(?::(?P<port>\d{1,5}))?$")


class PrinterError(LabelError):
    """The printer could not be reached or did not take the data."""


def parse_address(text: str) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` → (host, port); the port defaults to 9100."""
    match = _ADDRESS.match(text.strip())
    port = int(match["port"]) if match and match["port"] else RAW_PORT
    if match is None or not 1 <= port <= 65535:
        raise LabelError(f"{text!r} is not a printer address such as 192.0.2.10:9100.", code="bad_printer")
    return match["host"].strip("[]"), port


async def send_raw(host: str, port: int, data: bytes, *, seconds: float = 5.0) -> None:
    """Open a TCP connection, send ``data`` and close; a clear error within ``seconds``."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), seconds)
    except TimeoutError as exc:
        raise PrinterError(
            f"The printer at {host}:{port} did not answer within {seconds:g} s. Is it on and on the network?",
            code="printer_unreachable",
        ) from exc
    except OSError as exc:
        raise PrinterError(
            f"The printer at {host}:{port} cannot be reached ({exc.strerror or exc}).",
            code="printer_unreachable",
        ) from exc
    try:
        writer.write(data)
        await asyncio.wait_for(writer.drain(), seconds)
    except (OSError, TimeoutError) as exc:
        raise PrinterError(
            f"The printer at {host}:{port} stopped taking data.", code="printer_unreachable"
        ) from exc
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), seconds)
