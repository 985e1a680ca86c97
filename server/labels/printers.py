"""Which label printers a service may send to: named in CLINITRACK_LABEL_PRINTERS, never taken from
a request (a request naming any host:port would let a caller make the server connect anywhere).

Format: ``name=host[:port][@dpi]`` entries separated by ``;``, for example
``Front desk=192.0.2.10:9100@203;Lab=zebra-lab@300``. The port defaults to 9100, dpi to 203.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from labels import parse_address
from labels.zpl import ZEBRA_DPIS

ENV = "CLINITRACK_LABEL_PRINTERS"


@dataclass(frozen=True)
class Printer:
    name: str
    host: str
    port: int
    dpi: int = 203


def parse_printers(text: str) -> dict[str, Printer]:
    """Pure: the printers named in ``text``; a bad entry raises ValueError naming it."""
    printers: dict[str, Printer] = {}
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        name, sep, rest = entry.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"{ENV}: {entry!r} is not name=host:port")
        address, _, dpi_text = rest.strip().partition("@")
        dpi = int(dpi_text) if dpi_text.isdigit() else 203 if not dpi_text else 0
        if dpi not in ZEBRA_DPIS:
            raise ValueError(f"{ENV}: {entry!r}: the dpi must be one of {ZEBRA_DPIS}")
        host, port = parse_address(address)
        printers[name] = Printer(name, host, port, dpi)
    return printers


def configured(environ: Mapping[str, str] | None = None) -> dict[str, Printer]:
    return parse_printers((os.environ if environ is None else environ).get(ENV, ""))
