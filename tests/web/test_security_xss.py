"""Stored XSS (ASVS v5.3.3): markup one person types (an item name, a place name, a cleaning plan name
and note) is shown to another as text, and no script runs, in a real Chromium.

The client builds every screen with createElement/textContent (js/ui.js `h`); mobile_web/js has no
innerHTML, insertAdjacentHTML, outerHTML or document.write. This test is the check that stays true.
"""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect

from server.cleaning import plans, service
from server.cleaning.rules import PlanKind
from server.cleaning.schemas import ItemIn, LogCreate, PlanCreate
from server.clock import utcnow
from server.core.auth import SYSTEM
from server.core.rules import LocationKind, Role
from tests.factories import make_location, make_site, make_user
from tests.stock.factories import make_item, receive
from tests.web.conftest import NewContext
from tests.web.test_stock_screens import sign_in

HOOK = "window.__xss=(window.__xss||0)+1"
PAYLOADS = {
    "item": f'Gloves <img src=x onerror="{HOOK}">',
    "place": f"Room <svg onload='{HOOK}'></svg>",
    "plan": f"Daily <script>{HOOK}</script>",
    "note": f'Wiped "><img src=x onerror={HOOK}> ok',
}
# Counts CSP refusals too: a payload reaching the DOM as markup would show up here even though the
# policy stops it.
WATCH = """
window.__csp = 0;
document.addEventListener('securitypolicyviolation', () => { window.__csp += 1; });
"""


async def _clinic() -> dict[str, int]:
    site = await make_site("Maple Grove")
    room = await make_location(site, PAYLOADS["place"], kind=LocationKind.ROOM)
    supply = await make_location(site, "Supply Room", kind=LocationKind.SUPPLY_ROOM)
    item = await make_item(site, PAYLOADS["item"])
    await receive(site, item, supply, 10)
    plan = await plans.create_plan(
        SYSTEM, site, PlanCreate(room_id=room, kind=PlanKind.DAILY, name=PAYLOADS["plan"], items=["Table"]),
        now=utcnow() - timedelta(days=1),
    )  # fmt: skip
    ended = utcnow() - timedelta(hours=1)
    await service.complete(
        SYSTEM, site,
        LogCreate(
            plan_id=plan.id, version=plan.version, started_at=ended - timedelta(minutes=5), ended_at=ended,
            items=[ItemIn(position=0, done=True)], note=PAYLOADS["note"],
        ),
        now=ended,
    )  # fmt: skip
    await make_user("boss", site_id=site, role=Role.MANAGER)
    await make_user("auditor", site_id=site, role=Role.INSPECTOR)
    return {"site": site}


async def _shown_as_text(page: Page, *texts: str) -> None:
    for text in texts:
        await expect(page.get_by_text(text, exact=False).filter(visible=True).first).to_be_visible()
    assert await page.locator("img[src=x], main svg[onload], main script").count() == 0
    assert await page.evaluate("window.__xss") is None
    assert await page.evaluate("window.__csp") == 0


async def test_markup_typed_by_one_user_is_text_for_another(new_context: NewContext) -> None:
    await _clinic()
    ctx = await new_context()
    await ctx.add_init_script(WATCH)
    page = await ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))

    await sign_in(page, "boss", "dashboard")
    await page.goto("/#/stock")
    await _shown_as_text(page, PAYLOADS["item"])
    await page.goto("/#/places")
    await _shown_as_text(page, PAYLOADS["place"])

    inspector = await (await new_context()).new_page()
    await inspector.context.add_init_script(WATCH)
    await sign_in(inspector, "auditor", "logs")
    await inspector.goto("/#/cleaning-records")
    await inspector.reload()  # the init script runs on this load
    await _shown_as_text(inspector, PAYLOADS["note"], PAYLOADS["plan"])
    assert dialogs == []
