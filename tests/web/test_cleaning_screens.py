"""Room cleaning in a real Chromium: scan a room's door label, tick or skip with a reason, the
contact-time timer, complete through the outbox (offline, then it lands once); My tasks; French;
a manager adds a plan, an assistant asks for a terminal clean, a log is corrected and the inspector
sees both entries linked; a 360 px phone and axe on the new screens. Screenshots go to tests/_artifacts."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from server.cleaning import plans, service
from server.cleaning.schemas import DefaultsIn, ItemIn, LogCreate, RequestIn
from server.cleaning.tables import CleaningLog, CleaningLogItem, CleaningRequest
from server.clock import utcnow
from server.core.auth import SYSTEM, Principal
from server.core.rules import Role
from server.core.tables import ClientWrite, Location
from tests.factories import make_location, make_site, make_user
from tests.web.conftest import NewContext
from tests.web.test_stock_screens import RESULT, check_screen, sign_in, type_code


async def clinic() -> dict[str, Any]:
    site = await make_site("Maple Grove")
    room = await make_location(site, "Exam Room 1")
    await make_user("nurse", site_id=site, role=Role.ASSISTANT)
    made = await plans.create_defaults(
        SYSTEM, site, DefaultsIn(product="Test wipes", din="11111111", contact_seconds=2), now=utcnow()
    )
    row = await Location.select(Location.label_code).where(Location.id == room).first()
    assert row is not None
    return {"site": site, "room": room, "code": row["label_code"], "plans": made.created}


async def test_scan_the_door_label_then_complete_the_checklist_offline_and_it_lands_once(
    new_context: NewContext,
) -> None:
    c = await clinic()
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "nurse", "scan")
    await type_code(page, str(c["code"]))
    await expect(page.locator(RESULT)).to_have_attribute("data-kind", "room")
    await page.click("#open-cleaning")
    await page.wait_for_url(f"**/#/cleaning?room={c['room']}")
    plans_list = page.locator("#clean-plans .clean-plan")
    await expect(plans_list).to_have_count(3)
    between = page.locator(".clean-plan[data-kind=between_patients] [data-state]")
    await expect(between).to_have_text("When needed")
    await check_screen(page, "cleaning-room")

    await page.locator(".clean-plan[data-kind=between_patients]").get_by_role("link").click()
    items = page.locator("#clean-items .clean-item")
    await expect(items).to_have_count(10)
    count = 10
    await page.click("#clean-timer")
    await expect(page.locator(".clean-timer-status")).to_have_text("Contact time reached", timeout=10_000)
    # Completing with items open, or a skip with no reason, is stopped on the phone with plain words.
    await page.click("#clean-complete")
    await expect(page.locator("#clean-form .field-error")).to_have_text(f"{count} items left to tick or skip")
    for i in range(count):
        if i == 2:
            await items.nth(i).locator(".clean-skip").click()
        else:
            await items.nth(i).locator(".clean-done").click()
    await page.click("#clean-complete")
    await expect(page.locator("#clean-form .field-error")).to_have_text(
        "Say why each skipped item was skipped."
    )
    await items.nth(2).locator("input").fill("Chairs out for repair")
    await page.fill("input[name=visit_code]", "V-1042")
    await check_screen(page, "cleaning-checklist")

    await ctx.set_offline(True)
    await page.click("#clean-complete")
    await page.wait_for_url(f"**/#/cleaning?room={c['room']}")
    await expect(page.locator(".outcome[data-outcome=queued]")).to_be_visible()
    await expect(page.locator("#outbox-status")).to_have_text("1 waiting to send")
    assert await CleaningLog.count() == 0
    await ctx.set_offline(False)
    await expect(page.locator("#outbox-status")).to_be_hidden(timeout=15_000)
    assert await CleaningLog.count() == 1
    assert await ClientWrite.count() == 1
    log = await CleaningLog.select().first()
    assert log is not None and (log["visit_code"], log["items_skipped"], log["product"]) == (
        "V-1042",
        1,
        "Test wipes",
    )
    skipped = await CleaningLogItem.select().where(CleaningLogItem.done.eq(False))
    assert [(r["text"], r["skip_reason"]) for r in skipped] == [("Chairs", "Chairs out for repair")]

    # With no network at all, the room seen before still opens from the phone's copy.
    await ctx.set_offline(True)
    await page.reload()
    await expect(page.locator(".notice-info[role=status]")).to_have_text(
        "Offline: this is the checklist as it was last seen."
    )
    await expect(page.locator("#clean-plans .clean-plan")).to_have_count(3)


async def test_my_tasks_lists_due_cleaning_in_french(new_context: NewContext) -> None:
    c = await clinic()
    between = next(p for p in c["plans"] if p.kind == "between_patients")
    await plans.request_cleaning(SYSTEM, c["site"], between.id, RequestIn(), now=utcnow())
    ctx = await new_context(locale="fr-CA")
    page = await ctx.new_page()
    await sign_in(page, "nurse", "scan")
    await page.click("a[href='#/tasks']")
    task = page.locator(f"#clean-tasks .clean-task[data-plan='{between.id}']")
    await expect(task).to_contain_text("Exam Room 1: Between patients")
    await expect(task.locator("[data-state]")).to_have_text("À faire")
    await check_screen(page, "cleaning-tasks-fr")
    await task.get_by_role("link").click()
    await expect(page.locator("#clean-complete")).to_have_text("Terminer")
    await expect(page.locator("#clean-timer")).to_have_text("Démarrer le minuteur")


async def test_manager_edits_a_plan_and_records_an_audit_then_the_inspector_reads_and_exports(
    new_context: NewContext,
) -> None:
    c = await clinic()
    await make_user("boss", site_id=c["site"], role=Role.MANAGER)
    await make_user("auditor", site_id=c["site"], role=Role.INSPECTOR)
    daily = next(p for p in c["plans"] if p.kind == "daily")
    ended = utcnow() - timedelta(minutes=30)
    await service.complete(
        SYSTEM,
        c["site"],
        LogCreate(
            plan_id=daily.id,
            version=1,
            started_at=ended - timedelta(minutes=5),
            ended_at=ended,
            items=[
                ItemIn(position=i, done=i != 4, skip_reason="Sink out of order" if i == 4 else "")
                for i in range(len(daily.items))
            ],
        ),
        now=utcnow(),
    )
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "boss", "dashboard")
    await page.goto(f"/#/cleaning?room={c['room']}")
    await page.locator(".clean-plan[data-kind=daily] .clean-edit").click()
    await page.wait_for_url(f"**/#/cleaning-plan?id={daily.id}")
    await page.fill("textarea[name=items]", "Exam table\nFloor")
    await page.fill("input[name=contact_seconds]", "180")
    await check_screen(page, "cleaning-plan")
    await page.click("#clean-plan-form button[type=submit]")
    await page.wait_for_url(f"**/#/cleaning?room={c['room']}")
    await expect(page.locator("#toast")).to_contain_text("Plan saved (version 2)")
    current = await plans.get_plan(c["site"], daily.id)
    assert (current.version, current.items, current.contact_seconds) == (2, ["Exam table", "Floor"], 180)

    await page.goto("/#/dashboard")
    await page.click("#open-cleaning-records")
    form = page.locator("#clean-audit-form")
    await form.get_by_label("Method").select_option("fluorescent")
    await form.get_by_label("Result").select_option("false")
    await form.get_by_label("Comments").fill("BP cuff marker not removed")
    await form.get_by_role("button", name="Record an audit").click()
    await expect(form.locator(".outcome[data-outcome=sent]")).to_have_text("Audit recorded")
    await expect(page.locator("#clean-audits .clean-audit[data-passed=false]")).to_contain_text(
        "Fluorescent marker"
    )

    page = await (await new_context()).new_page()  # the inspector on their own device
    await sign_in(page, "auditor", "logs")
    await page.click("#open-cleaning-records")
    await page.wait_for_url("**/#/cleaning-records")
    log = page.locator("#clean-logs .clean-log")
    await expect(log).to_have_count(1)
    await expect(log).to_contain_text("Skipped: Sink and taps (Sink out of order)")
    await expect(log).to_contain_text("Test wipes (DIN 11111111)")
    await expect(page.locator("#clean-audits .clean-audit")).to_have_count(1)
    await expect(page.locator("#clean-audit-form")).to_have_count(0)  # inspectors only read
    await check_screen(page, "cleaning-records")
    href = await page.locator("#clean-csv").get_attribute("href")
    assert href is not None and "from_date=" in href
    exported = await page.evaluate("(url) => fetch(url).then((r) => r.text())", href)
    assert "Sink and taps: Sink out of order" in exported


async def test_manager_adds_a_plan_and_an_assistant_asks_for_a_terminal_clean(
    new_context: NewContext,
) -> None:
    c = await clinic()
    await make_user("boss", site_id=c["site"], role=Role.MANAGER)
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "boss", "dashboard")
    await page.goto(f"/#/cleaning?room={c['room']}")
    await page.click("#clean-add-plan")
    await page.wait_for_url(f"**/#/cleaning-plan?room={c['room']}")
    form = page.locator("#clean-plan-new")
    items = page.locator("textarea[name=items]")
    await expect(items).to_have_value(re.compile("Table paper replaced"))  # the default for between patients
    await form.get_by_label("Kind", exact=True).select_option("terminal")
    await expect(items).to_have_value(re.compile("Door handles and light switches"))
    await form.get_by_label("Kind", exact=True).select_option("weekly")
    await expect(items).to_have_value("")  # no default list for a weekly clean
    await expect(form.get_by_label("Name", exact=True)).to_have_value("Weekly")
    await form.get_by_label("Name", exact=True).fill("Weekly deep clean")
    await form.get_by_label("Day of the week").select_option("2")
    await form.get_by_label("Due by (local time)").fill("16:30")
    await page.fill("textarea[name=items]", "Walls to shoulder height\nVents\n\nChair legs")
    await page.fill("input[name=product]", "Demo wipes")
    await page.fill("input[name=din]", "12345678")
    await page.fill("input[name=contact_seconds]", "120")
    await check_screen(page, "cleaning-plan-new")
    await form.get_by_role("button", name="Add a plan to this room").click()
    await page.wait_for_url(f"**/#/cleaning?room={c['room']}")
    await expect(page.locator("#toast")).to_contain_text("Plan added: Weekly deep clean")
    await expect(page.locator("#clean-plans .clean-plan")).to_have_count(4)
    weekly = [p for p in await plans.list_plans(c["site"], room_id=c["room"]) if p.kind == "weekly"]
    assert [
        (p.name, p.weekday, p.due_time, p.items, p.product, p.din, p.contact_seconds) for p in weekly
    ] == [
        (
            "Weekly deep clean",
            2,
            "16:30",
            ["Walls to shoulder height", "Vents", "Chair legs"],
            "Demo wipes",
            "12345678",
            120,
        )
    ]

    page = await (await new_context()).new_page()  # the assistant on their own phone
    await sign_in(page, "nurse", "scan")
    await page.goto(f"/#/cleaning?room={c['room']}")
    terminal = page.locator(".clean-plan[data-kind=terminal]")
    await expect(terminal.locator("[data-state]")).to_have_text("When needed")
    await expect(page.locator("#clean-add-plan")).to_have_count(0)  # managers only
    await terminal.get_by_label("Note for the request (optional, no patient details)").fill(
        "Droplet precautions ended"
    )
    await check_screen(page, "cleaning-request")
    await terminal.get_by_role(
        "button", name="Ask for a terminal clean (additional precautions ended)"
    ).click()
    await expect(page.locator("#toast")).to_have_text("Cleaning asked for: it is now due")
    await expect(page.locator(".clean-plan[data-kind=terminal] [data-state]")).to_have_text("Due")
    await expect(page.locator(".clean-plan[data-kind=terminal] .clean-request")).to_have_count(0)
    asked = await CleaningRequest.select(CleaningRequest.note, CleaningRequest.requested_by)
    assert [(r["note"], r["requested_by"][:5]) for r in asked] == [("Droplet precautions ended", "user:")]
    tasks = await service.tasks(c["site"], now=utcnow())
    assert [t.state for t in tasks if t.kind == "terminal"] == ["due"]


async def test_an_assistant_corrects_their_own_log_and_the_inspector_sees_both_linked(
    new_context: NewContext,
) -> None:
    c = await clinic()
    aide = await make_user("aide", site_id=c["site"], role=Role.ASSISTANT)
    await make_user("auditor", site_id=c["site"], role=Role.INSPECTOR)
    daily = next(p for p in c["plans"] if p.kind == "daily")
    ended = utcnow() - timedelta(minutes=30)
    me = Principal(
        user_id=aide,
        username="aide",
        display_name="Aide",
        is_superuser=False,
        roles={c["site"]: Role.ASSISTANT},
    )
    original = await service.complete(
        me,
        c["site"],
        LogCreate(
            plan_id=daily.id,
            version=1,
            started_at=ended - timedelta(minutes=5),
            ended_at=ended,
            items=[ItemIn(position=i, done=True) for i in range(len(daily.items))],
        ),
        now=utcnow(),
    )
    ctx = await new_context()
    page = await ctx.new_page()
    await sign_in(page, "aide", "scan")
    await page.goto(f"/#/cleaning-log?id={original.id}")
    await page.click("#clean-correct-open")
    form = page.locator("#clean-correct-form")
    rows = form.locator(".clean-item")
    await expect(rows).to_have_count(len(daily.items))
    await expect(rows.nth(4)).to_have_attribute("data-answer", "done")  # filled in as logged
    wall = original.ended_at.astimezone(ZoneInfo("America/Toronto")).strftime("%Y-%m-%dT%H:%M")
    await expect(form.locator("input[name=ended_at]")).to_have_value(wall)  # the clinic's clock
    await rows.nth(4).locator(".clean-skip").click()
    await rows.nth(4).locator("input").fill("Sink out of order")
    await form.get_by_role("button", name="Save the correction").click()
    await expect(form.locator(".field-error[role=alert]")).to_have_text("Say why this record is corrected.")
    assert await CleaningLog.count() == 1
    await form.get_by_label("Why is it corrected? (required)").fill("The sink was not cleaned: out of order")
    await check_screen(page, "cleaning-correct")
    await form.get_by_role("button", name="Save the correction").click()
    dialog = page.locator("dialog")
    await expect(dialog).to_contain_text("The original stays in the records, marked as corrected.")
    await dialog.get_by_role("button", name="Yes").click()
    await expect(page.locator(".outcome[data-outcome=sent]")).to_have_text("Correction saved")
    fixed = await CleaningLog.select().where(CleaningLog.corrects == original.id)
    assert [(r["items_skipped"], r["reason"]) for r in fixed] == [
        (1, "The sink was not cleaned: out of order")
    ]
    # The times, shown and read back at the site's wall clock (this browser runs in UTC), are unchanged.
    assert fixed[0]["ended_at"] == original.ended_at.replace(second=0, microsecond=0)
    await page.wait_for_url(f"**/#/cleaning-log?id={fixed[0]['id']}")
    await expect(page.locator("#clean-log-detail .clean-correction")).to_contain_text(
        f"Correction of record #{original.id}: The sink was not cleaned"
    )
    assert await CleaningLog.count() == 2
    await page.goto(f"/#/cleaning-log?id={original.id}")
    await expect(page.locator("#clean-log-detail .clean-corrected")).to_contain_text(
        f"see record #{fixed[0]['id']}"
    )
    await expect(page.locator("#clean-correct-open")).to_have_count(0)  # corrected once; fix the correction

    page = await (await new_context(locale="fr-CA")).new_page()  # the inspector, in French
    await sign_in(page, "auditor", "logs")
    await page.click("#open-cleaning-records")
    logs = page.locator("#clean-logs .clean-log")
    await expect(logs).to_have_count(2)
    await expect(page.locator(f".clean-log-corrected[data-log='{original.id}']")).to_contain_text(
        f"Corrigé : voir le registre n° {fixed[0]['id']}"
    )
    await expect(page.locator(f".clean-log[data-log='{fixed[0]['id']}']")).to_contain_text(
        f"Correction du registre n° {original.id}"
    )
    await check_screen(page, "cleaning-records-corrected-fr")
    await page.locator(f".clean-log[data-log='{original.id}'] .clean-log-open").click()
    await expect(page.locator("#clean-log-detail")).to_be_visible()
    await expect(page.locator("#clean-correct-open")).to_have_count(0)  # inspectors only read


async def test_a_manager_withdraws_a_log_for_the_wrong_room(new_context: NewContext) -> None:
    c = await clinic()
    await make_user("boss", site_id=c["site"], role=Role.MANAGER)
    between = next(p for p in c["plans"] if p.kind == "between_patients")
    ended = utcnow() - timedelta(minutes=10)
    original = await service.complete(
        SYSTEM,
        c["site"],
        LogCreate(
            plan_id=between.id,
            version=1,
            started_at=ended - timedelta(minutes=3),
            ended_at=ended,
            items=[ItemIn(position=i, done=True) for i in range(len(between.items))],
        ),
        now=utcnow(),
    )
    page = await (await new_context()).new_page()
    await sign_in(page, "boss", "dashboard")
    await page.goto(f"/#/cleaning-log?id={original.id}")
    await page.click("#clean-correct-open")
    form = page.locator("#clean-correct-form")
    await form.get_by_label("Why is it corrected? (required)").fill("Scanned room 1, cleaned room 2")
    await form.get_by_label("Nothing was cleaned here", exact=False).check()
    await expect(form.locator("#clean-items")).to_be_hidden()
    await form.get_by_role("button", name="Save the correction").click()
    await page.locator("dialog").get_by_role("button", name="Yes").click()
    await expect(page.locator(".outcome[data-outcome=sent]")).to_have_text("Correction saved")
    await expect(page.locator("#clean-log-detail .clean-correction[data-void=true]")).to_have_text(
        f"Record #{original.id} withdrawn: Scanned room 1, cleaned room 2"
    )
    rows = await CleaningLog.select(CleaningLog.void, CleaningLog.items_done).where(
        CleaningLog.corrects == original.id
    )
    assert [(bool(r["void"]), r["items_done"]) for r in rows] == [(True, 0)]
