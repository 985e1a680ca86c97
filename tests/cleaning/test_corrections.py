"""Corrections of cleaning logs: a new log naming the one it corrects, with a reason; the original
stays, marked as corrected; figures, due state and exports use the correction."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from server.cleaning import plans, reports, service
from server.cleaning.reports import LogFilter
from server.cleaning.rules import DueState, PlanKind, may_correct
from server.cleaning.schemas import ItemIn, LogCorrection, LogCreate, PlanCreate
from server.cleaning.tables import CleaningLog, CleaningLogItem
from server.clock import utcnow
from server.core.auth import SYSTEM
from server.core.rules import Role
from server.core.tables import AuditEvent
from tests.cleaning.test_routes import _answers, _clinic, _defaults, _log_body
from tests.factories import Client, login, make_location, make_site, make_user


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _pdf_text(pdf: bytes) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


def test_who_may_correct() -> None:
    assert may_correct("assistant", "user:2", "user:2")
    assert not may_correct("assistant", "user:2", "user:3")
    assert may_correct("manager", "user:4", "user:3")
    assert may_correct("admin", "user:5", "user:3")
    assert not may_correct("inspector", "user:6", "user:6")
    assert not may_correct(None, "user:7", "user:7")


async def _logged(client: Client) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    c = await _clinic(client)
    plan = (await _defaults(client, c))[0]
    asst = await login(client, "asst")
    resp = await asst.post(f"{c['base']}/logs", _log_body(plan, visit_code="V-7", note="Room 1"))
    assert resp.status_code == 201, resp.text
    return c, plan, resp.json()


def _fix(plan: dict[str, Any], log: dict[str, Any], **over: Any) -> dict[str, Any]:
    body = {
        "reason": "Chairs were not wiped: I ticked the wrong row",
        "started_at": log["started_at"],
        "ended_at": log["ended_at"],
        "items": _answers(plan, {2: "Chairs out for repair"}),
    }
    body.update(over)
    return body


async def test_a_correction_is_a_new_entry_and_the_original_stays_marked(client: Client) -> None:
    c, plan, log = await _logged(client)
    asst = await login(client, "asst")
    key = str(uuid.uuid4())
    url = f"{c['base']}/logs/{log['id']}/correct"
    first = await asst.post(url, _fix(plan, log), key=key)
    assert first.status_code == 201, first.text
    fixed = first.json()
    replay = await asst.post(url, _fix(plan, log), key=key)  # the outbox sends it again
    assert replay.json() == fixed
    assert fixed["id"] != log["id"]
    assert (fixed["corrects"], fixed["reason"]) == (
        log["id"],
        "Chairs were not wiped: I ticked the wrong row",
    )
    assert (fixed["items_skipped"], fixed["items"][2]["skip_reason"]) == (1, "Chairs out for repair")
    # Omitted visit code and note are kept from the original.
    assert (fixed["visit_code"], fixed["note"], fixed["version"]) == ("V-7", "Room 1", plan["version"])
    assert await CleaningLog.count() == 2
    original = (await asst.get(f"{c['base']}/logs/{log['id']}")).json()
    assert original["corrected_by"] == fixed["id"]
    assert original["items_skipped"] == 0  # never edited
    listed = (await asst.get(f"{c['base']}/logs")).json()["logs"]
    assert {(x["id"], x["corrects"], x["corrected_by"]) for x in listed} == {
        (log["id"], None, fixed["id"]),
        (fixed["id"], log["id"], None),
    }
    events = await AuditEvent.select(AuditEvent.action, AuditEvent.payload).where(
        AuditEvent.action == "cleaning.correction"
    )
    assert len(events) == 1
    assert '"corrects"' in str(events[0]["payload"])
    again = await asst.post(url, _fix(plan, log, reason="Again"))
    assert again.status_code == 409
    assert again.json()["code"] == "log_already_corrected"
    # A later fix corrects the correction.
    later = await asst.post(
        f"{c['base']}/logs/{fixed['id']}/correct", _fix(plan, log, reason="Chairs were done")
    )
    assert later.status_code == 201, later.text
    assert await CleaningLog.count() == 3


async def test_a_reason_is_required_and_bad_corrections_change_nothing(client: Client) -> None:
    c, plan, log = await _logged(client)
    asst = await login(client, "asst")
    url = f"{c['base']}/logs/{log['id']}/correct"
    before = (await CleaningLog.count(), await CleaningLogItem.count(), await AuditEvent.count())
    for reason in ("", "   "):
        resp = await asst.post(url, _fix(plan, log, reason=reason))
        assert resp.status_code == 400, resp.text
        assert resp.headers["content-type"].startswith("application/problem+json")
    assert (
        await asst.post(url, {k: v for k, v in _fix(plan, log).items() if k != "reason"})
    ).status_code == 400
    skipped = await asst.post(url, _fix(plan, log, items=_answers(plan, {1: ""})))
    assert skipped.json()["code"] == "checklist_invalid"
    missing = await asst.post(f"{c['base']}/logs/999999/correct", _fix(plan, log))
    assert missing.status_code == 404
    assert (await CleaningLog.count(), await CleaningLogItem.count(), await AuditEvent.count()) == before


async def test_who_may_correct_over_http(client: Client) -> None:
    c, plan, log = await _logged(client)
    await make_user("asst2", site_id=c["site"], role=Role.ASSISTANT)
    url = f"{c['base']}/logs/{log['id']}/correct"
    insp = await login(client, "insp")
    assert (await insp.post(url, _fix(plan, log))).status_code == 403
    other = await login(client, "asst2")
    refused = await other.post(url, _fix(plan, log))
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_your_log"
    assert await CleaningLog.count() == 1
    mgr = await login(client, "mgr")
    assert (await mgr.post(url, _fix(plan, log))).status_code == 201
    far = await make_site("Other Clinic")
    assert (
        await mgr.post(f"/api/sites/{far}/cleaning/logs/{log['id']}/correct", _fix(plan, log))
    ).status_code == 403


async def test_compliance_and_due_state_use_the_corrected_record() -> None:
    site = await make_site()  # America/Toronto
    room = await make_location(site, "Room 1")
    spec = PlanCreate(
        room_id=room, kind=PlanKind.DAILY, name="End of day", items=["Exam table"], due_time="18:00"
    )
    plan = await plans.create_plan(SYSTEM, site, spec, now=utc(2026, 6, 1))
    ended = utc(2026, 6, 10, 23, 30)  # 19:30 EDT: late
    log = await service.complete(
        SYSTEM,
        site,
        LogCreate(
            plan_id=plan.id,
            version=1,
            started_at=ended - timedelta(minutes=5),
            ended_at=ended,
            items=[ItemIn(position=0, done=True)],
        ),
        now=ended,
    )
    week = LogFilter(start=utc(2026, 6, 10, 4), end=utc(2026, 6, 11, 4))
    late = await reports.compliance(site, week, now=utc(2026, 6, 20))
    assert [(r.on_time, r.late, r.missed) for r in late] == [(0, 1, 0)]
    # The assistant entered the time late: it was done at 17:40 EDT.
    real_end = utc(2026, 6, 10, 21, 40)
    fix = LogCorrection(
        reason="Entered after the fact; done at 17:40",
        started_at=real_end - timedelta(minutes=5),
        ended_at=real_end,
        items=[ItemIn(position=0, done=True)],
    )
    await service.correct(SYSTEM, site, log.id, fix, now=utc(2026, 6, 11))
    fixed = await reports.compliance(site, week, now=utc(2026, 6, 20))
    assert [(r.on_time, r.late, r.missed, r.on_time_percent) for r in fixed] == [(1, 0, 0, 100.0)]
    # Logged for today by mistake, corrected to yesterday: today is owed again.
    today = utc(2026, 6, 12, 21)  # 17:00 EDT
    wrong = await service.complete(
        SYSTEM,
        site,
        LogCreate(
            plan_id=plan.id,
            version=1,
            started_at=today - timedelta(minutes=5),
            ended_at=today,
            items=[ItemIn(position=0, done=True)],
        ),
        now=today,
    )
    assert [s.state for s in await service.statuses(site, now=today)] == [DueState.DONE]
    yesterday = utc(2026, 6, 11, 21)
    fix = LogCorrection(
        reason="This was yesterday's cleaning",
        started_at=yesterday - timedelta(minutes=5),
        ended_at=yesterday,
        items=[ItemIn(position=0, done=True)],
    )
    await service.correct(SYSTEM, site, wrong.id, fix, now=today)
    assert [s.state for s in await service.statuses(site, now=today)] == [DueState.DUE]
    overdue = await service.overdue_sweep(now=utc(2026, 6, 12, 23))
    assert [t.plan_id for t in overdue[site]] == [plan.id]


async def test_exports_show_both_entries_linked(client: Client) -> None:
    c, plan, log = await _logged(client)
    asst = await login(client, "asst")
    end = utcnow() - timedelta(minutes=30)
    body = _fix(plan, log, ended_at=end.isoformat(), started_at=(end - timedelta(minutes=4)).isoformat())
    fixed = (await asst.post(f"{c['base']}/logs/{log['id']}/correct", body)).json()
    insp = await login(client, "insp")
    rows = list(csv.DictReader(io.StringIO((await insp.get(f"{c['base']}/logs/export.csv")).text)))
    by_id = {int(r["log_id"]): r for r in rows}
    assert set(by_id) == {log["id"], fixed["id"]}
    assert (by_id[log["id"]]["corrected_by"], by_id[log["id"]]["corrects"]) == (str(fixed["id"]), "")
    assert by_id[fixed["id"]]["corrects"] == str(log["id"])
    assert by_id[fixed["id"]]["correction_reason"] == "Chairs were not wiped: I ticked the wrong row"
    pdf = await insp.get(f"{c['base']}/logs/export.pdf")
    text = _pdf_text(pdf.content)
    assert f"CORRECTED by #{fixed['id']}" in text
    assert f"Correction of #{log['id']}: Chairs were not wiped" in text


async def test_two_corrections_racing_for_one_log_record_one(client: Client) -> None:
    import asyncio

    from server.errors import Conflict

    c, plan, log = await _logged(client)
    fix = LogCorrection(
        reason="Wrong answers",
        started_at=datetime.fromisoformat(log["started_at"]),
        ended_at=datetime.fromisoformat(log["ended_at"]),
        items=[ItemIn(position=i, done=True) for i in range(len(plan["items"]))],
    )
    results = await asyncio.gather(
        *[service.correct(SYSTEM, c["site"], log["id"], fix, now=utcnow()) for _ in range(3)],
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    assert await CleaningLog.count().where(CleaningLog.corrects == log["id"]) == 1
    assert await AuditEvent.count().where(AuditEvent.action == "cleaning.correction") == 1


async def test_a_void_correction_withdraws_a_log_logged_by_mistake(client: Client) -> None:
    c, _, log = await _logged(client)  # between patients, room 1
    daily = next(p for p in await plans.list_plans(c["site"]) if p.kind == "daily")
    asst = await login(client, "asst")
    done = (await asst.post(f"{c['base']}/logs", _log_body(msgspec.to_builtins(daily)))).json()
    room = (await asst.get(f"{c['base']}/rooms/{c['room']}")).json()
    assert {s["plan"]["id"]: s["state"] for s in room["plans"]}[daily.id] == "done"
    # Scanned the wrong room's label: nothing was cleaned here. No times or answers needed.
    resp = await asst.post(
        f"{c['base']}/logs/{done['id']}/correct", {"reason": "Wrong room scanned", "void": True}
    )
    assert resp.status_code == 201, resp.text
    void = resp.json()
    assert (void["void"], void["corrects"], void["items_done"], void["items"]) == (True, done["id"], 0, [])
    assert void["ended_at"] == done["ended_at"]
    room = (await asst.get(f"{c['base']}/rooms/{c['room']}")).json()
    assert {s["plan"]["id"]: s["state"] for s in room["plans"]}[daily.id] in ("due", "overdue")
    assert {s["plan"]["id"]: s["last_done_at"] for s in room["plans"]}[daily.id] is None
    rows = list(csv.DictReader(io.StringIO((await asst.get(f"{c['base']}/logs/export.csv")).text)))
    assert {int(r["log_id"]): (r["void"], r["corrected_by"]) for r in rows} == {
        log["id"]: ("", ""),
        done["id"]: ("", str(void["id"])),
        void["id"]: ("yes", ""),
    }
    # Only the reason changed? Omitted times and answers are the original's.
    fixed = await asst.post(
        f"{c['base']}/logs/{log['id']}/correct", {"reason": "Visit code typo", "visit_code": "V-8"}
    )
    assert fixed.status_code == 201, fixed.text
    body = fixed.json()
    assert (body["visit_code"], body["started_at"], body["ended_at"]) == (
        "V-8",
        log["started_at"],
        log["ended_at"],
    )
    assert [i["done"] for i in body["items"]] == [i["done"] for i in log["items"]]


async def test_compliance_does_not_count_a_withdrawn_log() -> None:
    site = await make_site()
    room = await make_location(site, "Room 1")
    spec = PlanCreate(
        room_id=room, kind=PlanKind.DAILY, name="End of day", items=["Exam table"], due_time="18:00"
    )
    plan = await plans.create_plan(SYSTEM, site, spec, now=utc(2026, 6, 1))
    ended = utc(2026, 6, 10, 21)  # 17:00 EDT: on time
    log = await service.complete(
        SYSTEM,
        site,
        LogCreate(
            plan_id=plan.id,
            version=1,
            started_at=ended - timedelta(minutes=5),
            ended_at=ended,
            items=[ItemIn(position=0, done=True)],
        ),
        now=ended,
    )
    day = LogFilter(start=utc(2026, 6, 10, 4), end=utc(2026, 6, 11, 4))
    before = await reports.compliance(site, day, now=utc(2026, 6, 20))
    assert [(r.on_time, r.missed) for r in before] == [(1, 0)]
    await service.correct(
        SYSTEM, site, log.id, LogCorrection(reason="Not done", void=True), now=utc(2026, 6, 11)
    )
    after = await reports.compliance(site, day, now=utc(2026, 6, 20))
    assert [(r.on_time, r.missed) for r in after] == [(0, 1)]
    assert await service.overdue_sweep(now=utc(2026, 6, 10, 23)) == {
        site: await service.tasks(site, now=utc(2026, 6, 10, 23))
    }
