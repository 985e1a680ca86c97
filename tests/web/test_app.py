"""The web client in a real browser: sign-in per role, phone layout, offline outbox, French, accessibility."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, expect

from server.core.rules import LocationKind, Role
from server.core.tables import ClientWrite, Location
from tests.factories import PASSWORD, make_location, make_site, make_user
from tests.web.conftest import NewContext, screenshot_path

AXE = Path(__file__).resolve().parents[2] / "mobile_web" / "node_modules" / "axe-core" / "axe.min.js"
HOMES = {"assistant": "scan", "manager": "dashboard", "inspector": "logs", "admin": "admin"}


async def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    await page.goto("/")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")


async def people() -> int:
    site = await make_site("Maple Grove")
    await make_location(site, "Exam Room 1")
    await make_location(site, "Vaccine Fridge", kind=LocationKind.FRIDGE)
    for role in Role:
        await make_user(role.value, site_id=site, role=role)
    return site


async def no_horizontal_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width}px wide"


async def axe_violations(page: Page) -> list[str]:
    """Serious and critical axe-core findings, as 'rule: selectors' lines."""
    # evaluate() runs outside the page's CSP, so axe needs no inline <script>.
    await page.evaluate(AXE.read_text(encoding="utf-8") + ";0")
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("role", list(HOMES))
async def test_each_role_lands_on_its_home_and_signs_out(page: Page, role: str) -> None:
    await people()
    await sign_in(page, role)
    await expect(page).to_have_url(f"{page.url.split('#')[0].rstrip('/')}/#/{HOMES[role]}", timeout=10_000)
    await expect(page.locator(".screen-title")).to_be_visible()
    await no_horizontal_scroll(page)
    await page.screenshot(path=screenshot_path(f"home-{role}"), full_page=True)
    assert await axe_violations(page) == []
    await page.click("a[href='#/account']")
    await page.click("#sign-out")
    await expect(page.locator("input[name=username]")).to_be_visible()
    me = await page.evaluate("fetch('/api/me').then(r => r.status)")
    assert me == 401


async def test_wrong_password_is_explained(page: Page) -> None:
    await people()
    await sign_in(page, "assistant", "not-the-password")
    await expect(page.locator("p.error[role=alert]")).to_have_text("The username or password is wrong.")


async def test_french_follows_the_browser(new_context: NewContext) -> None:
    await people()
    ctx = await new_context(locale="fr-CA")
    page = await ctx.new_page()
    await page.goto("/")
    await expect(page.locator("h1")).to_have_text("Connexion")
    await sign_in(page, "manager", "wrong-password-here")
    await expect(page.locator("p.error[role=alert]")).to_contain_text("mot de passe est incorrect")
    await sign_in(page, "manager")
    await expect(page.locator(".screen-title")).to_have_text("Tableau de bord")
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await page.screenshot(path=screenshot_path("dashboard-fr"), full_page=True)
    await page.click("#lang-switch")
    await expect(page.locator(".screen-title")).to_have_text("Dashboard")


async def test_every_main_screen_fits_a_phone_and_passes_axe(page: Page) -> None:
    await people()
    await sign_in(page, "admin")
    await expect(page.locator("#people")).to_be_visible()
    for screen in ("admin", "places", "logs", "account", "dashboard", "scan", "tasks", "outbox"):
        await page.goto(f"/#/{screen}")
        await expect(page.locator(".screen-title")).to_be_visible()
        await page.wait_for_load_state("networkidle")
        await no_horizontal_scroll(page)
        await page.screenshot(path=screenshot_path(f"screen-{screen}"), full_page=True)
        assert await axe_violations(page) == [], screen


async def wait_for_worker(page: Page) -> None:
    """Until the service worker (its shell cached) controls the page. Polled from Python: the page's
    CSP forbids the eval that wait_for_function's polling uses."""
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    for _ in range(150):
        if await page.evaluate("navigator.serviceWorker.controller !== null"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the service worker never took control of the page")


async def test_a_page_loaded_past_the_worker_asks_it_to_take_control(new_context: NewContext) -> None:
    """A page the worker did not claim (loaded while it activated; here a reload that bypasses it,
    as Shift+reload does) asks for control, so it works offline without another load."""
    await people()
    ctx: BrowserContext = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "manager")
    await expect(page.locator(".screen-title")).to_have_text("Dashboard")
    await wait_for_worker(page)
    cdp = await ctx.new_cdp_session(page)
    await cdp.send("Page.reload", {"ignoreCache": True})  # a forced reload skips the worker
    await expect(page.locator(".screen-title")).to_have_text("Dashboard")
    await wait_for_worker(page)  # within 15 s; without asking it stayed uncontrolled
    await ctx.set_offline(True)
    await page.goto("/#/places")
    await expect(page.locator("#add-place")).to_be_visible()
    await ctx.close()


async def test_offline_writes_wait_survive_a_reload_and_land_exactly_once(new_context: NewContext) -> None:
    site = await people()
    ctx: BrowserContext = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "manager")
    await expect(page.locator(".screen-title")).to_have_text("Dashboard")
    await page.reload()
    await wait_for_worker(page)
    await page.goto("/#/places")
    await expect(page.locator("#add-place")).to_be_visible()
    await ctx.set_offline(True)
    for name in ("Cabinet A", "Cabinet B", "Freezer 2"):
        await page.fill("#add-place input[name=name]", name)
        await page.click("#add-place button[type=submit]")
        await expect(page.locator(f"#places li.pending[data-name='{name}']")).to_be_visible()
    await expect(page.locator("#outbox-status")).to_have_text("3 waiting to send")
    await page.reload()  # from the service worker's cache, with no network
    await expect(page.locator("#outbox-status")).to_have_text("3 waiting to send")
    await page.close()  # closing the tab keeps them too
    page = await ctx.new_page()
    await page.goto("/#/places")
    await expect(page.locator("#outbox-status")).to_have_text("3 waiting to send")
    await expect(page.locator("#connection")).to_be_visible()
    assert await Location.count().where(Location.site == site) == 2
    await ctx.set_offline(False)
    await expect(page.locator("#outbox-status")).to_be_hidden(timeout=15_000)
    names = sorted(r["name"] for r in await Location.select(Location.name).where(Location.site == site))
    assert names == ["Cabinet A", "Cabinet B", "Exam Room 1", "Freezer 2", "Vaccine Fridge"]
    assert await ClientWrite.count() == 3
    await expect(page.locator("#places li:not(.pending)[data-name='Freezer 2']")).to_be_visible()


async def test_a_refused_write_comes_back_to_the_user(new_context: NewContext) -> None:
    await people()
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "manager")
    await expect(page.locator(".screen-title")).to_have_text("Dashboard")
    await page.goto("/#/places")
    # The screen must be on the page before the network goes: this test is about the refusal.
    await expect(page.locator("#places li[data-name='Exam Room 1']")).to_be_visible()
    await ctx.set_offline(True)
    await page.fill("#add-place input[name=name]", "Exam Room 1")  # already exists: the server refuses
    await page.click("#add-place button[type=submit]")
    await ctx.set_offline(False)
    await expect(page.locator("#outbox-status")).to_have_text("1 not accepted: tap to fix", timeout=15_000)
    await page.click("#outbox-status")
    item = page.locator("#outbox-items li")
    await expect(item).to_contain_text("A place with that name already exists here.")
    await item.locator("button", has_text="Discard").click()
    await page.locator("dialog button", has_text="Yes").click()
    await expect(page.locator("#outbox-items")).to_contain_text("Everything has been sent.")
    await expect(page.locator("#outbox-status")).to_be_hidden()


async def test_site_switcher_and_password_reset_by_an_admin(page: Page) -> None:
    site = await people()
    other = await make_site("Lakeside Clinic")
    await make_user("both", site_id=site, role=Role.ADMIN)
    from server.clock import utcnow
    from server.core import service
    from server.core.auth import SYSTEM
    from server.core.schemas import MemberAdd

    await service.add_member(SYSTEM, other, MemberAdd(username="both", role=Role.INSPECTOR), now=utcnow())
    await sign_in(page, "both")
    await expect(page.locator(".screen-title")).to_have_text("Logs")  # Lakeside comes first: inspector there
    switcher = page.locator("#site-switcher")
    await expect(switcher).to_be_visible()
    await switcher.select_option(label="Maple Grove")
    await expect(page.locator(".screen-title")).to_have_text("Admin")
    await expect(page.locator(".brand")).to_have_text("clinitrack")
    person = page.locator("#people li[data-username='assistant']")
    await person.locator("button", has_text="Reset password").click()
    await page.locator("dialog input").fill("a-fresh-password")
    await page.locator("dialog button[type=submit]").click()
    await expect(page.locator("#toast")).to_contain_text("New password set")
    await page.click("a[href='#/account']")
    await page.click("#sign-out")
    await expect(page.locator("input[name=username]")).to_be_visible()
    await sign_in(page, "assistant", "a-fresh-password")
    await expect(page.locator(".screen-title")).to_have_text("Scan")


async def test_the_shell_is_installable(page: Page) -> None:
    manifest = json.loads(await (await page.request.get("/manifest.webmanifest")).text())
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    assert any(icon["sizes"] == "512x512" for icon in manifest["icons"])
    sw = await page.request.get("/sw.js")
    assert sw.ok and "__SHELL_VERSION__" not in await sw.text()


async def test_english_and_french_have_the_same_strings(page: Page) -> None:
    await page.goto("/")
    missing = await page.evaluate(
        """async () => {
            const { STRINGS } = await import('/js/strings.js');
            const en = Object.keys(STRINGS.en), fr = Object.keys(STRINGS.fr);
            return { fr: en.filter(k => !fr.includes(k)), en: fr.filter(k => !en.includes(k)),
                     same: en.filter(k => STRINGS.en[k] === STRINGS.fr[k] && STRINGS.en[k].length > 8) };
        }"""
    )
    assert missing["fr"] == [] and missing["en"] == []
    assert missing["same"] == [], "untranslated strings"


async def test_a_roles_screens_open_offline_after_the_first_visit(new_context: NewContext) -> None:
    await people()
    ctx: BrowserContext = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "assistant")
    await expect(page.locator(".screen-title")).to_have_text("Scan")
    # Past the shell, the assistant's screens are loaded once the worker controls the page.
    await expect(page.locator("html[data-screens-cached]")).to_have_count(1, timeout=30_000)
    await ctx.set_offline(True)
    await page.reload()
    await expect(page.locator(".screen-title")).to_have_text("Scan")
    await page.goto("/#/alerts")  # never opened online
    await expect(page.locator(".screen-title")).to_have_text("Alerts")
    modules = ["cleaning", "cleaning-log", "fridge", "reprocessing", "loads", "equipment", "lot", "count"]
    loaded = await page.evaluate(
        "(names) => Promise.all(names.map((n) => import(`/js/views/${n}.js`).then(() => true, () => false)))",
        modules,
    )
    assert dict(zip(modules, loaded, strict=True)) == dict.fromkeys(modules, True)
