"""Reordering in Chromium: the dashboard's tiles (money in CAD, EN and FR), the Reorder screen (drafts,
edits, cancel, suppliers, reports) and receiving by scan (typed, and through the fake camera), 360 px."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from playwright.async_api import Page, expect

from server.clock import utcnow
from server.core.auth import SYSTEM
from server.core.rules import LocationKind, Role
from server.purchasing import service
from server.purchasing.schemas import DraftLineIn, DraftsIn
from server.purchasing.tables import OrderReceipt, PurchaseOrder, PurchaseOrderLine
from server.stock import ledger
from server.stock.rules import ItemKind, WasteReason
from server.stock.schemas import WasteIn
from server.stock.tables import Item, StockLevel
from tests.factories import make_location, make_site, make_user
from tests.stock.factories import make_item, receive
from tests.web.barcodes import decode, gs1_datamatrix_image, write_y4m
from tests.web.conftest import LaunchBrowser, NewContext
from tests.web.test_scanner import FAKE_DEVICE, FAKE_UI, phone_context
from tests.web.test_stock_screens import check_screen, sign_in

GLOVES = "00012345678905"


async def _clinic() -> int:
    site = await make_site("Maple Grove")
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    tdap = await make_item(site, "Tdap vaccine")
    await Item.update(
        {
            Item.par_level: 20,
            Item.reorder_point: 10,
            Item.default_supplier: "PHU",
            Item.unit_cost: Decimal("1234.5"),
        }
    ).where(Item.id == tdap)
    await make_item(site, "Nitrile gloves", kind=ItemKind.SUPPLY)  # no cost in the catalog
    soon = await receive(site, tdap, fridge, 4, lot="TD-1", expiry=utcnow().date() + timedelta(days=20))
    await receive(site, tdap, fridge, 3, lot="TD-2", expiry=utcnow().date() + timedelta(days=75))
    await ledger.waste(
        SYSTEM,
        site,
        WasteIn(lot_id=soon.lot.id, location_id=fridge, quantity=1, reason=WasteReason.BROKEN),
        now=utcnow(),
    )
    await make_user("boss", site_id=site, role=Role.MANAGER)
    return site


async def test_the_dashboard_shows_what_to_reorder_expiring_and_wasted(new_context: NewContext) -> None:
    await _clinic()
    page: Page = await (await new_context()).new_page()
    await sign_in(page, "boss", "dashboard")
    section = page.locator("#reorder-numbers")
    await expect(section.locator("#reorder-low .tile-value")).to_have_text("1")  # 6 usable <= 10
    await expect(section.locator("#reorder-low .tile-note")).to_have_text("Tdap vaccine")
    bars = section.locator("#reorder-expiring li")
    await expect(bars).to_have_count(3)
    await expect(bars.nth(0)).to_contain_text("Within 30 days")
    await expect(bars.nth(0)).to_contain_text("$3,703.50 · 3 units in 1 lot")
    await expect(bars.nth(2)).to_contain_text("$7,407.00 · 6 units in 2 lots")
    await expect(section.locator("#reorder-value-expiring .tile-value")).to_have_text("$7,407.00")
    await expect(section.locator("#reorder-value-wasted .tile-value")).to_have_text("$1,234.50")
    await expect(section.locator("#reorder-wastage li")).to_have_text(["Broken$1,234.50 · 1 unit"])
    await expect(section.locator("#reorder-no-cost")).to_contain_text(
        "1 of 2 items have no cost: their value shows as unknown."
    )
    await expect(section.locator("#reorder-overdue .tile-note")).to_have_text("Nothing overdue.")
    await expect(section.locator("#reorder-cleaning .tile-note")).to_have_text("No cleaning plans yet.")
    await expect(section.locator("#reorder-orders .tile-note")).to_have_text("No open orders.")
    await expect(section.locator("#reorder-expiring svg.bar-svg")).to_have_count(3)
    await check_screen(page, "reorder-dashboard")

    page = await (await new_context(locale="fr-CA")).new_page()
    await sign_in(page, "boss", "dashboard")
    section = page.locator("#reorder-numbers")
    await expect(section.locator("h2")).to_have_text("Stock et commandes")
    await expect(section.locator("#reorder-expiring li").nth(0)).to_contain_text("D\u2019ici 30 jours")
    await expect(section.locator("#reorder-wastage li")).to_have_text(["Brisé1\u00a0234,50\u00a0$ · 1 unité"])
    await expect(section.locator("#reorder-value-expiring .tile-value")).to_have_text("7\u00a0407,00\u00a0$")


async def test_the_manager_edits_suggestions_makes_drafts_and_sends(new_context: NewContext) -> None:
    site = await _clinic()  # Tdap: 6 usable, par 20, reorder point 10 -> 14 suggested (packs of 1)
    page: Page = await (await new_context()).new_page()
    await sign_in(page, "boss", "dashboard")
    await page.click("#open-reorder")
    await page.wait_for_url("**/#/reorder")
    row = page.locator("#reorder-form li.suggestion")
    await expect(row).to_have_count(1)
    packs = row.locator("input.packs-input")
    await expect(packs).to_have_value("14")
    await expect(row).to_contain_text("On hand 6 · on order 0 · par 20")
    await check_screen(page, "reorder")
    await packs.fill("12")
    await page.click("#reorder-form button[type=submit]")
    await expect(page.locator(".outcome[data-outcome=sent]")).to_contain_text("Draft orders made: 1.")
    order = page.locator("#orders li.order")
    await expect(order).to_have_attribute("data-status", "draft")
    await expect(order).to_contain_text("1 lines · 12 units")
    await expect(page.locator("#reorder-form li.suggestion")).to_have_count(0)  # 6 + 12 on order > 10
    (po,) = await PurchaseOrder.select()
    line = await PurchaseOrderLine.select().first()
    assert po["site"] == site and line is not None and (line["packs"], line["suggested_packs"]) == (12, 14)

    await order.locator("button.send-order").click()
    await expect(page.locator(".outcome[data-outcome=sent]")).to_contain_text(f"{po['number']} is sent.")
    await expect(page.locator("#orders li.order")).to_have_attribute("data-status", "sent")
    assert (await PurchaseOrder.select(PurchaseOrder.status).first())["status"] == "sent"

    page = await (await new_context(locale="fr-CA")).new_page()
    await sign_in(page, "boss", "dashboard")
    await page.goto("/#/reorder")
    await expect(page.locator("#orders li.order .order-status")).to_have_text("Envoyée")


async def test_an_assistant_receives_against_an_order_by_scanning(new_context: NewContext) -> None:
    site = await make_site("Maple Grove")
    shelf = await make_location(site, "Supply Room", LocationKind.SUPPLY_ROOM)
    gloves = await make_item(site, "Nitrile gloves", kind=ItemKind.SUPPLY, gtin=GLOVES, pack_qty=10)
    await Item.update({Item.default_supplier: "MedSupply Co"}).where(Item.id == gloves)
    await make_user("nurse", site_id=site, role=Role.ASSISTANT)
    masks = await make_item(site, "Procedure masks", kind=ItemKind.SUPPLY)
    await Item.update({Item.default_supplier: "MedSupply Co"}).where(Item.id == masks)
    drafts = await service.create_drafts(
        SYSTEM,
        site,
        DraftsIn(lines=[DraftLineIn(item_id=gloves, packs=3), DraftLineIn(item_id=masks, packs=5)]),
        now=utcnow(),
    )
    order = await service.send_order(SYSTEM, site, drafts.orders[0].id, now=utcnow())

    page: Page = await (await new_context()).new_page()
    await sign_in(page, "nurse", "scan")
    await page.goto("/#/tasks")  # My tasks lists the orders waiting for deliveries
    await page.locator(f"#receive-tasks li[data-order='{order.id}'] a").click()
    await page.wait_for_url(f"**/#/reorder?receive={order.id}")
    line = page.locator("#receive-lines li.receive-line").first
    await expect(line).to_contain_text("Received 0 of 30")
    await check_screen(page, "reorder-receive")
    await line.locator("input[name=scan]").fill(f"01{GLOVES}17301231" + "10GL-7")
    await line.locator("button[type=submit]").click()
    await expect(page.locator(".outcome[data-outcome=sent]")).to_contain_text("10 received (lot GL-7).")
    await expect(page.locator("#order-status")).to_have_text("Partly received")
    await expect(line).to_contain_text("Received 10 of 30")

    # One more box, and the last one is not coming: the line closes short.
    await line.locator("input[name=scan]").fill(f"01{GLOVES}17301231" + "10GL-7")
    await line.locator("input[name=final]").check()
    await line.locator("button[type=submit]").click()
    await expect(line.locator(".discrepancy")).to_have_text("10 short")
    await expect(page.locator("#order-status")).to_have_text("Partly received")  # the masks are still due

    # The masks are back-ordered: close that line with a reason; the order is received.
    masks_line = page.locator("#receive-lines li.receive-line").nth(1)
    await masks_line.locator("button.close-line").click()
    await page.locator("dialog input").fill("Back-ordered until spring")
    await page.locator("dialog button[type=submit]").click()
    await expect(page.locator(".outcome[data-outcome=sent]")).to_contain_text("Procedure masks: closed")
    await expect(page.locator("#order-status")).to_have_text("Received")
    await expect(masks_line.locator(".discrepancy")).to_have_text("5 short")
    await expect(line.locator("form")).to_have_count(0)
    row = await PurchaseOrderLine.select().order_by(PurchaseOrderLine.id).first()
    assert row is not None and (row["received_units"], row["closed"], row["discrepancy"]) == (
        20,
        True,
        "short",
    )
    levels = await StockLevel.select(StockLevel.on_hand).where(StockLevel.location == shelf)
    assert sum(r["on_hand"] for r in levels) == 20


async def test_the_manager_edits_a_draft_cancels_and_keeps_suppliers_and_reports(
    new_context: NewContext,
) -> None:
    site = await _clinic()
    tdap = (await Item.select(Item.id).where(Item.name == "Tdap vaccine").first() or {})["id"]
    gloves = (await Item.select(Item.id).where(Item.name == "Nitrile gloves").first() or {})["id"]
    await Item.update({Item.default_supplier: "PHU"}).where(Item.id == gloves)
    drafts = await service.create_drafts(
        SYSTEM,
        site,
        DraftsIn(lines=[DraftLineIn(item_id=tdap, packs=2), DraftLineIn(item_id=gloves, packs=4)]),
        now=utcnow(),
    )
    order = drafts.orders[0]
    page: Page = await (await new_context()).new_page()
    await sign_in(page, "boss", "dashboard")
    await page.goto("/#/reorder")
    card = page.locator(f"#orders li.order[data-order='{order.id}']")
    await expect(card.locator(".order-value")).to_have_text("Value unknown")  # the gloves have no cost
    await card.locator(".edit-lines summary").click()
    glove_form = card.locator(".line-form").nth(1)
    await glove_form.locator("input[name=unit_price]").fill("0.25")
    await glove_form.locator("input[name=packs]").fill("8")
    await glove_form.locator("button.save-line").click()
    card = page.locator(f"#orders li.order[data-order='{order.id}']")
    await expect(card.locator(".order-value")).to_have_text("Value $2,471.00")  # 2 x $1,234.50 + 8 x $0.25
    await check_screen(page, "reorder-edit")
    await card.locator(".edit-lines summary").click()
    await card.locator(".line-form").nth(0).locator("button.remove-line").click()
    await page.locator("dialog button.btn-primary").click()  # yes, remove
    card = page.locator(f"#orders li.order[data-order='{order.id}']")
    await expect(card).to_contain_text("1 lines · 8 units")
    lines = await PurchaseOrderLine.select().where(PurchaseOrderLine.order == order.id)
    assert [(r["item"], r["packs"], float(r["unit_price"])) for r in lines] == [(gloves, 8, 0.25)]

    await card.locator("button.cancel-order").click()
    await page.locator("dialog input").fill("Ordered by phone instead")
    await page.locator("dialog button[type=submit]").click()
    await expect(page.locator(f"#orders li.order[data-order='{order.id}']")).to_have_count(0)
    row = await PurchaseOrder.select().where(PurchaseOrder.id == order.id).first()
    assert row is not None and (row["status"], row["cancel_reason"]) == (
        "cancelled",
        "Ordered by phone instead",
    )

    await page.click("#reorder-links a[href*=suppliers]")
    await expect(page.locator("#suppliers li.supplier")).to_have_text(re.compile("PHU"))
    await page.locator("form.supplier-form[data-supplier=new] input[name=name]").fill("MedSupply Co")
    await page.locator("form.supplier-form[data-supplier=new] input[name=email]").fill(
        "orders@medsupply.example"
    )
    await page.locator("form.supplier-form[data-supplier=new] button[type=submit]").click()
    await expect(page.locator("#suppliers li.supplier")).to_have_count(2)
    await page.locator("#suppliers li.supplier summary").first.click()
    first = page.locator("#suppliers li.supplier form").first
    await first.locator("input[name=phone]").fill("416-555-0100")
    await first.locator("button[type=submit]").click()
    await expect(page.locator("#suppliers li.supplier").first).to_contain_text("416-555-0100")
    await check_screen(page, "reorder-suppliers")

    await page.goto("/#/reorder?reports=1")
    await page.locator("#report-period input[name=from_date]").fill("2026-01-01")
    await page.locator("#report-period input[name=from_date]").dispatch_event("change")
    pdf = page.locator("#reports li[data-report=wastage] a[data-format=pdf]")
    href = await pdf.get_attribute("href")
    assert href is not None and "from_date=2026-01-01" in href and "lang=en" in href
    response = await page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    csv_link = await page.locator("#reports li[data-report=valuation] a[data-format=csv]").get_attribute(
        "href"
    )
    assert csv_link is not None and "from_date" not in csv_link  # the valuation is now, whatever the period
    text = await (await page.request.get(csv_link)).text()
    assert text.splitlines()[0] == "item,kind,lots,units,value_cad,unpriced_units"
    assert "Tdap vaccine,vaccine,2,6,7407.00,0" in text
    await check_screen(page, "reorder-reports")


async def test_receiving_by_camera_finds_the_line_and_receives(
    launch_browser: LaunchBrowser, live_server: str, tmp_path: Path
) -> None:
    site = await make_site("Maple Grove")
    await make_location(site, "Supply Room", LocationKind.SUPPLY_ROOM)
    gloves = await make_item(site, "Nitrile gloves", kind=ItemKind.SUPPLY, gtin=GLOVES, pack_qty=10)
    masks = await make_item(site, "Procedure masks", kind=ItemKind.SUPPLY)
    await Item.update({Item.default_supplier: "MedSupply Co"}).where(Item.id.is_in([gloves, masks]))
    await make_user("nurse", site_id=site, role=Role.ASSISTANT)
    drafts = await service.create_drafts(
        SYSTEM,
        site,
        DraftsIn(
            lines=[DraftLineIn(item_id=masks, packs=5), DraftLineIn(item_id=gloves, packs=3, unit_price=0.2)]
        ),
        now=utcnow(),
    )
    order = await service.send_order(SYSTEM, site, drafts.orders[0].id, now=utcnow())
    glove_line = next(ln for ln in order.lines if ln.item_id == gloves)

    image = gs1_datamatrix_image(f"(01){GLOVES}(17)301231(10)GL-9")
    assert [text for _, text in decode(image)] == [f"01{GLOVES}1730123110GL-9"]
    video = write_y4m(image, tmp_path / "gloves.y4m")
    browser = await launch_browser(FAKE_UI, FAKE_DEVICE, f"--use-file-for-fake-video-capture={video}")
    page = await (await phone_context(browser, live_server)).new_page()
    await sign_in(page, "nurse", "scan")
    await page.goto(f"/#/reorder?receive={order.id}")
    await page.locator("#receive-scanner .scanner-start").click()
    await expect(page.locator("#receive-found")).to_have_attribute(
        "data-line", str(glove_line.id), timeout=20_000
    )
    await expect(page.locator("#receive-found")).to_contain_text("Nitrile gloves: count the boxes")
    form = page.locator(f".receive-form[data-line='{glove_line.id}']")
    await expect(form.locator("input[name=scan]")).to_have_value(f"01{GLOVES}1730123110GL-9")
    await form.locator("button[type=submit]").click()
    await expect(page.locator(".outcome[data-outcome=sent]")).to_contain_text("10 received (lot GL-9).")
    await expect(page.locator("#order-status")).to_have_text("Partly received")
    (receipt,) = await OrderReceipt.select()
    assert receipt["units"] == 10 and float(receipt["unit_cost"]) == 0.2
    # After the redraw a single scanner listens (the old one let go of the camera and the keyboard).
    await expect(page.locator(".scanner")).to_have_count(1)


async def test_an_inspector_downloads_the_stock_reports_in_french(new_context: NewContext) -> None:
    site = await _clinic()
    await make_user("insp", site_id=site, role=Role.INSPECTOR)
    page: Page = await (await new_context(locale="fr-CA")).new_page()
    await sign_in(page, "insp", "logs")
    await page.click("#open-stock-reports")
    await page.wait_for_url("**/#/reorder?reports=1")
    await expect(page.locator("#reports li")).to_have_count(4)
    await expect(page.locator("#reports li[data-report=valuation] strong")).to_have_text(
        "Valeur du stock (maintenant)"
    )
    href = await page.locator("#reports li[data-report=valuation] a[data-format=pdf]").get_attribute("href")
    assert href is not None and "lang=fr" in href
    resp = await page.request.get(href)
    assert resp.ok and resp.headers["content-type"] == "application/pdf"
    await expect(page.locator("#reorder-form")).to_have_count(0)  # no ordering for inspectors
    await check_screen(page, "reorder-reports-inspector")
