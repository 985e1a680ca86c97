"""Reprocessing in a real Chromium: scan a device's label, then each next step on the phone (one step
offline, landing once), packaging shows the new pack and its label link; after the load is released,
scan the pack to store it and use it at a visit; French; a 360 px phone and axe."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from server.clock import utcnow
from server.core.auth import SYSTEM, Principal
from server.core.rules import Role
from server.core.tables import AppUser, ClientWrite
from server.reprocessing import devices, loads, sterilizers
from server.reprocessing.rules import (
    CleanMethod,
    DeviceKind,
    InspectResult,
    Spaulding,
    StepKind,
    SterilizerKind,
)
from server.reprocessing.schemas import (
    DeviceCreate,
    LoadCreate,
    LogEntryIn,
    ResultsIn,
    StepIn,
    SterilizerCreate,
)
from server.reprocessing.tables import Failure, MecTest, Step, SterilizerLogEntry, Use
from tests.factories import make_site, make_user
from tests.web.conftest import NewContext
from tests.web.test_stock_screens import RESULT, check_screen, sign_in, type_code


async def clinic() -> dict[str, Any]:
    site = await make_site("Maple Grove")
    await make_user("nurse", site_id=site, role=Role.ASSISTANT)
    device = await devices.create_device(
        SYSTEM,
        site,
        DeviceCreate(name="Suture set", spaulding=Spaulding.CRITICAL, kind=DeviceKind.SET),
        now=utcnow(),
    )
    st = await sterilizers.create_sterilizer(
        SYSTEM,
        site,
        SterilizerCreate(
            name="Statim A",
            model="Statim 5000",
            serial="S-1",
            kind=SterilizerKind.GRAVITY,
            cycle_types=["wrapped"],
        ),
        now=utcnow(),
    )
    return {"site": site, "device": device, "sterilizer": st}


async def _user_id(username: str) -> int:
    row = await AppUser.select(AppUser.id).where(AppUser.username == username).first()
    assert row is not None
    return int(row["id"])


async def step(page: Page, status: str) -> None:
    await page.click("#rp-submit")
    await expect(page.locator("#rp-status")).to_have_text(status)


async def test_scan_a_device_through_its_steps_then_the_pack_to_a_visit(new_context: NewContext) -> None:
    c = await clinic()
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "nurse", "scan")
    await type_code(page, c["device"].label_code)
    await expect(page.locator(RESULT)).to_have_attribute("data-kind", "device")
    await page.click("#open-reprocessing")
    await page.wait_for_url("**/#/reprocessing?code=*")
    await expect(page.locator("#rp-status")).to_have_text("In use")
    await check_screen(page, "reprocessing-device")
    await step(page, "Dirty")

    # Cleaning offline: it waits on the phone and lands once.
    await page.select_option("select[name=method]", "washer")
    await ctx.set_offline(True)
    await page.click("#rp-submit")
    await expect(page.locator(".outcome[data-outcome=queued]")).to_be_visible()
    assert await Step.count() == 1
    await ctx.set_offline(False)
    await expect(page.locator("#outbox-status")).to_be_hidden(timeout=15_000)
    assert await Step.count() == 2
    await page.reload()
    await expect(page.locator("#rp-status")).to_have_text("Cleaned")

    await page.select_option("select[name=result]", "pass")
    await step(page, "Inspected")
    await page.fill("input[name=initials]", "AB")
    await step(page, "Packaged")
    await expect(page.locator("#rp-packed")).to_contain_text("Put it in a sterilizer load")
    await expect(page.locator("#rp-label")).to_have_attribute(
        "href", f"/api/sites/{c['site']}/reprocessing/packs/1/label.pdf"
    )
    await expect(page.locator("#rp-wait")).to_have_text(
        "This pack is waiting for a sterilizer load to be released."
    )

    pack = (await devices.device_detail(c["site"], c["device"].id)).packs[0]
    load = await loads.create_load(
        SYSTEM,
        c["site"],
        LoadCreate(
            sterilizer_id=c["sterilizer"].id, cycle_type="wrapped", initials="AB", packs=[pack.label_code]
        ),
        now=utcnow(),
    )
    await loads.record_results(
        SYSTEM,
        c["site"],
        load.id,
        ResultsIn(physical_met=True, external_ci="pass", internal_ci="pass", bi_lot="BI-1"),
        now=utcnow(),
    )
    await loads.release(SYSTEM, c["site"], load.id, now=utcnow())

    await page.goto("/#/scan")
    await type_code(page, pack.label_code)
    await expect(page.locator(RESULT)).to_have_attribute("data-kind", "pack")
    await page.click("#open-reprocessing")
    await expect(page.locator("#rp-status")).to_have_text("Sterilized")
    await step(page, "Stored")
    await page.fill("input[name=visit_code]", "V-1042")
    await check_screen(page, "reprocessing-use")
    await step(page, "In use")
    uses = await Use.select(Use.visit_code, Use.load)
    assert uses == [{"visit_code": "V-1042", "load": load.id}]
    assert await ClientWrite.count() == 6


async def test_a_refused_step_says_why_in_french(new_context: NewContext) -> None:
    c = await clinic()
    ctx = await new_context(locale="fr-CA")
    page = await ctx.new_page()
    await sign_in(page, "nurse", "scan")
    await page.goto(f"/#/reprocessing?code={c['device'].label_code}")
    await expect(page.locator("#rp-status")).to_have_text("En usage")
    # Another phone records the point-of-use step meanwhile: this one's form is now out of date.
    await devices.record_step(
        SYSTEM, c["site"], StepIn(code=c["device"].label_code, step=StepKind.POINT_OF_USE), now=utcnow()
    )
    await page.click("#rp-submit")
    await expect(page.locator(".outcome[data-outcome=rejected]")).to_contain_text(
        "Cette étape n'est pas dans l'ordre pour cet article."
    )
    await check_screen(page, "reprocessing-refused-fr")


async def test_a_manager_runs_a_load_from_bowie_dick_to_release(new_context: NewContext) -> None:
    c = await clinic()
    await make_user("boss", site_id=c["site"], role=Role.MANAGER)
    prevac = await sterilizers.create_sterilizer(
        SYSTEM,
        c["site"],
        SterilizerCreate(
            name="Midmark M11",
            model="M11",
            serial="M-9",
            kind=SterilizerKind.PRE_VACUUM,
            cycle_types=["wrapped", "unwrapped"],
        ),
        now=utcnow(),
    )
    code = c["device"].label_code
    for kind, extra in (
        (StepKind.POINT_OF_USE, {}),
        (StepKind.CLEAN, {"method": CleanMethod.WASHER}),
        (StepKind.INSPECT, {"result": InspectResult.PASS}),
        (StepKind.PACKAGE, {"initials": "AB"}),
    ):
        done = await devices.record_step(
            SYSTEM, c["site"], StepIn(code=code, step=kind, **extra), now=utcnow()
        )
    assert done.pack is not None
    pack = done.pack.label_code
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "boss", "dashboard")
    await page.goto(f"/#/reprocessing?code={pack}")
    await page.click("#rp-to-load")
    await page.wait_for_url("**/#/loads?pack=*")
    await expect(page.locator("#rp-start textarea[name=packs]")).to_have_value(pack)
    await page.select_option("#rp-start select[name=sterilizer_id]", str(prevac.id))
    await page.fill("#rp-start input[name=initials]", "AB")
    await page.click("#rp-start button[type=submit]")
    await expect(page.locator(".outcome[data-outcome=rejected]")).to_contain_text(
        "Run and record today's Bowie-Dick test before the first load."
    )
    bd = page.locator(f".rp-bd[data-id='{prevac.id}']")
    await bd.locator("input[name=initials]").fill("AB")
    await bd.locator("button[data-passed=true]").click()
    await expect(page.locator(".outcome[data-outcome=sent]")).to_be_visible()
    await page.select_option("#rp-start select[name=sterilizer_id]", str(prevac.id))
    await page.fill("#rp-start input[name=initials]", "AB")
    await page.click("#rp-start button[type=submit]")
    card = page.locator(".rp-load")
    await expect(card).to_have_attribute("data-status", "open")
    await expect(card.locator("strong")).to_have_text("Load 1 · Midmark M11")
    await check_screen(page, "reprocessing-load")
    await card.locator("input[name=bi_lot]").fill("BI-42")
    await card.locator(".rp-results button[type=submit]").click()
    await expect(card.locator(".rp-bi")).to_be_visible()
    await card.locator(".rp-bi button[data-result=negative]").click()
    await expect(card.locator(".rp-bi")).to_have_count(0)  # the BI is read: the card is drawn again
    await expect(card.locator(".rp-release")).to_be_visible()
    await card.locator(".rp-release").click()
    await expect(page.locator("#rp-no-loads")).to_be_visible()
    detail = await devices.device_detail(c["site"], c["device"].id)
    assert detail.device.status == "sterilized"
    assert detail.packs[0].status == "sterile"


async def test_the_inspector_reads_the_sterilization_records(new_context: NewContext) -> None:
    c = await clinic()
    await make_user("inspector", site_id=c["site"], role=Role.INSPECTOR)
    code = c["device"].label_code
    for kind, extra in (
        (StepKind.POINT_OF_USE, {}),
        (StepKind.CLEAN, {"method": CleanMethod.MANUAL}),
        (StepKind.INSPECT, {"result": InspectResult.PASS}),
        (StepKind.PACKAGE, {"initials": "AB"}),
    ):
        done = await devices.record_step(
            SYSTEM, c["site"], StepIn(code=code, step=kind, **extra), now=utcnow()
        )
    assert done.pack is not None
    load = await loads.create_load(
        SYSTEM,
        c["site"],
        LoadCreate(
            sterilizer_id=c["sterilizer"].id,
            cycle_type="wrapped",
            initials="AB",
            packs=[done.pack.label_code],
        ),
        now=utcnow(),
    )
    await loads.record_results(
        SYSTEM,
        c["site"],
        load.id,
        ResultsIn(physical_met=True, external_ci="pass", internal_ci="fail", bi_lot="BI-1"),
        now=utcnow(),
    )
    ctx = await new_context(locale="fr-CA")
    page = await ctx.new_page()
    await sign_in(page, "inspector", "logs")
    await page.click("#open-sterilization")
    await page.wait_for_url("**/#/sterilization")
    await expect(page.locator("#rp-log li")).to_have_count(1)
    await expect(page.locator("#rp-log li")).to_have_attribute("data-status", "failed")
    await expect(page.locator("#rp-log li")).to_contain_text("IC interne fail")
    await expect(page.locator("#rp-missing li[data-code=bi_unread]")).to_have_count(1)
    await expect(page.locator("#rp-failures li")).to_contain_text("Indicateur chimique non conforme")
    href = await page.locator("#rp-csv").get_attribute("href")
    assert href is not None and "/reprocessing/loads/export.csv?from_date=" in href
    await check_screen(page, "reprocessing-records-fr")
    csv_text = await page.evaluate(f"fetch({href!r}).then((r) => r.text())")
    assert "Statim A" in csv_text and "fail" in csv_text
    await expect(page.locator(".rp-failure-actions")).to_have_count(0)  # inspectors only read

    await make_user("boss", site_id=c["site"], role=Role.MANAGER)
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "boss", "dashboard")
    await page.goto("/#/sterilization")
    actions = page.locator(".rp-failure-actions")
    await actions.locator("input[name=contact]").fill("PHU IPAC line 555-0100")
    await actions.locator(".rp-phu button").click()
    await expect(actions.locator("[data-step=phu] .outcome[data-outcome=sent]")).to_be_visible()
    await actions.locator("textarea[name=report]").fill("Indicator lot checked; load reprocessed.")
    await actions.locator(".rp-close button").click()
    await expect(actions.locator("[data-step=close] .outcome[data-outcome=sent]")).to_be_visible()
    failure = await Failure.select().first()
    assert failure is not None
    assert (failure["phu_contact"], failure["report"]) == (
        "PHU IPAC line 555-0100",
        "Indicator lot checked; load reprocessed.",
    )
    assert failure["closed_at"] is not None


async def test_a_manager_registers_equipment_and_a_solution(new_context: NewContext) -> None:
    c = await clinic()
    await make_user("boss", site_id=c["site"], role=Role.MANAGER)
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "boss", "dashboard")
    await page.click("#open-equipment")
    await page.wait_for_url("**/#/equipment")
    form = page.locator("#rp-add-device")
    await form.locator("input[name=name]").fill("Vaginal speculum")
    await form.locator("select[name=spaulding]").select_option("semi_critical")
    await form.locator("input[name=mifu]").fill("MIFU-77")
    await form.locator("button[type=submit]").click()
    await expect(page.locator("#rp-devices li")).to_have_count(2)
    form = page.locator("#rp-add-sterilizer")
    await form.locator("input[name=name]").fill("Midmark M11")
    await form.locator("input[name=model]").fill("M11")
    await form.locator("input[name=serial]").fill("M-9")
    await form.locator("button[type=submit]").click()
    await expect(page.locator("#rp-sterilizers li")).to_have_count(2)
    midmark = page.locator("#rp-sterilizers li", has_text="Midmark M11")
    log = midmark.locator("form[id^=rp-log]")
    await log.locator("select[name=kind]").select_option("repair")
    await log.locator("input[name=note]").fill("Gasket replaced")
    await log.locator("button[type=submit]").click()
    await expect(log.locator("input[name=note]")).to_have_value("")  # saved: the screen is drawn again
    service = midmark.locator("form[id^=rp-service]")
    await service.locator("input[name=note]").fill("Door gasket leaking")
    await service.locator("button[type=submit]").click()
    await expect(midmark.locator(".badge-alert")).to_have_text("Out of service")
    form = page.locator("#rp-add-solution")
    await form.locator("input[name=product]").fill("Cidex OPA")
    await form.locator("input[name=lot]").fill("OPA-9")
    await form.locator("input[name=activated_on]").fill("2026-01-01")
    await form.locator("input[name=reuse_life_days]").fill("14")
    await form.locator("button[type=submit]").click()
    solution = page.locator("#rp-solutions li")
    await expect(solution).to_have_count(1)
    await solution.locator("input[name=strip_lot]").fill("S-1")
    await solution.locator("input[name=strip_expires_on]").fill("2099-01-01")
    await solution.locator("form button[type=submit]").click()
    await expect(page.locator(".outcome[data-outcome=sent]")).to_be_visible()
    await check_screen(page, "reprocessing-equipment")
    made = await devices.list_devices(c["site"])
    assert [(d.name, d.spaulding.value, d.mifu) for d in made if d.name != "Suture set"] == [
        ("Vaginal speculum", "semi_critical", "MIFU-77")
    ]
    st = await sterilizers.list_sterilizers(c["site"])
    assert [(s.name, s.kind.value, s.cycle_types, s.in_service) for s in st if s.name != "Statim A"] == [
        ("Midmark M11", "pre_vacuum", ["wrapped", "unwrapped"], False)
    ]
    assert await MecTest.count() == 1
    entries = await SterilizerLogEntry.select(SterilizerLogEntry.kind, SterilizerLogEntry.note).order_by(
        SterilizerLogEntry.id
    )
    assert [(e["kind"], e["note"]) for e in entries] == [
        ("repair", "Gasket replaced"),
        ("out_of_service", "Door gasket leaking"),
    ]


async def test_review_screens_and_corrections(new_context: NewContext) -> None:
    """The inspector reads the log books, Bowie-Dick tests, HLD log and step records with filters and
    cannot correct; the assistant corrects her own cleaning record; the manager corrects a released
    load's BI to positive and the load fails (the failed-BI path), its correction shown."""
    c = await clinic()
    await make_user("inspector", site_id=c["site"], role=Role.INSPECTOR)
    await make_user("boss", site_id=c["site"], role=Role.MANAGER)
    code = c["device"].label_code
    nurse = Principal(
        user_id=await _user_id("nurse"),
        username="nurse",
        display_name="Nurse",
        is_superuser=False,
        roles={c["site"]: Role.ASSISTANT},
    )
    for kind, extra in (
        (StepKind.POINT_OF_USE, {}),
        (StepKind.CLEAN, {"method": CleanMethod.MANUAL}),
        (StepKind.INSPECT, {"result": InspectResult.PASS}),
        (StepKind.PACKAGE, {"initials": "AB"}),
    ):
        done = await devices.record_step(
            nurse, c["site"], StepIn(code=code, step=kind, **extra), now=utcnow()
        )
    assert done.pack is not None
    load = await loads.create_load(
        SYSTEM,
        c["site"],
        LoadCreate(
            sterilizer_id=c["sterilizer"].id,
            cycle_type="wrapped",
            initials="AB",
            packs=[done.pack.label_code],
        ),
        now=utcnow(),
    )
    ok = ResultsIn(physical_met=True, external_ci="pass", internal_ci="pass", bi_lot="BI-1")
    await loads.record_results(SYSTEM, c["site"], load.id, ok, now=utcnow())
    await loads.release(SYSTEM, c["site"], load.id, now=utcnow())
    await sterilizers.add_log(
        SYSTEM,
        c["site"],
        c["sterilizer"].id,
        LogEntryIn(kind="maintenance", note="Door gasket"),
        now=utcnow(),
    )

    ctx = await new_context(locale="fr-CA")
    page = await ctx.new_page()
    await sign_in(page, "inspector", "logs")
    await page.goto("/#/sterilization")
    await page.click("#open-rp-records")
    await page.wait_for_url("**/#/rp-records")
    await expect(page.locator("#rp-records li.rp-step")).to_have_count(5)  # 4 scans + the release
    await page.select_option("#rp-records-filter select[name=status]", "cleaned")
    await page.click("#rp-records-filter button[type=submit]")
    await expect(page.locator("#rp-records li.rp-step")).to_have_count(1)
    await expect(page.locator("#rp-records li.rp-step")).to_contain_text("Manuel")
    await expect(page.locator(".rp-correct")).to_have_count(0)  # inspectors only read
    await check_screen(page, "reprocessing-steps-fr")
    await page.select_option("#rp-records-filter select[name=kind]", "log")
    await expect(page.locator("#rp-records li.rp-logbook")).to_contain_text("Door gasket")
    await page.select_option("#rp-records-filter select[name=kind]", "bd")
    await expect(page.locator("#rp-records-none")).to_be_visible()
    await page.select_option("#rp-records-filter select[name=kind]", "hld")
    await expect(page.locator("#rp-records-none")).to_be_visible()

    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "nurse", "scan")
    await page.goto("/#/rp-records?kind=steps&status=cleaned")
    row = page.locator("#rp-records li.rp-step")
    await row.locator(".rp-correct summary").click()
    await row.locator("select[name=method]").select_option("washer")
    await row.locator("textarea[name=reason]").fill("It went through the washer.")
    await row.locator(".rp-correct-step button[type=submit]").click()
    await expect(page.locator("#rp-records li.rp-step")).to_have_count(2)
    await expect(page.locator("#rp-records li.rp-was-corrected")).to_contain_text("Corrected by entry")
    await expect(page.locator("#rp-records li.rp-step").nth(1)).to_contain_text("It went through the washer.")
    fix = await Step.select().where(Step.corrects.is_not_null()).first()
    assert fix is not None and (fix["method"], fix["actor"]) == ("washer", nurse.actor)

    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "boss", "dashboard")
    await page.goto("/#/sterilization")
    item = page.locator("#rp-log li.rp-log-load")
    await item.locator(".rp-correct summary").click()
    await item.locator("select[name=bi_result]").select_option("positive")
    await item.locator("textarea[name=reason]").fill("Lab called: the BI grew.")
    await item.locator(".rp-correct-load button[type=submit]").click()
    await expect(page.locator("#rp-log li.rp-log-load")).to_have_attribute("data-status", "failed")
    await page.locator("#rp-log .rp-corrected summary").click()
    await expect(page.locator("#rp-log .rp-corrections li")).to_contain_text("Lab called: the BI grew.")
    await expect(page.locator("#rp-log .rp-corrections li")).to_contain_text("BI: Not read yet → Positive")
    assert await Failure.count().where(Failure.kind == "bi_positive") == 1
    await check_screen(page, "reprocessing-records-corrected")
