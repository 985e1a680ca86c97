"""The reordering numbers on the manager's dashboard in Chromium: tiles and bars, EN and FR, 360 px."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect

from server.clock import utcnow
from server.core.auth import SYSTEM
from server.core.rules import LocationKind, Role
from server.stock import ledger
from server.stock.rules import WasteReason
from server.stock.schemas import WasteIn
from server.stock.tables import Item
from tests.factories import make_location, make_site, make_user
from tests.stock.factories import make_item, receive
from tests.web.conftest import NewContext
from tests.web.test_stock_screens import check_screen, sign_in


async def _clinic() -> int:
    site = await make_site("Maple Grove")
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    tdap = await make_item(site, "Tdap vaccine")
    await Item.update({Item.par_level: 20, Item.reorder_point: 10, Item.default_supplier: "PHU"}).where(
        Item.id == tdap
    )
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
    await expect(bars.nth(0)).to_contain_text("3 units in 1 lot")
    await expect(bars.nth(2)).to_contain_text("6 units in 2 lots")
    await expect(section.locator("#reorder-wastage li")).to_have_text(["Broken1 unit"])
    await expect(section.locator("#reorder-orders .tile-note")).to_have_text("No open orders.")
    await check_screen(page, "reorder-dashboard")

    page = await (await new_context(locale="fr-CA")).new_page()
    await sign_in(page, "boss", "dashboard")
    section = page.locator("#reorder-numbers")
    await expect(section.locator("h2")).to_have_text("Stock et commandes")
    await expect(section.locator("#reorder-expiring li").nth(0)).to_contain_text("D’ici 30 jours")
    await expect(section.locator("#reorder-wastage li")).to_have_text(["Brisé1 unité"])
