"""The thin layer in front of the parsers: what scanners, keyboard wedges and cameras add to or change in
the data. Pure string work."""

from __future__ import annotations

import re
from dataclasses import dataclass

from server.scans.gs1_syntax import ParseError, iso_symbology

# Longer than any real barcode (a GS1 DataMatrix carries at most 2335 characters, but a pack label with
# GTIN, expiry, lot and serial is under 100); the cap keeps the work per request bounded.
MAX_SCAN_LENGTH = 512

GS = "\x1d"

# Only surrounding characters: a GS inside the data is a field separator and must survive. NUL, BOM and
# no-break space come from serial drivers, clipboards and some phone keyboards.
_EDGE_CHARS = " \t\r\n\x0b\x0c\x00\u00a0\ufeff"

# ISO/IEC 15424 AIM symbology identifier: "]", a symbology letter, a modifier digit.
_AIM_RE = re.compile(r"\][A-Za-z][0-9]")

SYMBOLOGY_NAMES = {
    "]d2": "GS1 DataMatrix",
    "]d1": "DataMatrix",
    "]C1": "GS1-128",
    "]C0": "Code 128",
    "]Q3": "GS1 QR Code",
    "]Q1": "QR Code",
    "]e0": "GS1 DataBar",
    "]e1": "GS1 Composite",
    "]e2": "GS1 Composite",
    "]E0": "EAN-13 / UPC",
    "]E3": "EAN-13 / UPC with add-on",
    "]E4": "EAN-8",
    "]I1": "ITF-14",
    "]J1": "GS1 DotCode",
    "]A0": "Code 39",
    "]L2": "PDF417",
}
# Symbologies whose data is a GS1 element string by definition (FNC1 in first position).
GS1_AIMS = frozenset({"]C1", "]d2", "]Q3", "]e0", "]e1", "]e2", "]J1"})
# EAN/UPC and ITF-14 carry a bare GTIN.
GTIN_AIMS = frozenset({"]E0", "]E3", "]E4", "]I1"})

# What stands for GS when it cannot travel as a control character: RS (some libraries), Tab (keyboard
# wedges set to send Tab for GS), the Unicode control pictures, and escape texts from scanner set-ups and
# zxing's Escaped mode. The texts cannot be real data: GS1 lots never hold "{", "[" or a literal "<GS>".
_GS_STAND_INS = re.compile(r"[\x1e\t\u241d\u241e]|<GS>|\{GS\}|\[GS\]|<FNC1>|\{FNC1\}", re.IGNORECASE)

# ISO/IEC 15434 envelope, format 05 = GS1 element strings: "[)>" RS "05" GS ... RS EOT.
_ENVELOPE_RE = re.compile(r"^\[\)>\x1e05\x1d(.*?)\x1e?\x04?$", re.DOTALL)


@dataclass(frozen=True)
class CleanScan:
    text: str
    aim: str | None
    symbology: str | None


def clean(raw: str) -> CleanScan:
    """Drop surrounding whitespace and the AIM symbology identifier, remembering the symbology."""
    text = raw.strip(_EDGE_CHARS)
    match = _AIM_RE.match(text)
    if match is None:
        return CleanScan(text=text, aim=None, symbology=None)
    aim = match.group()
    return CleanScan(text=text[len(aim) :].strip(_EDGE_CHARS), aim=aim, symbology=symbology_name(aim))


def symbology_name(aim: str) -> str:
    if aim in SYMBOLOGY_NAMES:
        return SYMBOLOGY_NAMES[aim]
    try:
        iso = iso_symbology(aim)
    except ParseError:
        return aim
    return f"{iso.replace('_', ' ').title()} ({aim})"


@dataclass(frozen=True)
class Gs1Data:
    data: str  # GS-separated element strings, without a leading FNC1
    leading_fnc1: bool
    enveloped: bool

    @property
    def has_separator(self) -> bool:
        return GS in self.data


def gs1_data(text: str) -> Gs1Data:
    """The text as GS1 element strings: stand-ins for GS replaced, a leading FNC1 and trailing GSs dropped."""
    envelope = _ENVELOPE_RE.match(text)
    if envelope:
        text = envelope.group(1)
    data = _GS_STAND_INS.sub(GS, text)
    stripped = data.lstrip(GS)
    return Gs1Data(data=stripped.rstrip(GS), leading_fnc1=len(stripped) < len(data), enveloped=bool(envelope))


def is_ascii_digits(text: str) -> bool:
    """``str.isdigit`` also accepts "²" and Arabic-Indic digits, which no barcode field holds."""
    return text.isascii() and text.isdigit()
