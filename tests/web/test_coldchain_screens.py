"""Cold chain in a real Chromium: scan a fridge's label, record a reading (out of range: the lots are
held at once), offline readings land once, the manager's incident steps, due readings in My tasks,
French; a 360 px phone and axe on the new screens. Screenshots go to tests/_artifacts."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from server.clock import utcnow
from server.coldchain import readings
from server.coldchain.schemas import ScheduleIn
from server.coldchain.tables import ColdChainIncident, TemperatureReading
from server.core.auth import SYSTEM
from server.core.rules import LocationKind, Role
from server.core.tables import Location
from server.stock.tables import Lot, Movement
from tests.factories import make_location, make_site, make_user
from tests.stock.factories import make_item, receive
from tests.web.conftest import NewContext
from tests.web.test_stock_screens import RESULT, check_screen, sign_in, type_code


async def clinic() -> dict[str, Any]:
    site = await make_site("Maple Grove")
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    flu = await make_item(site, "Influenza vaccine")
    lot = (await receive(site, flu, fridge, 10, lot="FLU1")).lot.id
    await make_user("nurse", site_id=site, role=Role.ASSISTANT)
    await make_user("boss", site_id=site, role=Role.MANAGER)
    row = await Location.select(Location.label_code).where(Location.id == fridge).first()
    assert row is not None
    return {"site": site, "fridge": fridge, "lot": lot, "code": row["label_code"]}


async def fill_reading(page: Page, current: str, low: str, high: str) -> None:
    await page.fill("#cc-form input[name=current]", current)
    await page.fill("#cc-form input[name=min]", low)
    await page.fill("#cc-form input[name=max]", high)
    await page.fill("#cc-form input[name=initials]", "NB")


async def lot_status(lot: int) -> str:
    row = await Lot.select(Lot.status).where(Lot.id == lot).first()
    assert row is not None
    return str(row["status"])


async def test_scan_the_fridge_record_readings_and_an_excursion_holds_the_vaccine(
    new_context: NewContext,
) -> None:
    c = await clinic()
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "nurse", "scan")
    await type_code(page, str(c["code"]))
    await expect(page.locator(RESULT)).to_have_attribute("data-kind", "fridge")
    await page.click("#open-fridge")
    await page.wait_for_url(f"**/#/fridge?id={c['fridge']}")
    await expect(page.locator("#cc-range")).to_have_text("Range 2.0 to 8.0 °C")
    await expect(page.locator("#cc-last")).to_have_text("No reading yet.")
    # Caught on the phone, nothing sent.
    await fill_reading(page, "5.0", "6.0", "7.0")
    await page.click("#cc-save")
    await expect(page.locator("#cc-form .field-error")).to_have_text(
        "Min must be at or below current, and max at or above it."
    )
    await fill_reading(page, "4.6", "3.9", "6.2")
    await check_screen(page, "coldchain-reading")
    await page.click("#cc-save")
    await expect(page.locator(".outcome[data-outcome=sent]")).to_have_text("Reading saved. In range.")
    await expect(page.locator("#cc-last")).to_contain_text("4.6 °C (min 3.9, max 6.2)")
    assert await lot_status(c["lot"]) == "available"

    # Offline and out of range: flagged at once on the phone; it lands once, and holds the lot.
    await ctx.set_offline(True)
    await fill_reading(page, "8.4", "4.0", "9.1")
    await page.click("#cc-save")
    await expect(page.locator("dialog")).to_contain_text("Is the reading right?")
    await page.get_by_role("button", name="Yes").click()
    await expect(page.locator(".outcome[data-outcome=queued]")).to_be_visible()
    await expect(page.locator("#cc-alert")).to_contain_text("DO NOT USE")
    assert await TemperatureReading.count() == 1
    await ctx.set_offline(False)
    await expect(page.locator("#outbox-status")).to_be_hidden(timeout=20_000)
    assert await TemperatureReading.count() == 2 and await ColdChainIncident.count() == 1
    assert await lot_status(c["lot"]) == "quarantined"
    await page.reload()
    await expect(page.locator("#cc-incident")).to_contain_text("DO NOT USE")
    await expect(page.locator(".cc-chart")).to_be_visible()
    await check_screen(page, "coldchain-fridge-incident")


async def test_the_manager_runs_the_incident_to_its_close(new_context: NewContext) -> None:
    c = await clinic()
    for current, low, high in ((9.5, 4.0, 9.5), (5.0, 4.0, 5.5)):
        from server.coldchain.schemas import ReadingIn

        await readings.record_reading(
            SYSTEM, c["site"], c["fridge"], ReadingIn(current=current, min=low, max=high), now=utcnow()
        )
    incident = await ColdChainIncident.select(ColdChainIncident.id).first()
    assert incident is not None
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "boss", "dashboard")
    await page.click("#open-coldchain")
    await expect(page.locator("#cc-fridges .badge-alert")).to_have_text(f"Incident #{incident['id']}")
    await page.click("#cc-incidents")
    await page.locator("#cc-incident-list a").first.click()
    await expect(page.locator(".screen-title")).to_have_text(f"Incident #{incident['id']}")
    await expect(page.locator("#cc-facts")).to_contain_text("Lowest 4.0 °C, highest 9.5 °C")
    await check_screen(page, "coldchain-incident")
    await page.fill("#cc-phu input[name=contact]", "Public health, J. Smith, case 77")
    await page.click("#cc-phu button")
    await expect(page.locator("#cc-phu-done")).to_contain_text("J. Smith, case 77")
    await page.click("#cc-logs")
    await expect(page.locator("#cc-logs")).to_have_count(0)
    lot = page.locator(f".cc-lot[data-lot='{c['lot']}']")
    await lot.locator("[data-decision=discarded]").click()
    await page.get_by_role("button", name="Yes").click()
    await expect(lot).to_have_attribute("data-decision", "discarded")
    waste = await Movement.select().where(Movement.kind == "waste").first()
    assert waste is not None and (waste["reason"], waste["quantity"]) == ("cold_chain", -10)
    await page.fill("#cc-close textarea", "Public health: discard all. Fridge serviced.")
    await page.click("#cc-close button")
    await expect(page.locator("#cc-summary")).to_have_text("Public health: discard all. Fridge serviced.")
    await expect(page.locator("#cc-facts [data-status]")).to_have_text("Closed")


async def test_my_tasks_lists_overdue_readings_in_french(new_context: NewContext) -> None:
    c = await clinic()
    # Due at local midnight with no grace: overdue all day.
    await readings.set_schedule(SYSTEM, c["site"], ScheduleIn(times="00:00", grace_minutes=0), now=utcnow())
    ctx = await new_context(locale="fr-CA")
    page = await ctx.new_page()
    await sign_in(page, "nurse", "scan")
    await page.click("a[href='#/tasks']")
    task = page.locator(f"#cc-tasks .cc-task[data-location='{c['fridge']}']")
    await expect(task).to_contain_text("Vaccine Fridge: Lecture de 00:00")
    await expect(task.locator(".badge")).to_have_text("En retard")
    await check_screen(page, "coldchain-tasks-fr")
    await task.get_by_role("link").click()
    await expect(page.locator("#cc-save")).to_have_text("Enregistrer la lecture")
    await check_screen(page, "coldchain-reading-fr")


async def test_inspectors_read_the_log_without_a_form(new_context: NewContext) -> None:
    c = await clinic()
    await make_user("ines", site_id=c["site"], role=Role.INSPECTOR)
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "ines", "logs")
    await page.click("#open-coldchain")
    await page.locator("#cc-fridges a").first.click()
    await page.wait_for_url(f"**/#/fridge?id={c['fridge']}")
    await expect(page.locator("#cc-range")).to_be_visible()
    await expect(page.locator(".cc-chart")).to_be_visible()
    await expect(page.locator("#cc-form")).to_have_count(0)
    await check_screen(page, "coldchain-inspector")


LOGGER = (
    "timestamp,temperature\n"
    "2026-03-01 10:00,4.5\n"
    "2026-03-01 10:10,4.6\n"
    "2026-03-01 10:10,4.6\n"
    "2026-03-01 10:20,oops\n"
    "2026-03-01 11:20,5.1\n"
)


async def test_import_a_logger_file_after_seeing_what_it_holds_and_set_the_schedule(
    new_context: NewContext,
) -> None:
    from server.coldchain.tables import ClosedDay, ReadingSchedule

    c = await clinic()
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "boss", "dashboard")
    await page.goto(f"/#/fridge?id={c['fridge']}")
    await page.click("#cc-import summary")
    await page.set_input_files(
        "#cc-import input[type=file]",
        files=[{"name": "logger.csv", "mimeType": "text/csv", "buffer": LOGGER.encode()}],
    )
    report = page.locator("#cc-import-report")
    await expect(report).to_contain_text("3 readings in the file, 3 new.")
    await expect(report).to_contain_text("Bad rows: 1. Repeated times: 1. Gaps: 1. Out of range: 0.")
    await expect(report).to_contain_text("Row 5: 'oops' is not a temperature")
    assert await TemperatureReading.count() == 0  # the preview imports nothing
    await check_screen(page, "coldchain-import")
    await page.click("#cc-import-go")
    await expect(page.locator("#cc-last")).to_contain_text("5.1 °C")
    assert await TemperatureReading.count() == 3

    await page.goto("/#/coldchain")
    await page.click("#cc-settings summary")
    await page.fill("#cc-schedule input[name=times]", "16:30, 8:15")
    await page.fill("#cc-schedule input[name=grace_minutes]", "45")
    await page.click("#cc-schedule button")
    # Saved and shown again as the service keeps it, the panel still open.
    await expect(page.locator("#cc-schedule input[name=times]")).to_have_value("08:15, 16:30")
    await expect(page.locator("#cc-closed input[name=day]")).to_be_visible()
    await page.fill("#cc-closed input[name=day]", "2026-12-25")
    await page.click("#cc-closed button")
    await expect(page.locator("#toast")).to_have_text("Saved.")
    await check_screen(page, "coldchain-settings")
    sched = await ReadingSchedule.select().first()
    assert sched is not None and (sched["times"], sched["grace_minutes"]) == ("08:15,16:30", 45)
    assert await ClosedDay.count() == 1


async def test_correct_a_misread_reading_from_the_fridge_screen(new_context: NewContext) -> None:
    from server.coldchain.schemas import ReadingIn

    c = await clinic()
    await readings.record_reading(
        SYSTEM, c["site"], c["fridge"], ReadingIn(current=4.6, min=3.9, max=6.2, initials="NB"), now=utcnow()
    )
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "nurse", "scan")
    await page.goto(f"/#/fridge?id={c['fridge']}")
    await page.click("#cc-recent-panel summary")
    await page.click("#cc-recent .cc-correct-open")
    form = page.locator("#cc-recent .cc-correct")
    await form.locator("input[name=current]").fill("4.8")
    await form.locator("input[name=reason]").fill("Misread the display")
    await check_screen(page, "coldchain-correct")
    await form.get_by_role("button").click()
    await expect(page.locator("#cc-recent .cc-reading[data-corrected=true]")).to_have_count(1)
    await expect(page.locator("#cc-recent")).to_contain_text("Correction: Misread the display")
    rows = await TemperatureReading.select().order_by(TemperatureReading.id)
    assert [(r["current_tenths"], r["corrects"]) for r in rows] == [(46, None), (48, rows[0]["id"])]
