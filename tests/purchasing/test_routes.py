"""Reordering through HTTP: suggestions, drafts per supplier, the order lifecycle, receiving by scan
(partial and over deliveries), documents, roles, exactly-once and refusals that change nothing."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
import zipfile
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.alerts.tables import Delivery
from server.clock import utcnow
from server.coldchain import readings as coldchain_readings
from server.coldchain.schemas import ReadingIn
from server.core.auth import SYSTEM
from server.core.rules import LocationKind, Role
from server.core.tables import AuditEvent
from server.purchasing.tables import OrderReceipt, PurchaseOrder, PurchaseOrderLine, Supplier
from server.stock import catalog, ledger
from server.stock.rules import ItemKind, Storage
from server.stock.schemas import CodeIn, ItemCreate, ItemUpdate, UseIn
from server.stock.tables import Movement
from tests.factories import Client, Session, login, make_location, make_site, make_user
from tests.stock.factories import receive

FLU_BOX = "09506000134352"  # GS1's example GTIN, here a box of 10 doses
GLOVES = "00012345678905"


async def _item(site: int, name: str, **kw: Any) -> int:
    codes = kw.pop("codes", [])
    item = await catalog.create_item(
        SYSTEM,
        site,
        ItemCreate(name=name, codes=[CodeIn(code=c, pack_qty=q) for c, q in codes], **kw),
        now=utcnow(),
    )
    return item.id


async def _clinic(client: Client) -> dict[str, Any]:
    site = await make_site()
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    shelf = await make_location(site, "Supply Room")
    flu = await _item(
        site,
        "Influenza vaccine",
        kind=ItemKind.VACCINE,
        storage=Storage.FRIDGE,
        par_level=40,
        publicly_funded=True,
        default_supplier="Public Health Unit",
        codes=[(FLU_BOX, 10)],
    )
    gloves = await _item(
        site,
        "Nitrile gloves",
        kind=ItemKind.SUPPLY,
        par_level=50,
        reorder_point=20,
        default_supplier="MedSupply Co",
        codes=[(GLOVES, 10)],
    )
    for name, role in (("mgr", Role.MANAGER), ("asst", Role.ASSISTANT), ("insp", Role.INSPECTOR)):
        await make_user(name, site_id=site, role=role)
    return {
        "site": site,
        "fridge": fridge,
        "shelf": shelf,
        "flu": flu,
        "gloves": gloves,
        "api": f"/api/sites/{site}",
        "orders": f"/api/sites/{site}/purchase-orders",
    }


def _lines(groups: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {ln["item_id"]: ln for g in groups for ln in g["lines"]}


async def _drafts(s: Session, c: dict[str, Any], lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    resp = await s.post(f"{c['orders']}/drafts", {"lines": lines})
    assert resp.status_code == 201, resp.text
    return list(resp.json()["orders"])


async def _sent_gloves_order(
    client: Client, c: dict[str, Any], packs: int = 3
) -> tuple[Session, dict[str, Any]]:
    mgr = await login(client, "mgr")
    (order,) = await _drafts(mgr, c, [{"item_id": c["gloves"], "packs": packs}])
    sent = await mgr.post(f"{c['orders']}/{order['id']}/send")
    assert sent.status_code == 201, sent.text
    return mgr, sent.json()


def _pdf_text(pdf: bytes) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def dm(gtin: str, expiry: str, lot: str) -> str:
    return f"01{gtin}17{expiry}10{lot}"


async def test_suggestions_round_up_to_packs_and_count_usable_stock_and_orders(client: Client) -> None:
    c = await _clinic(client)
    await receive(c["site"], c["gloves"], c["shelf"], 12, lot="G1")
    await receive(
        c["site"], c["gloves"], c["shelf"], 30, lot="OLD", expiry=date(2020, 1, 31)
    )  # expired: not usable
    mgr = await login(client, "mgr")
    groups = (await mgr.get(f"{c['api']}/reorder/suggestions")).json()
    gloves = _lines(groups)[c["gloves"]]
    # 50 par - 12 usable - 0 on order = 38 -> 4 boxes of 10
    assert (gloves["usable_on_hand"], gloves["on_order"], gloves["needed_units"]) == (12, 0, 38)
    assert (gloves["packs"], gloves["units"], gloves["pack_qty"]) == (4, 40, 10)
    assert gloves["supplier_name"] == "MedSupply Co" and gloves["supplier_id"] is None
    assert [g["supplier_name"] for g in groups] == ["MedSupply Co", "Public Health Unit"]

    # Once 2 boxes are on order, the gloves are above their reorder point (12 + 20 > 20): no suggestion.
    await _drafts(mgr, c, [{"item_id": c["gloves"], "packs": 2}])
    again = _lines((await mgr.get(f"{c['api']}/reorder/suggestions")).json())
    assert c["gloves"] not in again

    only = (
        await mgr.get(f"{c['api']}/reorder/suggestions", params={"supplier": "public health unit"})
    ).json()
    assert [g["supplier_name"] for g in only] == ["Public Health Unit"]


async def test_publicly_funded_vaccine_is_capped_at_one_month_of_recent_use(client: Client) -> None:
    c = await _clinic(client)
    received = await receive(c["site"], c["flu"], c["fridge"], 45, lot="FLU1")
    now = utcnow()
    for days_ago in range(40):  # 40 doses over the last 8 weeks: 5 a week, 21 a month
        await ledger.use(
            SYSTEM,
            c["site"],
            UseIn(lot_id=received.lot.id, location_id=c["fridge"]),
            now=now - timedelta(days=days_ago),
        )
    mgr = await login(client, "mgr")
    flu = _lines((await mgr.get(f"{c['api']}/reorder/suggestions")).json())[c["flu"]]
    # par 40 - 5 on hand = 35 -> 4 boxes uncapped; one month = 21, room 16 -> 1 box of 10.
    assert (flu["usable_on_hand"], flu["used_recently"], flu["month_supply"]) == (5, 40, 21)
    assert (flu["needed_units"], flu["packs"], flu["units"], flu["capped"]) == (35, 1, 10, True)
    assert "one month" in flu["note"]


async def test_drafts_one_per_supplier_adding_unknown_suppliers(client: Client) -> None:
    c = await _clinic(client)
    mgr = await login(client, "mgr")
    before = await AuditEvent.count()
    orders = await _drafts(
        mgr,
        c,
        [
            {"item_id": c["gloves"], "packs": 4, "suggested_packs": 4},
            {"item_id": c["flu"], "packs": 2, "suggested_packs": 1},
        ],
    )
    assert sorted(o["supplier_name"] for o in orders) == ["MedSupply Co", "Public Health Unit"]
    assert all(o["status"] == "draft" and o["number"].startswith(f"PO-{c['site']}-") for o in orders)
    gloves = next(o for o in orders if o["supplier_name"] == "MedSupply Co")
    (line,) = gloves["lines"]
    assert (line["packs"], line["pack_qty"], line["ordered_units"], line["suggested_packs"]) == (4, 10, 40, 4)
    assert await Supplier.count() == 2
    listed = (await mgr.get(c["orders"])).json()  # one read for every order: each keeps its own lines
    assert {o["supplier_name"]: [ln["item_id"] for ln in o["lines"]] for o in listed} == {
        "MedSupply Co": [c["gloves"]],
        "Public Health Unit": [c["flu"]],
    }
    # two suppliers added and two orders created, each audited
    actions = [e["action"] for e in await AuditEvent.select(AuditEvent.action).where(AuditEvent.id > 0)]
    assert actions.count("supplier.create") == 2 and actions.count("order.create") == 2
    assert await AuditEvent.count() == before + 4

    # A draft's line can be changed; a sent order's cannot.
    url = f"{c['orders']}/{gloves['id']}/lines/{line['id']}"
    changed = await mgr.patch(url, {"packs": 5})
    assert changed.status_code == 200, changed.text
    assert changed.json()["lines"][0]["ordered_units"] == 50
    await mgr.post(f"{c['orders']}/{gloves['id']}/send")
    refused = await mgr.patch(url, {"packs": 6})
    assert refused.status_code == 422
    assert refused.json()["code"] == "order_not_draft"


async def test_an_item_without_supplier_is_refused_and_nothing_is_created(client: Client) -> None:
    c = await _clinic(client)
    bare = await _item(c["site"], "Gauze", kind=ItemKind.SUPPLY, par_level=10)
    mgr = await login(client, "mgr")
    resp = await mgr.post(
        f"{c['orders']}/drafts",
        {"lines": [{"item_id": c["gloves"], "packs": 1}, {"item_id": bare, "packs": 1}]},
    )
    assert resp.status_code == 400
    assert resp.json()["code"] == "no_supplier"
    assert "Gauze" in resp.json()["detail"]
    assert await PurchaseOrder.count() == 0 and await Supplier.count() == 0

    supplier = (
        await mgr.post(f"{c['api']}/suppliers", {"name": "Gauze Ltd", "email": "orders@gauze.example"})
    ).json()
    ok = await mgr.post(
        f"{c['orders']}/drafts", {"lines": [{"item_id": bare, "packs": 1, "supplier_id": supplier["id"]}]}
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["orders"][0]["supplier_name"] == "Gauze Ltd"


async def test_lifecycle_send_cancel_and_refusals(client: Client) -> None:
    c = await _clinic(client)
    mgr, order = await _sent_gloves_order(client, c)
    url = f"{c['orders']}/{order['id']}"
    assert order["status"] == "sent" and order["sent_by"]

    again = await mgr.post(f"{url}/send")
    assert again.status_code == 422 and again.json()["code"] == "order_not_draft"

    no_reason = await mgr.post(f"{url}/cancel", {"reason": "  "})
    assert no_reason.status_code == 400 and no_reason.json()["code"] == "reason_required"

    cancelled = await mgr.post(f"{url}/cancel", {"reason": "Supplier out of stock"})
    assert cancelled.status_code == 201, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "Supplier out of stock"

    twice = await mgr.post(f"{url}/cancel", {"reason": "again"})
    assert twice.status_code == 422 and twice.json()["code"] == "order_closed"
    asst = await login(client, "asst")
    line = order["lines"][0]["id"]
    late = await asst.post(
        f"{url}/lines/{line}/receipts",
        {"location_id": c["shelf"], "quantity": 1, "scan": dm(GLOVES, "301231", "G9")},
    )
    assert late.status_code == 422 and late.json()["code"] == "order_not_open"
    assert await Movement.count() == 0

    listed = (await mgr.get(c["orders"], params={"status": "cancelled"})).json()
    assert [o["id"] for o in listed] == [order["id"]]


async def test_draft_lines_priced_from_the_catalog_edited_and_removed(client: Client) -> None:
    c = await _clinic(client)
    await catalog.update_item(SYSTEM, c["site"], c["gloves"], ItemUpdate(unit_cost=0.12), now=utcnow())
    mgr = await login(client, "mgr")
    (order,) = await _drafts(mgr, c, [{"item_id": c["gloves"], "packs": 3}])
    line = order["lines"][0]
    assert (line["unit_price"], line["line_value"], order["value"]) == (0.12, 3.6, 3.6)  # 30 gloves
    url = f"{c['orders']}/{order['id']}/lines/{line['id']}"
    changed = await mgr.patch(url, {"packs": 5, "unit_price": 0.1})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["lines"][0]["packs"], changed.json()["value"]) == (5, 5.0)
    nothing = await mgr.patch(url, {})
    assert nothing.status_code == 400 and nothing.json()["code"] == "nothing_to_change"
    assert (await mgr.patch(url, {"unit_price": -1})).status_code == 400
    last = await mgr.post(f"{url}/remove")
    assert last.status_code == 422 and last.json()["code"] == "last_line"

    (flu_order,) = await _drafts(mgr, c, [{"item_id": c["flu"], "packs": 2}])
    assert flu_order["lines"][0]["unit_price"] is None and flu_order["value"] is None  # no cost: unknown
    # Two lines for one supplier (the flu's price typed on the line): one can go.
    (two,) = await _drafts(
        mgr,
        c,
        [
            {"item_id": c["gloves"], "packs": 1},
            {"item_id": c["flu"], "packs": 1, "supplier_id": order["supplier_id"], "unit_price": 18.25},
        ],
    )
    flu_line = next(ln for ln in two["lines"] if ln["item_id"] == c["flu"])
    assert flu_line["unit_price"] == 18.25
    removed = await mgr.post(f"{c['orders']}/{two['id']}/lines/{flu_line['id']}/remove")
    assert removed.status_code == 200, removed.text
    assert [ln["item_id"] for ln in removed.json()["lines"]] == [c["gloves"]]
    assert await AuditEvent.count().where(AuditEvent.action == "order.line_remove") == 1

    assert (await mgr.post(f"{c['orders']}/{order['id']}/send")).status_code == 201
    late = await mgr.patch(url, {"unit_price": 1})
    assert late.status_code == 422 and late.json()["code"] == "order_not_draft"
    asst = await login(client, "asst")
    assert (await asst.patch(url, {"packs": 1})).status_code == 403
    assert (
        await asst.post(f"{c['orders']}/{two['id']}/lines/{two['lines'][0]['id']}/remove")
    ).status_code == 403


async def test_receiving_by_scan_partial_then_over_delivery(client: Client) -> None:
    c = await _clinic(client)
    _, order = await _sent_gloves_order(client, c, packs=3)  # 30 gloves
    url = f"{c['orders']}/{order['id']}/lines/{order['lines'][0]['id']}/receipts"
    asst = await login(client, "asst")

    first = await asst.post(
        url, {"location_id": c["shelf"], "quantity": 2, "scan": dm(GLOVES, "301231", "G7")}
    )
    assert first.status_code == 201, first.text
    body = first.json()
    # the scan is a box of 10: 2 boxes = 20 units, lot and expiry from the GS1 code
    assert body["units"] == 20
    assert (body["receipt"]["lot_number"], body["receipt"]["expiry"]) == ("G7", "2030-12-31")
    assert body["order"]["status"] == "partly_received"
    line = body["order"]["lines"][0]
    assert (line["received_units"], line["discrepancy"], line["closed"]) == (20, "none", False)

    second = await asst.post(
        url, {"location_id": c["shelf"], "quantity": 15, "lot_number": "G8", "expiry": "2031-01-31"}
    )
    assert second.status_code == 201, second.text
    body = second.json()
    assert body["order"]["status"] == "received"
    line = body["order"]["lines"][0]
    assert (line["received_units"], line["discrepancy"], line["discrepancy_units"], line["closed"]) == (
        35,
        "over",
        5,
        True,
    )
    assert any("over-delivery" in w for w in body["warnings"])

    moves = await Movement.select().where(Movement.kind == "receive").order_by(Movement.id)
    assert [m["quantity"] for m in moves] == [20, 15]
    assert {m["reference"] for m in moves} == {order["number"]}
    receipts = await OrderReceipt.select().order_by(OrderReceipt.id)
    assert [r["movement_id"] for r in receipts] == [m["id"] for m in moves]
    stock = (await asst.get(f"{c['api']}/stock", params={"item_id": c["gloves"]})).json()
    assert sum(r["on_hand"] for r in stock) == 35

    closed = await asst.post(url, {"location_id": c["shelf"], "quantity": 1, "lot_number": "G8"})
    assert closed.status_code == 422 and closed.json()["code"] == "order_not_open"


async def test_short_delivery_closed_as_final_is_a_discrepancy(client: Client) -> None:
    c = await _clinic(client)
    _, order = await _sent_gloves_order(client, c, packs=3)
    url = f"{c['orders']}/{order['id']}/lines/{order['lines'][0]['id']}/receipts"
    asst = await login(client, "asst")
    resp = await asst.post(
        url, {"location_id": c["shelf"], "quantity": 2, "scan": dm(GLOVES, "301231", "G7"), "final": True}
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    line = body["order"]["lines"][0]
    assert (line["discrepancy"], line["discrepancy_units"], line["closed"]) == ("short", 10, True)
    assert body["order"]["status"] == "received"
    assert any("short delivery" in w for w in body["warnings"])
    # the order no longer counts the 10 that will not come as on order
    sugg = _lines((await asst.get(f"{c['api']}/reorder/suggestions")).json())
    assert (sugg[c["gloves"]]["on_order"], sugg[c["gloves"]]["packs"]) == (0, 3)  # 20 on hand, at the point
    audit = await AuditEvent.select().where(AuditEvent.action == "order.receive")
    assert len(audit) == 1


async def test_bad_receipts_change_nothing(client: Client) -> None:
    c = await _clinic(client)
    _, order = await _sent_gloves_order(client, c)
    url = f"{c['orders']}/{order['id']}/lines/{order['lines'][0]['id']}/receipts"
    asst = await login(client, "asst")
    events = await AuditEvent.count()
    cases = [
        ({"location_id": c["fridge"], "quantity": 1, "scan": dm(FLU_BOX, "301231", "F1")}, 409, "wrong_item"),
        ({"location_id": c["shelf"], "quantity": 1}, 400, "lot_required"),
        ({"location_id": c["shelf"], "quantity": 0, "lot_number": "X"}, 400, None),
        ({"location_id": c["shelf"], "quantity": 1, "scan": "01000000000000001710X"}, 400, "scan_unknown"),
        ({"location_id": 999_999, "quantity": 1, "lot_number": "X"}, 404, "location_not_found"),
        ({"location_id": c["shelf"], "quantity": 1, "lot_number": "X", "extra": 1}, 400, None),
    ]
    for body, status, code in cases:
        resp = await asst.post(url, body)
        assert resp.status_code == status, (body, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
        if code:
            assert resp.json()["code"] == code, resp.text
    other_line = await asst.post(
        f"{c['orders']}/{order['id']}/lines/999999/receipts",
        {"location_id": c["shelf"], "quantity": 1, "lot_number": "X"},
    )
    assert other_line.status_code == 404
    assert await Movement.count() == 0 and await OrderReceipt.count() == 0
    assert await AuditEvent.count() == events
    line = await PurchaseOrderLine.select().first()
    assert line is not None and line["received_units"] == 0


async def test_a_receipt_replayed_with_its_key_counts_once(client: Client) -> None:
    c = await _clinic(client)
    _, order = await _sent_gloves_order(client, c)
    url = f"{c['orders']}/{order['id']}/lines/{order['lines'][0]['id']}/receipts"
    asst = await login(client, "asst")
    key = str(uuid.uuid4())
    body = {"location_id": c["shelf"], "quantity": 1, "scan": dm(GLOVES, "301231", "G7")}
    first = await asst.post(url, body, key=key)
    again = await asst.post(url, body, key=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert await Movement.count() == 1 and await OrderReceipt.count() == 1
    different = await asst.post(url, {**body, "quantity": 2}, key=key)
    assert different.status_code == 409


async def test_roles(client: Client) -> None:
    c = await _clinic(client)
    _, order = await _sent_gloves_order(client, c)
    url = f"{c['orders']}/{order['id']}"
    line_url = f"{url}/lines/{order['lines'][0]['id']}/receipts"
    asst = await login(client, "asst")
    for path, body in (
        (f"{c['orders']}/drafts", {"lines": [{"item_id": c["gloves"], "packs": 1}]}),
        (f"{url}/cancel", {"reason": "no"}),
        (f"{c['api']}/suppliers", {"name": "X"}),
    ):
        assert (await asst.post(path, body)).status_code == 403, path
    assert (
        await asst.post(line_url, {"location_id": c["shelf"], "quantity": 1, "lot_number": "A"})
    ).status_code == 201

    insp = await login(client, "insp")
    assert (
        await insp.post(line_url, {"location_id": c["shelf"], "quantity": 1, "lot_number": "A"})
    ).status_code == 403
    assert (await insp.get(url)).status_code == 200
    assert (await insp.get(f"{c['api']}/reorder/suggestions")).status_code == 200
    assert (await insp.get(f"{url}/order.csv")).status_code == 200

    other = await make_site("Other Clinic")
    await make_user("stranger", site_id=other, role=Role.MANAGER)
    stranger = await login(client, "stranger")
    assert (await stranger.get(url)).status_code == 403
    assert (await stranger.get(f"/api/sites/{other}/purchase-orders/{order['id']}")).status_code == 404


async def test_order_csv_and_pdf(client: Client) -> None:
    c = await _clinic(client)
    await catalog.update_item(SYSTEM, c["site"], c["gloves"], ItemUpdate(unit_cost=0.15), now=utcnow())
    mgr, order = await _sent_gloves_order(client, c, packs=3)
    url = f"{c['orders']}/{order['id']}"
    resp = await mgr.get(f"{url}/order.csv")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    assert f'filename="{order["number"]}.csv"' in resp.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert rows == [
        {
            "order_number": order["number"],
            "status": "sent",
            "supplier": "MedSupply Co",
            "item": "Nitrile gloves",
            "gtin": GLOVES,
            "packs": "3",
            "pack_size": "10",
            "units": "30",
            "received_units": "0",
            "discrepancy": "none",
            "discrepancy_units": "0",
            "unit_price_cad": "0.1500",
            "line_value_cad": "4.50",
        }
    ]
    pdf = await mgr.get(f"{url}/order.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert order["number"].encode() in pdf.content  # the title is stored uncompressed in the metadata
    text = _pdf_text(pdf.content)
    assert "Nitrile gloves" in text and "$0.15" in text and "$4.50" in text and "Total" in text


async def test_suppliers_are_unique_by_name_and_editable(client: Client) -> None:
    c = await _clinic(client)
    mgr = await login(client, "mgr")
    created = await mgr.post(f"{c['api']}/suppliers", {"name": "MedSupply Co", "phone": "416-555-0100"})
    assert created.status_code == 201, created.text
    dup = await mgr.post(f"{c['api']}/suppliers", {"name": "MedSupply Co"})
    assert dup.status_code == 409 and dup.json()["code"] == "supplier_exists"
    bad = await mgr.post(f"{c['api']}/suppliers", {"name": "Y", "email": "not-an-email"})
    assert bad.status_code == 400
    changed = await mgr.patch(
        f"{c['api']}/suppliers/{created.json()['id']}", {"email": "orders@medsupply.example"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["email"] == "orders@medsupply.example"
    # the suggestion now points at the supplier on the list
    await receive(c["site"], c["gloves"], c["shelf"], 5, lot="G1")
    sugg = _lines((await mgr.get(f"{c['api']}/reorder/suggestions")).json())
    assert sugg[c["gloves"]]["supplier_id"] == created.json()["id"]


async def test_public_health_export_has_the_vaccine_lines_and_the_fridge_logs(client: Client) -> None:
    c = await _clinic(client)
    await coldchain_readings.record_reading(
        SYSTEM, c["site"], c["fridge"], ReadingIn(current=5.1, min=4.2, max=6.3, initials="AB"), now=utcnow()
    )
    mgr = await login(client, "mgr")
    orders = await _drafts(mgr, c, [{"item_id": c["flu"], "packs": 2}, {"item_id": c["gloves"], "packs": 1}])
    flu_order = next(o for o in orders if o["supplier_name"] == "Public Health Unit")
    gloves_order = next(o for o in orders if o["supplier_name"] == "MedSupply Co")

    resp = await mgr.get(f"{c['orders']}/{flu_order['id']}/public-health.zip")
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(resp.content))
    names = sorted(archive.namelist())
    now = utcnow().astimezone(ZoneInfo("America/Toronto"))
    this_month = f"{now.year:04d}-{now.month:02d}"
    assert f"{flu_order['number']}-vaccine-order.pdf" in names
    assert f"temperature-log-vaccine-fridge-{c['fridge']}-{this_month}.pdf" in names
    assert len([n for n in names if n.startswith("temperature-log-")]) == 2  # last month and this one
    assert all(archive.read(n).startswith(b"%PDF") for n in names if n.endswith(".pdf"))
    rows = list(
        csv.DictReader(io.StringIO(archive.read(f"{flu_order['number']}-vaccine-order.csv").decode()))
    )
    assert [(r["item"], r["units"]) for r in rows] == [("Influenza vaccine", "20")]

    none = await mgr.get(f"{c['orders']}/{gloves_order['id']}/public-health.zip")
    assert none.status_code == 422 and none.json()["code"] == "no_funded_vaccine"


async def test_sending_by_email_queues_the_order_for_the_supplier(client: Client) -> None:
    c = await _clinic(client)
    mgr = await login(client, "mgr")
    (order,) = await _drafts(mgr, c, [{"item_id": c["gloves"], "packs": 3}])
    url = f"{c['orders']}/{order['id']}/send"

    refused = await mgr.post(url, {"email": True})  # the supplier was added without an address
    assert refused.status_code == 400 and refused.json()["code"] == "supplier_no_email"
    assert (await mgr.get(f"{c['orders']}/{order['id']}")).json()["status"] == "draft"
    assert await Delivery.count() == 0

    await mgr.patch(f"{c['api']}/suppliers/{order['supplier_id']}", {"email": "orders@medsupply.example"})
    sent = await mgr.post(url, {"email": True})
    assert sent.status_code == 201, sent.text
    (mail,) = await Delivery.select()
    assert (mail["channel"], mail["target"], mail["status"]) == (
        "email",
        "orders@medsupply.example",
        "pending",
    )
    assert order["number"] in mail["subject"]
    assert "Nitrile gloves: 3 x 10 (30 units)" in mail["body"]
    event = await AuditEvent.select().where(AuditEvent.action == "order.send").first()
    assert event is not None and "orders@medsupply.example" in str(event["payload"])


async def test_racing_receipts_on_one_line_are_counted_exactly(client: Client) -> None:
    """12 concurrent single-unit receipts against a line of 10: exactly 10 go in, the order is
    received, the rest are refused; the line's count matches the ledger (no lost update)."""
    c = await _clinic(client)
    _, order = await _sent_gloves_order(client, c, packs=1)
    url = f"{c['orders']}/{order['id']}/lines/{order['lines'][0]['id']}/receipts"
    asst = await login(client, "asst")
    answers = await asyncio.gather(
        *(asst.post(url, {"location_id": c["shelf"], "quantity": 1, "lot_number": "G1"}) for _ in range(12))
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 10 + [422] * 2, [a.text for a in answers if a.status_code != 201]
    line = await PurchaseOrderLine.select().first()
    assert line is not None and (line["received_units"], line["closed"]) == (10, True)
    assert await Movement.count() == 10 and await OrderReceipt.count() == 10
    assert (await mgr_get(client, c, order["id"]))["status"] == "received"


async def mgr_get(client: Client, c: dict[str, Any], order_id: int) -> dict[str, Any]:
    mgr = await login(client, "mgr")
    return dict((await mgr.get(f"{c['orders']}/{order_id}")).json())


async def test_a_line_with_nothing_coming_is_closed_short(client: Client) -> None:
    c = await _clinic(client)
    mgr = await login(client, "mgr")
    (order,) = await _drafts(mgr, c, [{"item_id": c["gloves"], "packs": 2}])
    asst = await login(client, "asst")
    line_id = order["lines"][0]["id"]
    url = f"{c['orders']}/{order['id']}/lines/{line_id}/close"
    draft = await asst.post(url, {"reason": "Back-ordered"})
    assert draft.status_code == 422 and draft.json()["code"] == "order_not_open"  # not sent yet
    mgr = await login(client, "mgr")
    await mgr.post(f"{c['orders']}/{order['id']}/send")
    asst = await login(client, "asst")
    assert (await asst.post(url, {"reason": " "})).status_code == 400
    closed = await asst.post(url, {"reason": "Discontinued by the supplier"})
    assert closed.status_code == 201, closed.text
    body = closed.json()
    assert body["status"] == "received"
    line = body["lines"][0]
    assert (line["closed"], line["discrepancy"], line["discrepancy_units"], line["received_units"]) == (
        True,
        "short",
        20,
        0,
    )
    again = await asst.post(url, {"reason": "again"})
    assert again.status_code == 422 and again.json()["code"] == "order_not_open"
    event = await AuditEvent.select().where(AuditEvent.action == "order.close_line").first()
    assert event is not None and "Discontinued" in str(event["payload"])
    insp = await login(client, "insp")
    assert (await insp.post(url, {"reason": "x"})).status_code == 403
