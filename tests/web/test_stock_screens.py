"""The stock screens in a real Chromium: receive and use by scan, offline use, counts, stock lists, lot
detail, recalls; French, axe-core and a 360 px phone on every new screen. Screenshots go to tests/_artifacts.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from server.clock import utcnow
from server.core.auth import SYSTEM
from server.core.rules import LocationKind, Role
from server.core.tables import ClientWrite
from server.stock import ledger
from server.stock.rules import ItemKind, LotStatus, MovementKind
from server.stock.schemas import UseIn
from server.stock.tables import Lot, Movement, StockLevel
from tests.factories import PASSWORD, make_location, make_site, make_user
from tests.stock.factories import make_item, receive
from tests.web.conftest import PHONE, NewContext, screenshot_path
from tests.web.test_app import wait_for_worker

AXE = Path(__file__).resolve().parents[2] / "mobile_web" / "node_modules" / "axe-core" / "axe.min.js"
FLU_GTIN = "09506000134352"  # a valid GTIN-14 (check digit 2)
GS = "\x1d"
RESULT = "#scan-result"


# --- helpers ------------------------------------------------------------------------------------------


async def clinic() -> dict[str, int]:
    site = await make_site("Maple Grove")
    fridge = await make_location(site, "Vaccine Fridge", kind=LocationKind.FRIDGE)
    room = await make_location(site, "Supply Room", kind=LocationKind.SUPPLY_ROOM)
    await make_user("nurse", site_id=site, role=Role.ASSISTANT)
    await make_user("boss", site_id=site, role=Role.MANAGER)
    flu = await make_item(site, "Influenza vaccine", gtin=FLU_GTIN)
    return {"site": site, "fridge": fridge, "room": room, "flu": flu}


async def sign_in(page: Page, username: str, home: str) -> None:
    await page.goto("/")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**/#/{home}")
    await expect(page.locator("input[name=password]")).to_have_count(0)  # the home screen is attached
    await expect(page.locator(".screen-title")).to_be_visible()


async def lot_id(number: str) -> int:
    row = await Lot.select(Lot.id).where(Lot.lot_number == number).first()
    assert row is not None, f"no lot {number}"
    return int(row["id"])


async def on_hand(number: str, location: int) -> int:
    row = await (
        StockLevel.select(StockLevel.on_hand)
        .where((StockLevel.lot == await lot_id(number)) & (StockLevel.location == location))
        .first()
    )
    return int(row["on_hand"]) if row else 0


async def check_screen(page: Page, name: str) -> None:
    """Fits 360 px, no serious or critical axe finding, and a screenshot for review."""
    await page.wait_for_load_state("networkidle")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width}px wide"
    await page.screenshot(path=screenshot_path(f"stock-{name}"), full_page=True)
    await page.evaluate(AXE.read_text(encoding="utf-8") + ";0")
    result: dict[str, Any] = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']}: {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], name


async def type_code(page: Page, raw: str) -> None:
    """Typed into the scanner's manual field, as printed under the barcode."""
    await page.fill(".scanner-manual-input", raw)
    await page.click(".scanner-manual-submit")


async def wedge(page: Page, text: str) -> None:
    """A handheld scanner's burst (8 ms a key, GS as Ctrl+], then Enter), stamped with its own timing."""
    events: list[dict[str, Any]] = []
    for ch in [*text, "\r"]:
        if ch == GS:
            ctrl = {"key": "Control", "code": "ControlLeft", "windowsVirtualKeyCode": 17}
            key = {"key": "]", "code": "BracketRight", "windowsVirtualKeyCode": 221, "modifiers": 2}
            events += [
                {"type": "rawKeyDown", **ctrl, "modifiers": 2},
                {"type": "keyDown", **key},
                {"type": "keyUp", **key},
                {"type": "keyUp", **ctrl},
            ]
            continue
        if ch == "\r":
            key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
        else:
            code = f"Digit{ch}" if ch.isdigit() else f"Key{ch.upper()}"
            key = {"key": ch, "code": code, "windowsVirtualKeyCode": ord(ch.upper())}
        events += [{"type": "keyDown", **key, "text": ch}, {"type": "keyUp", **key}]
    cdp = await page.context.new_cdp_session(page)
    # Stamped in the past: a stamp still in the future when Chromium handles the key could be
    # replaced by the handling time, and a busy machine would then split the burst.
    clock = time.time() - 2.0
    stamped = []
    for event in events:
        clock += 0.008 if event["type"] != "keyUp" else 0.003
        stamped.append({**event, "timestamp": clock})
    # Sent back to back (CDP keeps their order): no round trip per key on a busy machine.
    await asyncio.gather(*(cdp.send("Input.dispatchKeyEvent", e) for e in stamped))
    await cdp.detach()


async def scanned(page: Page, raw: str, kind: str) -> None:
    await expect(page.locator(RESULT)).to_have_attribute("data-raw", raw)
    await expect(page.locator(RESULT)).to_have_attribute("data-kind", kind)


# --- receive and use by scan ---------------------------------------------------------------------------


async def test_receive_by_scan_prefills_the_lot_and_lands_in_stock(page: Page) -> None:
    c = await clinic()
    await sign_in(page, "nurse", "scan")
    code = f"(01){FLU_GTIN}(17)301231(10)NEW42"
    await type_code(page, code)
    await scanned(page, code, "item")

    form = page.locator(".sheet-form[data-action=receive]")
    await expect(form).to_be_visible()  # a new lot of a known item: receiving is the next step
    await expect(form.locator("input[name=lot_number]")).to_have_value("NEW42")
    await expect(form.locator("input[name=expiry]")).to_have_value("2030-12-31")
    await expect(form.locator("select[name=location_id]")).to_have_value(str(c["fridge"]))  # a vaccine
    await form.locator("input[name=quantity]").fill("9")
    await form.get_by_role("button", name="One more").click()
    await check_screen(page, "receive-form")
    await form.get_by_role("button", name="Receive 10").click()

    await expect(page.locator(f"{RESULT} .outcome[data-outcome=sent]")).to_contain_text(
        "10 received into Vaccine Fridge"
    )
    assert await on_hand("NEW42", c["fridge"]) == 10
    lot = await Lot.select().where(Lot.lot_number == "NEW42").first()
    assert lot is not None and lot["expiry"] == date(2030, 12, 31) and lot["item"] == c["flu"]
    # The sheet is drawn again from the server: now a lot with 10 in the fridge.
    await expect(page.locator(RESULT)).to_have_attribute("data-kind", "lot")
    await expect(page.locator(f"{RESULT} .sheet-levels li[data-location='{c['fridge']}']")).to_contain_text(
        "10"
    )

    await page.click("a[href='#/stock']")
    row = page.locator("#stock-list .stock-lot[data-lot=NEW42]")
    await expect(row).to_contain_text("10")
    await expect(row).to_contain_text("Vaccine Fridge")
    await check_screen(page, "list")


async def test_use_by_scan_warns_fefo_and_blocks_a_recalled_lot(page: Page) -> None:
    c = await clinic()
    await receive(c["site"], c["flu"], c["fridge"], 3, lot="SOON", expiry=date(2029, 1, 31))
    await receive(c["site"], c["flu"], c["fridge"], 5, lot="LATER", expiry=date(2030, 6, 30))
    await receive(c["site"], c["flu"], c["fridge"], 4, lot="BAD", expiry=date(2030, 6, 30))
    await ledger.set_lot_status(
        SYSTEM, c["site"], await lot_id("BAD"), LotStatus.RECALLED, "Maker's recall", now=utcnow()
    )
    await sign_in(page, "nurse", "scan")
    await page.evaluate("document.activeElement.blur()")

    raw = f"01{FLU_GTIN}10LATER{GS}17300630"  # a handheld scanner, with a GS after the lot
    await wedge(page, raw)
    await scanned(page, raw, "lot")
    fefo = page.locator(f"{RESULT} .warning[data-code=fefo]")
    await expect(fefo).to_have_text("Use lot SOON first: it expires sooner (Jan 31, 2029).")
    use = page.locator(".sheet-form[data-action=use]")
    await expect(use).to_be_visible()  # a usable lot: Use is open, one tap from done
    await use.get_by_role("button", name="One more").click()
    await check_screen(page, "use-sheet")
    await use.get_by_role("button", name="Use 2").click()
    await expect(page.locator(f"{RESULT} .outcome[data-outcome=sent]")).to_contain_text(
        "2 used. 3 left there."
    )
    assert await on_hand("LATER", c["fridge"]) == 3
    assert await on_hand("SOON", c["fridge"]) == 3

    # Someone else takes 2 meanwhile: asking for the 3 the screen still shows is refused by the server,
    # said plainly, and nothing changes; the refused write can be discarded from here.
    await type_code(page, f"(01){FLU_GTIN}(10)LATER")
    await scanned(page, f"(01){FLU_GTIN}(10)LATER", "lot")
    await use.locator("input[name=quantity]").fill("7")
    await use.locator("input[name=quantity]").blur()
    await expect(use.locator("input[name=quantity]")).to_have_value("3")  # never more than is there
    await ledger.use(
        SYSTEM,
        c["site"],
        UseIn(lot_id=await lot_id("LATER"), location_id=c["fridge"], quantity=2),
        now=utcnow(),
    )
    await use.get_by_role("button", name="Use 3").click()
    await expect(page.locator(".outcome[data-outcome=rejected]")).to_contain_text("Not that many here")
    await expect(page.locator("#outbox-status")).to_have_attribute("data-rejected", "1")
    await page.get_by_role("button", name="Discard this change").click()
    await expect(page.locator("#outbox-status")).to_be_hidden()
    assert await on_hand("LATER", c["fridge"]) == 1

    # A recalled lot: Use is disabled, with the reason next to it.
    await type_code(page, f"(01){FLU_GTIN}(10)BAD")
    await scanned(page, f"(01){FLU_GTIN}(10)BAD", "lot")
    await expect(page.locator(f"{RESULT} button[data-action=use]")).to_be_disabled()
    await expect(page.locator(f"{RESULT} .blocked[data-action=use]")).to_have_text(
        "Use: This lot is recalled. Do not use it; set it aside for return."
    )
    await expect(page.locator(f"{RESULT} button[data-action=move]")).to_be_disabled()
    await expect(page.locator(f"{RESULT} button[data-action=waste]")).to_be_enabled()
    await expect(page.locator(".sheet-form[data-action=use]")).to_have_count(0)
    await check_screen(page, "recalled-sheet")
    uses = await Movement.count().where(Movement.kind == MovementKind.USE.value)
    assert uses == 2  # the nurse's 2 and the other person's 2; the refused 3 never landed


async def test_offline_use_waits_in_the_outbox_and_lands_once(new_context: NewContext) -> None:
    c = await clinic()
    await receive(c["site"], c["flu"], c["fridge"], 5, lot="LATER", expiry=date(2030, 6, 30))
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "nurse", "scan")
    code = f"(01){FLU_GTIN}(17)300630(10)LATER"
    await type_code(page, code)  # online once: the phone remembers what this code is
    await scanned(page, code, "lot")

    # The shell is cached once the worker controls the page; going offline earlier races its install.
    await wait_for_worker(page)
    await ctx.set_offline(True)
    await page.reload()  # from the service worker's cache
    await expect(page.locator(".scanner-manual-input")).to_be_visible()
    await type_code(page, code)
    await scanned(page, code, "lot")
    await expect(page.locator(f"{RESULT} .notice-info").first).to_contain_text("Offline")
    await page.locator(".sheet-form[data-action=use]").get_by_role("button", name="Use 1").click()
    await expect(page.locator(".outcome[data-outcome=queued]")).to_contain_text("Saved on this phone")
    await expect(page.locator("#outbox-status")).to_have_text("1 waiting to send")
    assert await on_hand("LATER", c["fridge"]) == 5

    await ctx.set_offline(False)
    await expect(page.locator("#outbox-status")).to_be_hidden(timeout=15_000)
    assert await on_hand("LATER", c["fridge"]) == 4
    assert await Movement.count().where(Movement.kind == MovementKind.USE.value) == 1
    assert await ClientWrite.count() == 1


# --- counts -----------------------------------------------------------------------------------------


async def test_count_with_stepper_and_scan_then_the_manager_posts_it(page: Page) -> None:
    c = await clinic()
    await receive(c["site"], c["flu"], c["fridge"], 5, lot="AAA", expiry=date(2029, 5, 31))
    await receive(c["site"], c["flu"], c["fridge"], 3, lot="BBB", expiry=date(2030, 5, 31))
    a, b = await lot_id("AAA"), await lot_id("BBB")
    await sign_in(page, "boss", "dashboard")
    await page.click("a[href='#/stock']")
    await page.get_by_role("link", name="Counts").click()
    await page.get_by_label("Place to count").select_option(str(c["fridge"]))
    await page.get_by_role("button", name="Start counting").click()
    await page.wait_for_url("**/#/count?id=*")
    await expect(page.locator(".count-line")).to_have_count(2)

    await page.fill(f"input[name=counted-{a}]", "4")
    await page.locator(f".count-line[data-lot-id='{b}'] .count-same").click()
    await expect(page.locator(f".count-line[data-lot-id='{a}']")).to_have_attribute("data-state", "saved")
    await expect(page.locator(f".count-line[data-lot-id='{b}']")).to_have_attribute("data-state", "saved")
    await type_code(page, f"(01){FLU_GTIN}(10)BBB")  # one more box of BBB turns up on the shelf
    await expect(page.locator(f"input[name=counted-{b}]")).to_have_value("4")
    await expect(page.locator(f".count-line[data-lot-id='{b}']")).to_have_attribute("data-state", "saved")

    review = page.locator("#count-review")
    await expect(review.locator(f".review-line[data-lot-id='{a}']")).to_contain_text("1 fewer than on record")
    await expect(review.locator(f".review-line[data-lot-id='{b}']")).to_contain_text("1 more than on record")
    await review.locator(f".review-line[data-lot-id='{b}'] select").select_option("found")
    await check_screen(page, "count")
    assert await on_hand("AAA", c["fridge"]) == 5  # nothing moves before the post

    await page.click("#post-count")
    await page.get_by_role("button", name="Yes").click()
    await expect(page.locator(".count-head [data-status=posted]")).to_be_visible()
    await expect(page.locator(".outcome[data-outcome=sent]")).to_contain_text("Count posted: 2 corrected.")
    assert await on_hand("AAA", c["fridge"]) == 4
    assert await on_hand("BBB", c["fridge"]) == 4
    adjusts = await Movement.select(Movement.lot, Movement.quantity, Movement.reason).where(
        Movement.kind == MovementKind.ADJUST.value
    )
    assert sorted((r["lot"], r["quantity"], r["reason"]) for r in adjusts) == sorted(
        [(a, -1, "count"), (b, 1, "found")]
    )


# --- stock lists, lot detail, recalls, French ----------------------------------------------------------


async def test_stock_expiring_lot_history_and_recall_screens(new_context: NewContext) -> None:
    c = await clinic()
    today = utcnow().date()
    gloves = await make_item(c["site"], "Nitrile gloves (box of 100)", kind=ItemKind.SUPPLY)
    await receive(c["site"], c["flu"], c["fridge"], 3, lot="SOON", expiry=today + timedelta(days=20))
    await receive(c["site"], c["flu"], c["fridge"], 5, lot="LATER", expiry=date(2030, 6, 30))
    await receive(c["site"], c["flu"], c["fridge"], 1, lot="OLD", expiry=today - timedelta(days=10))
    await receive(c["site"], gloves, c["room"], 12, lot="G1", expiry=None)
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "boss", "dashboard")

    await page.click("a[href='#/stock']")
    items = page.locator("#stock-list .stock-item")
    await expect(items).to_have_count(2)
    await check_screen(page, "on-hand")
    await page.get_by_label("Search by name or lot").fill("glov")
    await expect(items).to_have_count(1)
    await expect(items.first).to_contain_text("12")
    await page.get_by_label("Search by name or lot").fill("")
    await page.get_by_label("Place", exact=True).select_option(str(c["fridge"]))
    await expect(items).to_have_count(1)
    await expect(page.locator("#stock-list .stock-lot")).to_have_count(3)

    await page.click("[data-tab=expiring]")
    await expect(page.locator("[data-group=expired] .stock-lot[data-lot=OLD]")).to_be_visible()
    await expect(page.locator("[data-group=soon] .stock-lot[data-lot=SOON]")).to_contain_text("in 20 days")
    await expect(page.locator(".stock-lot[data-lot=LATER]")).to_have_count(0)
    await check_screen(page, "expiring")

    await page.locator(".stock-lot[data-lot=SOON] a").click()
    await page.wait_for_url("**/#/lot?id=*")
    await expect(page.locator(".screen-title")).to_have_text("Influenza vaccine")
    await expect(page.locator("#history .history-item[data-kind=receive]")).to_contain_text("+3")
    await page.locator(".sheet-form[data-action=use]").get_by_role("button", name="Use 1").click()
    await expect(page.locator("#history .history-item[data-kind=use]")).to_contain_text("−1")  # noqa: RUF001  (the page shows a real minus sign)
    await expect(page.locator("#lot-levels")).to_contain_text("2 on hand")
    await check_screen(page, "lot")

    await page.goto("/#/recall")
    await page.get_by_label("Product").fill("influ")
    await page.locator(".pick", has_text="Influenza vaccine").click()
    await page.get_by_label("Lot numbers").fill("LATER, NOPE")
    await page.get_by_label("What the notice says").fill("Manufacturer recall: low potency in these lots.")
    await check_screen(page, "recall-form")
    await page.get_by_role("button", name="Enter the recall").click()
    await page.wait_for_url("**/#/recall?id=*")
    located = page.locator(".recalled-lot[data-lot=LATER]")
    await expect(located).to_contain_text("Vaccine Fridge")
    await expect(located).to_contain_text("5 on hand")
    await expect(page.locator("#recall-not-found")).to_contain_text("NOPE")
    lot = await Lot.select(Lot.status).where(Lot.lot_number == "LATER").first()
    assert lot is not None and lot["status"] == LotStatus.RECALLED.value
    await check_screen(page, "recall")

    # French: the same screens speak it, dates included.
    fr = await (await new_context(locale="fr-CA")).new_page()
    await sign_in(fr, "boss", "dashboard")
    await fr.goto("/#/stock?tab=expiring")
    await expect(fr.locator(".screen-title")).to_have_text("Stocks")
    await expect(fr.locator("[data-tab=expiring]")).to_have_text("Expire bientôt")
    await expect(fr.locator("[data-group=expired] h2")).to_have_text(
        "Expirés : ne pas utiliser, inscrire en perte"
    )
    await expect(fr.locator(".stock-lot[data-lot=SOON]")).to_contain_text("dans 20 jours")
    await check_screen(fr, "expiring-fr")
