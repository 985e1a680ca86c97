"""The Labels screen in a real Chromium: a manager goes from Places to Labels, previews, downloads the
PDF (whose barcodes decode to the places' codes), at 360 px with no serious axe finding, in French
too; an assistant has no way in and the API refuses them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

from server.core.rules import LocationKind, Role
from server.core.tables import Location
from tests.factories import PASSWORD, make_location, make_site, make_user
from tests.labels.decode import decode_pdf
from tests.web.conftest import PHONE, NewContext, screenshot_path

AXE = Path(__file__).resolve().parents[2] / "mobile_web" / "node_modules" / "axe-core" / "axe.min.js"


async def sign_in(page: Page, username: str, home: str) -> None:
    await page.goto("/")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**/#/{home}")
    await expect(page.locator(".screen-title")).to_be_visible()


async def check_screen(page: Page, name: str) -> None:
    await page.wait_for_load_state("networkidle")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width}px wide"
    await page.screenshot(path=screenshot_path(name), full_page=True)
    await page.evaluate(AXE.read_text(encoding="utf-8") + ";0")
    result: dict[str, Any] = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], name


async def test_a_manager_prints_place_labels_from_the_phone(new_context: NewContext) -> None:
    site = await make_site("Maple Grove")
    for name, kind in (("Vaccine Fridge", LocationKind.FRIDGE), ("Exam Room 1", LocationKind.ROOM)):
        await make_location(site, name, kind)
    await make_user("boss", site_id=site, role=Role.MANAGER)
    await make_user("nurse", site_id=site, role=Role.ASSISTANT)
    codes = sorted(r["label_code"] for r in await Location.select(Location.label_code))

    ctx = await new_context(accept_downloads=True)
    page = await ctx.new_page()
    await sign_in(page, "boss", "dashboard")
    await page.click("a.tab[href='#/places']")
    await page.click("#open-labels")
    await page.wait_for_url("**/#/labels")
    await expect(page.locator("#label-sources input[type=checkbox]:checked")).to_have_count(2)
    await page.click("#labels-preview")
    await expect(page.locator("#label-preview img")).to_be_visible()
    await check_screen(page, "labels-places")
    async with page.expect_download() as info:
        await page.click("#labels-download")
    download = await info.value
    pdf = Path(await download.path()).read_bytes()  # noqa: ASYNC240  (a small local file)
    assert sorted(f.text for f in decode_pdf(pdf, 150)) == codes

    await page.click("#lang-switch")
    await expect(page.locator(".screen-title")).to_have_text("Étiquettes")
    await page.click("[data-what=rooms]")
    await expect(page.locator("#label-sources li")).to_have_count(1)
    await check_screen(page, "labels-rooms-fr")
    await ctx.close()

    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "nurse", "scan")
    assert await page.locator("a.tab[href='#/places']").count() == 0
    await page.goto("/#/labels")
    await expect(page.locator(".error")).to_be_visible()
    await expect(page.locator("#label-sources")).to_have_count(0)
    await ctx.close()
