"""The labels API on a real database: printed codes round-trip through the scan endpoint to the right
entity; only managers and admins print; bad input is a problem answer and changes nothing."""

from __future__ import annotations

import asyncio
import socket
from datetime import date
from typing import Any

import pytest

from server.core.rules import LocationKind, Role
from server.core.tables import AuditEvent, ClientWrite, Location
from server.stock.rules import ItemKind
from server.stock.tables import ItemCode, Lot
from tests.factories import Client, Session, login, make_location, make_site, make_user
from tests.labels.decode import decode_pdf
from tests.stock.factories import make_item, receive

GTIN = "09506000134352"


async def clinic(client: Client) -> tuple[dict[str, int], Session]:
    site = await make_site()
    ids = {
        "site": site,
        "fridge": await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE),
        "room": await make_location(site, "Exam Room 1", LocationKind.ROOM),
        "cupboard": await make_location(site, "Supply cupboard", LocationKind.CABINET),
        "flu": await make_item(site, "Influenza vaccine", gtin=GTIN),
        "gauze": await make_item(site, "Gauze 4x4", kind=ItemKind.SUPPLY),
    }
    await make_user("boss", site_id=site, role=Role.MANAGER)
    await make_user("amy", site_id=site, role=Role.ASSISTANT)
    return ids, await login(client, "boss")


async def scan(s: Session, site: int, raw: str) -> dict[str, Any]:
    resp = await s.post(f"/api/sites/{site}/scans", {"raw": raw})
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def pdf_codes(s: Session, site: int, body: dict[str, Any]) -> list[str]:
    resp = await s.post(f"/api/sites/{site}/labels/pdf", body)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/pdf"
    assert "attachment" in resp.headers["content-disposition"]
    return [f.raw for f in decode_pdf(resp.content, 150)]


async def test_place_and_room_labels_resolve_to_their_places(client: Client) -> None:
    ids, s = await clinic(client)
    site = ids["site"]
    raws = await pdf_codes(s, site, {"what": "locations", "format": "avery5160"})
    assert len(raws) == 3
    resolved = {}
    for raw in raws:
        answer = await scan(s, site, raw)
        resolved[answer["entity"]["id"]] = answer["kind"]
    assert resolved == {ids["fridge"]: "fridge", ids["room"]: "room", ids["cupboard"]: "location"}
    rooms = await pdf_codes(s, site, {"what": "rooms", "format": "avery5163"})
    assert [(await scan(s, site, raw))["entity"]["id"] for raw in rooms] == [ids["room"]]


async def test_a_lot_label_resolves_to_its_item_and_lot(client: Client) -> None:
    ids, s = await clinic(client)
    site = ids["site"]
    await receive(site, ids["flu"], ids["fridge"], 10, lot="FLU24A", expiry=date(2030, 6, 30))
    await receive(site, ids["flu"], ids["fridge"], 10, lot="FLU24B", expiry=date(2030, 9, 30))
    sources = (await s.get(f"/api/sites/{site}/labels/sources", params={"what": "lots"})).json()
    assert [x["detail"].split(" ")[0] for x in sources] == ["FLU24B", "FLU24A"]  # the lot just received first
    lot_a = next(x["id"] for x in sources if x["detail"].startswith("FLU24A"))
    (raw,) = await pdf_codes(s, site, {"what": "lots", "ids": [lot_a], "format": "roll2x1"})
    assert raw.startswith("]d2")  # a GS1 DataMatrix
    answer = await scan(s, site, raw)
    assert answer["kind"] == "lot" and answer["entity"]["id"] == lot_a
    assert answer["item"]["id"] == ids["flu"] and answer["parsed"]["expiry"] == "2030-06-30"
    assert answer["warnings"] == [] or all(w["code"] != "expiry_mismatch" for w in answer["warnings"])


async def test_without_a_gtin_the_lot_number_is_printed_and_found(client: Client) -> None:
    ids, s = await clinic(client)
    site = ids["site"]
    await receive(site, ids["gauze"], ids["cupboard"], 5, lot="G-1007", expiry=None)
    lot = (await Lot.select(Lot.id).where(Lot.lot_number == "G-1007").first())["id"]
    (raw,) = await pdf_codes(s, site, {"what": "lots", "ids": [lot], "format": "averyL7160", "start": 21})
    answer = await scan(s, site, raw)
    assert answer["kind"] == "lot" and answer["entity"]["id"] == lot and answer["item"]["id"] == ids["gauze"]


async def test_an_item_without_a_code_gets_an_own_code_once_then_its_label_resolves(client: Client) -> None:
    ids, s = await clinic(client)
    site = ids["site"]
    refused = await s.post(f"/api/sites/{site}/labels/pdf", {"what": "items", "ids": [ids["gauze"]]})
    assert refused.status_code == 422 and refused.json()["code"] == "item_has_no_code"
    key = "6b0d4c52-8c0e-4a53-9f3c-2d9a1f0b7e11"
    given = await s.post(f"/api/sites/{site}/labels/item-codes", {"item_id": ids["gauze"]}, key=key)
    assert given.status_code == 201, given.text
    again = await s.post(f"/api/sites/{site}/labels/item-codes", {"item_id": ids["gauze"]}, key=key)
    assert again.json() == given.json()  # a replay, not a second code
    code = given.json()["code"]
    assert code.startswith("I") and len(code) == 8
    assert await ItemCode.count().where(ItemCode.item == ids["gauze"]) == 1
    raws = await pdf_codes(s, site, {"what": "items", "format": "avery5163"})
    by_item = {(await scan(s, site, raw))["item"]["id"]: raw for raw in raws}
    assert set(by_item) == {ids["flu"], ids["gauze"]}
    assert by_item[ids["gauze"]].endswith(code) and by_item[ids["flu"]] == f"]d201{GTIN}"
    second = await s.post(f"/api/sites/{site}/labels/item-codes", {"item_id": ids["gauze"]})
    assert second.status_code == 422 and second.json()["code"] == "item_has_code"


async def test_preview_is_svg_of_the_chosen_label(client: Client) -> None:
    ids, s = await clinic(client)
    resp = await s.post(f"/api/sites/{ids['site']}/labels/preview?index=1", {"what": "rooms"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("image/svg+xml")
    assert b"Exam Room 1" in resp.content and b"Scannez-moi pour consigner un nettoyage" in resp.content
    options = (await s.get(f"/api/sites/{ids['site']}/labels/options")).json()
    assert [f["name"] for f in options["formats"]] == ["avery5160", "avery5163", "averyL7160", "roll2x1"]


async def test_assistants_cannot_print(client: Client) -> None:
    ids, _ = await clinic(client)
    site = ids["site"]
    s = await login(client, "amy")
    body = {"what": "locations"}
    for path in ("preview", "pdf", "zpl", "print", "item-codes"):
        resp = await s.post(
            f"/api/sites/{site}/labels/{path}", {"item_id": ids["gauze"]} if path == "item-codes" else body
        )
        assert resp.status_code == 403, path
        assert (
            resp.headers["content-type"] == "application/problem+json" and resp.json()["code"] == "forbidden"
        )
    assert (await s.get(f"/api/sites/{site}/labels/sources?what=rooms")).status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"what": "locations", "format": "avery5163", "start": 11}, 400, "bad_start"),
        ({"what": "locations", "start": 31}, 400, "validation_error"),
        ({"what": "locations", "format": "avery9999"}, 400, "validation_error"),
        ({"what": "lots"}, 400, "ids_needed"),
        ({"what": "lots", "ids": [999999]}, 404, "not_found"),
        ({"what": "rooms", "ids": [-1]}, 400, "validation_error"),
        ({"what": "locations", "copies": 101}, 400, "validation_error"),
        ({"what": "locations", "copies": 100, "ids": []}, 200, None),
        ({"what": "locations", "colour": "red"}, 400, "validation_error"),
    ],
)
async def test_bad_input_is_a_problem_and_changes_nothing(
    client: Client, body: dict[str, Any], status: int, code: str | None
) -> None:
    ids, s = await clinic(client)
    before = (
        await AuditEvent.count(),
        await ClientWrite.count(),
        await ItemCode.count(),
        await Location.count(),
    )
    resp = await s.post(f"/api/sites/{ids['site']}/labels/pdf", body)
    assert resp.status_code == status, resp.text
    if code:
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["code"] == code
    after = (
        await AuditEvent.count(),
        await ClientWrite.count(),
        await ItemCode.count(),
        await Location.count(),
    )
    assert after == before


async def test_printing_sends_the_zpl_to_the_named_printer(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, s = await clinic(client)
    site = ids["site"]
    received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.set_result(await reader.read())
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("CLINITRACK_LABEL_PRINTERS", f"Front desk=127.0.0.1:{port}@203")
    async with server:
        options = (await s.get(f"/api/sites/{site}/labels/options")).json()
        assert options["printers"] == [{"name": "Front desk", "dpi": 203}]
        body = {"what": "rooms", "copies": 2}
        resp = await s.post(f"/api/sites/{site}/labels/print", {**body, "printer": "Front desk"})
        assert resp.status_code == 200, resp.text
        assert resp.json()["labels"] == 2
        zpl = (await s.post(f"/api/sites/{site}/labels/zpl", body)).content
        assert await asyncio.wait_for(received, 5) == zpl


async def test_an_unknown_or_unreachable_printer_is_a_problem(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, s = await clinic(client)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("CLINITRACK_LABEL_PRINTERS", f"Lab=127.0.0.1:{port}")
    url = f"/api/sites/{ids['site']}/labels/print"
    unknown = await s.post(url, {"what": "rooms", "printer": "Nowhere"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "printer_not_found"
    down = await s.post(url, {"what": "rooms", "printer": "Lab"})
    assert down.status_code == 502 and down.json()["code"] == "printer_unreachable"
    assert f"127.0.0.1:{port}" in down.json()["detail"]
