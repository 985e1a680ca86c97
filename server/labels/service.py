"""Labels use cases: read what to print from the database, hand plain values to ``labels``.

What a label's barcode holds (each resolves through the scan endpoint):
- a place or room: its own label code (``L`` + 6 + check character), found as a location;
- an item: its GTIN as GS1 (01) when it has one, else its linked barcode, else nothing until it is
  given an own code (``I`` + 6 + check) stored as a linked barcode, so scans find it like any other;
- a lot: GS1 (01) GTIN (17) expiry (10) lot when the item has a GTIN, else the lot number in
  Code 128, which the scan endpoint finds as a lot number.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import labels
from labels import Code, Label, LabelError, LocationLabel, LotLabel, RoomLabel
from labels.kinds import ItemLabel, gs1_lot
from labels.sheets import SheetName
from labels.symbols import Symbology, gs1_hri
from server.core.auth import Principal
from server.core.rules import new_label_code
from server.core.tables import Location
from server.errors import DomainError, InvalidInput, NotFound, RuleViolation
from server.labels.printers import configured
from server.labels.schemas import (
    MAX_LABELS,
    FormatRead,
    ItemCodeRead,
    LabelOptions,
    LabelRequest,
    LabelSource,
    PrinterRead,
    PrintRequest,
    PrintResult,
)
from server.scans.gs1_syntax import ParseError, gtin_14
from server.stock import catalog
from server.stock.schemas import CodeIn
from server.stock.tables import Item, ItemCode, Lot

ROOM_KINDS = frozenset({"room"})
FRIDGE_KINDS = frozenset({"fridge", "freezer"})


class PrinterUnavailable(DomainError):
    status = 502
    code = "printer_unreachable"
    title = "The printer cannot be reached"


def _label_error(exc: LabelError) -> DomainError:
    if exc.code == "bad_start":
        return InvalidInput(exc.message, code=exc.code, fields=[{"field": "start", "message": exc.message}])
    return RuleViolation(exc.message, code=exc.code)


def _gtin14(code: str) -> str | None:
    try:
        return gtin_14(code)
    except ParseError:
        return None


async def _codes(item_ids: list[int]) -> dict[int, Code | None]:
    """Each item's best code: a valid GTIN first, else its first linked barcode."""
    found: dict[int, Code | None] = dict.fromkeys(item_ids)
    if not item_ids:
        return found
    rows = (
        await ItemCode.select(ItemCode.item, ItemCode.code, ItemCode.kind)
        .where(ItemCode.item.is_in(item_ids))
        .order_by(ItemCode.id)
    )
    for r in rows:
        item, current = int(r["item"]), found[int(r["item"])]
        gtin = _gtin14(r["code"]) if r["kind"] == "gtin" else None
        if gtin and (current is None or current.gs1 is None):
            found[item] = Code.of_gs1(("01", gtin))
        elif current is None and r["kind"] != "gtin":
            found[item] = Code.of_text(r["code"])
    return found


def _missing(ids: Sequence[int], rows: list[dict[str, Any]], what: str) -> None:
    missing = sorted(set(ids) - {int(r["id"]) for r in rows})
    if missing:
        raise NotFound(f"No {what} with id {', '.join(map(str, missing))} at this site.", code="not_found")


async def _items(site_id: int, ids: list[int]) -> list[tuple[dict[str, Any], Code | None]]:
    query = Item.select(Item.id, Item.name, Item.unit).where(Item.site == site_id)
    query = query.where(Item.id.is_in(ids)) if ids else query.where(Item.active == True)  # noqa: E712
    rows = await query.order_by(Item.name)
    _missing(ids, rows, "item")
    codes = await _codes([int(r["id"]) for r in rows])
    return [(r, codes[int(r["id"])]) for r in rows]


async def _lots(site_id: int, ids: list[int]) -> list[tuple[dict[str, Any], Code]]:
    rows = (
        await Lot.select(Lot.id, Lot.lot_number, Lot.expiry, Lot.item, Lot.item.name)
        .where((Lot.site == site_id) & Lot.id.is_in(ids))
        .order_by(Lot.id)
    )
    _missing(ids, rows, "lot")
    codes = await _codes(sorted({int(r["item"]) for r in rows}))
    out: list[tuple[dict[str, Any], Code]] = []
    for r in rows:
        code = codes[int(r["item"])]
        if code is not None and code.gs1 is not None:
            out.append((r, gs1_lot(code.gs1[0][1], r["lot_number"], r["expiry"])))
        else:
            out.append((r, Code.of_text(r["lot_number"])))
    return out


async def _places(site_id: int, ids: list[int], *, rooms_only: bool) -> list[dict[str, Any]]:
    query = Location.select(Location.id, Location.name, Location.kind, Location.label_code).where(
        Location.site == site_id
    )
    query = query.where(Location.id.is_in(ids)) if ids else query.where(Location.active == True)  # noqa: E712
    rows = await query.order_by(Location.name)
    _missing(ids, rows, "place")
    if rooms_only:
        if ids and any(r["kind"] not in ROOM_KINDS for r in rows):
            raise InvalidInput("Only rooms get door labels; pick places instead.", code="not_a_room")
        rows = [r for r in rows if r["kind"] in ROOM_KINDS]
    return rows


def _place_label(row: dict[str, Any]) -> Label:
    code = Code.of_text(row["label_code"])
    if row["kind"] in ROOM_KINDS:
        return RoomLabel(row["name"], code)
    return LocationLabel(row["name"], code, kind="fridge" if row["kind"] in FRIDGE_KINDS else "location")


def _no_code(name: str) -> RuleViolation:
    return RuleViolation(
        f"{name} has no barcode yet: give it a label code first (or link its GTIN).", code="item_has_no_code"
    )


async def build(site_id: int, what: str, ids: list[int]) -> list[Label]:
    """The labels for a selection, in a stable order, one per thing."""
    if what == "items":
        out: list[Label] = []
        for row, code in await _items(site_id, ids):
            if code is None:
                raise _no_code(row["name"])
            out.append(ItemLabel(row["name"], code))
        return out
    if what == "lots":
        if not ids:
            raise InvalidInput("Pick the lots to label.", code="ids_needed")
        return [
            LotLabel(r["item.name"], r["lot_number"], r["expiry"], code)
            for r, code in await _lots(site_id, ids)
        ]
    rows = await _places(site_id, ids, rooms_only=what == "rooms")
    return [_place_label(r) for r in rows]


def _code_text(code: Code | None) -> str | None:
    if code is None:
        return None
    return gs1_hri(code.gs1) if code.gs1 is not None else code.text


async def sources(site_id: int, what: str) -> list[LabelSource]:
    """What can be printed, for the picker: newest lots first (the lot just received is on top)."""
    if what == "items":
        return [
            LabelSource(
                id=r["id"],
                name=r["name"],
                code=_code_text(code),
                problem=None if code else "item_has_no_code",
            )
            for r, code in await _items(site_id, [])
        ]
    if what == "lots":
        rows = (
            await Lot.select(Lot.id).where(Lot.site == site_id).order_by(Lot.id, ascending=False).limit(200)
        )
        lots = await _lots(site_id, [int(r["id"]) for r in rows])
        return [
            LabelSource(
                id=r["id"],
                name=r["item.name"],
                detail=f"{r['lot_number']} · {r['expiry'].isoformat() if r['expiry'] else '—'}",
                code=_code_text(code),
            )
            for r, code in sorted(lots, key=lambda pair: -int(pair[0]["id"]))
        ]
    return [
        LabelSource(id=r["id"], name=r["name"], detail=r["kind"], code=r["label_code"])
        for r in await _places(site_id, [], rooms_only=what == "rooms")
    ]


def options() -> LabelOptions:
    formats = [
        FormatRead(
            name=s.name, title=s.title, per_page=s.per_page, label_w_mm=s.label_w, label_h_mm=s.label_h
        )
        for s in labels.SHEETS.values()
    ]
    roll = labels.ROLL_2X1
    formats.append(
        FormatRead(
            name=roll.name, title=roll.title, per_page=1, label_w_mm=roll.label_w, label_h_mm=roll.label_h
        )
    )
    printers = [PrinterRead(name=p.name, dpi=p.dpi) for p in configured().values()]
    return LabelOptions(formats=formats, printers=printers)


def _symbology(req: LabelRequest) -> Symbology | None:
    return None if req.symbology == "auto" else Symbology(req.symbology)


async def _selection(site_id: int, req: LabelRequest) -> list[Label]:
    built = await build(site_id, req.what, list(dict.fromkeys(req.ids)))
    if not built:
        raise InvalidInput("There is nothing to print in this selection.", code="nothing_to_print")
    if len(built) * req.copies > MAX_LABELS:
        raise InvalidInput(f"Print at most {MAX_LABELS} labels at once.", code="too_many_labels")
    return [label for label in built for _ in range(req.copies)]


def _pdf(chosen: list[Label], req: LabelRequest) -> bytes:
    if req.format == labels.ROLL_2X1.name:
        return labels.render_roll(chosen, symbology=_symbology(req))
    sheet = labels.SHEETS[SheetName(req.format)]
    return labels.render_sheet(
        chosen, sheet, start=req.start, cut_lines=req.cut_lines, symbology=_symbology(req)
    )


async def pdf(site_id: int, req: LabelRequest) -> bytes:
    chosen = await _selection(site_id, req)
    try:
        # Rendering is CPU work (about a second for 1,000 labels): keep it off the event loop.
        return await asyncio.to_thread(_pdf, chosen, req)
    except LabelError as exc:
        raise _label_error(exc) from exc


def _size(fmt: str) -> tuple[float, float]:
    if fmt == labels.ROLL_2X1.name:
        return labels.ROLL_2X1.label_w, labels.ROLL_2X1.label_h
    sheet = labels.SHEETS[SheetName(fmt)]
    return sheet.label_w, sheet.label_h


async def preview(site_id: int, req: LabelRequest, index: int) -> bytes:
    built = await build(site_id, req.what, list(dict.fromkeys(req.ids)))
    if not built:
        raise InvalidInput("There is nothing to print in this selection.", code="nothing_to_print")
    label = built[min(index, len(built) - 1)]
    try:
        return labels.render_svg(label, *_size(req.format), symbology=_symbology(req))
    except LabelError as exc:
        raise _label_error(exc) from exc


async def zpl(site_id: int, req: LabelRequest, dpi: int = 203) -> str:
    chosen = await _selection(site_id, req)
    try:
        return await asyncio.to_thread(labels.render_zpl, chosen, dpi=dpi, symbology=_symbology(req))
    except LabelError as exc:
        raise _label_error(exc) from exc


async def send(site_id: int, req: PrintRequest) -> PrintResult:
    printer = configured().get(req.printer)
    if printer is None:
        raise NotFound(f"No printer named {req.printer!r} is set up.", code="printer_not_found")
    data = (await zpl(site_id, req, printer.dpi)).encode()
    try:
        await labels.send_raw(printer.host, printer.port, data, seconds=5.0)
    except labels.PrinterError as exc:
        raise PrinterUnavailable(exc.message) from exc
    return PrintResult(printer=printer.name, labels=data.count(b"^XA"), bytes=len(data))


def new_item_code() -> str:
    """An own code for an item with no barcode: the places' format (server.core.rules), letter I."""
    return new_label_code("item")


async def give_item_code(principal: Principal, site_id: int, item_id: int, *, now: datetime) -> ItemCodeRead:
    """An item with no barcode gets an own code, linked like any barcode (audited by the catalog)."""
    item = await catalog.get_item(site_id, item_id)
    if item.codes:
        raise RuleViolation(f"{item.name} already has a barcode.", code="item_has_code")
    code = new_item_code()
    await catalog.link_code(principal, site_id, item_id, CodeIn(code=code, kind="barcode"), now=now)
    return ItemCodeRead(item_id=item_id, code=code)
