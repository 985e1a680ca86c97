"""Label rendering: values in, SVG/PDF/ZPL bytes out. No database, no HTTP.

- ``kinds``: the label kinds (item, lot, location/fridge, room door, device/set, sterilized pack).
- ``symbols``: Code 128 and GS1-128 (python-barcode), QR (segno), GS1 DataMatrix (zxing-cpp).
- ``layout``: one label on the printer's dot grid; ``sheets``: Avery sheets and the 2 x 1 in roll.
- ``pdf``, ``svg``, ``zpl``: the outputs; ``printer``: raw port-9100 sending.

The own label-code format it prints is defined in ``server.core.rules`` (one kind letter, six
base-36 characters, one ISO 7064 MOD 37,36 check character).
"""

from labels.errors import LabelError
from labels.kinds import (
    Code,
    DeviceLabel,
    ItemLabel,
    Label,
    LocationLabel,
    LotLabel,
    PackLabel,
    RoomLabel,
    gs1_lot,
)
from labels.pdf import render_roll, render_sheet
from labels.printer import PrinterError, parse_address, send_raw
from labels.sheets import ROLL_2X1, SHEETS, Roll, Sheet, SheetName
from labels.svg import render_svg
from labels.symbols import Symbology
from labels.zpl import render_zpl

__all__ = [
    "ROLL_2X1",
    "SHEETS",
    "Code",
    "DeviceLabel",
    "ItemLabel",
    "Label",
    "LabelError",
    "LocationLabel",
    "LotLabel",
    "PackLabel",
    "PrinterError",
    "Roll",
    "RoomLabel",
    "Sheet",
    "SheetName",
    "Symbology",
    "gs1_lot",
    "parse_address",
    "render_roll",
    "render_sheet",
    "render_svg",
    "render_zpl",
    "send_raw",
]
