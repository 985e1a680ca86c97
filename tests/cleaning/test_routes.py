"""Room cleaning through HTTP: plans, scan-to-log once, validation, roles, inspector view and exports."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec

from server.cleaning import service
from server.cleaning.schemas import LogCreate
from server.cleaning.tables import CleaningLog, CleaningLogItem, CleaningPlan, CleaningPlanVersion
from server.clock import utcnow
from server.core.auth import SYSTEM
from server.core.rules import LocationKind, Role
from server.core.tables import AuditEvent
from tests.factories import Client, login, make_location, make_site, make_user


async def _clinic(client: Client) -> dict[str, Any]:
    site = await make_site()
    room = await make_location(site, "Exam Room 1")
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    for name, role in (("mgr", Role.MANAGER), ("asst", Role.ASSISTANT), ("insp", Role.INSPECTOR)):
        await make_user(name, site_id=site, role=role)
    return {"site": site, "room": room, "fridge": fridge, "base": f"/api/sites/{site}/cleaning"}


async def _defaults(client: Client, c: dict[str, Any]) -> list[dict[str, Any]]:
    mgr = await login(client, "mgr")
    disinfectant = {"product": "Test wipes", "din": "11111111", "contact_seconds": 60}
    resp = await mgr.post(f"{c['base']}/plans/defaults", disinfectant)
    assert resp.status_code == 201, resp.text
    return list(resp.json()["created"])


def _answers(plan: dict[str, Any], skip: dict[int, str] | None = None) -> list[dict[str, Any]]:
    skip = skip or {}
    return [
        {"position": i, "done": i not in skip, "skip_reason": skip.get(i, "")}
        for i in range(len(plan["items"]))
    ]


def _log_body(plan: dict[str, Any], **over: Any) -> dict[str, Any]:
    end = utcnow() - timedelta(minutes=1)
    body = {
        "plan_id": plan["id"],
        "version": plan["version"],
        "started_at": (end - timedelta(minutes=6)).isoformat(),
        "ended_at": end.isoformat(),
        "items": _answers(plan),
    }
    body.update(over)
    return body


async def _cleaning_events() -> list[str]:
    rows = await AuditEvent.select(AuditEvent.action).where(AuditEvent.action.like("cleaning%"))
    return [r["action"] for r in rows]


async def test_default_plans_for_rooms_only_and_once(client: Client) -> None:
    c = await _clinic(client)
    created = await _defaults(client, c)
    assert [(p["room_id"], p["kind"]) for p in created] == [
        (c["room"], "between_patients"),
        (c["room"], "daily"),
        (c["room"], "terminal"),
    ]
    assert "Table paper replaced" in created[0]["items"]
    assert created[1]["due_time"] == "18:00"
    first = created[0]
    assert (first["product"], first["din"], first["contact_seconds"]) == ("Test wipes", "11111111", 60)
    again = await (await login(client, "mgr")).post(f"{c['base']}/plans/defaults", {})
    assert again.json()["created"] == []
    assert (await _cleaning_events()).count("cleaning_plan.create") == 3


async def test_scan_a_room_then_complete_once_even_when_sent_twice(client: Client) -> None:
    c = await _clinic(client)
    plans = await _defaults(client, c)
    asst = await login(client, "asst")
    room = (await asst.get(f"{c['base']}/rooms/{c['room']}")).json()
    assert room["room_name"] == "Exam Room 1"
    bp = next(s for s in room["plans"] if s["plan"]["kind"] == "between_patients")
    assert bp["state"] == "available"
    body = _log_body(
        bp["plan"], items=_answers(bp["plan"], {2: "Chairs out for repair"}), visit_code="V-1042"
    )
    key = str(uuid.uuid4())
    first = await asst.post(f"{c['base']}/logs", body, key=key)
    assert first.status_code == 201, first.text
    replay = await asst.post(f"{c['base']}/logs", body, key=key)  # the outbox sends it again
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert await CleaningLog.count() == 1
    assert await CleaningLogItem.count() == len(plans[0]["items"])
    log = first.json()
    assert (log["items_done"], log["items_skipped"]) == (len(plans[0]["items"]) - 1, 1)
    assert log["items"][2] == {
        "position": 2,
        "text": "Chairs",
        "done": False,
        "skip_reason": "Chairs out for repair",
    }
    assert log["actor_name"] == "Asst"
    assert (await _cleaning_events()).count("cleaning.log") == 1
    changed = await asst.post(f"{c['base']}/logs", {**body, "note": "different"}, key=key)
    assert changed.status_code == 409
    assert await CleaningLog.count() == 1


async def test_a_skipped_item_without_a_reason_is_refused_and_changes_nothing(client: Client) -> None:
    c = await _clinic(client)
    plan = (await _defaults(client, c))[0]
    asst = await login(client, "asst")
    before = await AuditEvent.count()
    resp = await asst.post(f"{c['base']}/logs", _log_body(plan, items=_answers(plan, {1: "  "})))
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert problem["code"] == "checklist_invalid"
    assert [f["field"] for f in problem["errors"]] == ["items[1]"]
    missing = await asst.post(f"{c['base']}/logs", _log_body(plan, items=_answers(plan)[1:]))
    assert missing.status_code == 400
    future = utcnow() + timedelta(hours=1)
    late = await asst.post(f"{c['base']}/logs", _log_body(plan, ended_at=future.isoformat()))
    assert late.status_code == 400
    assert await CleaningLog.count() == 0
    assert await AuditEvent.count() == before


async def test_editing_a_plan_makes_a_version_and_never_rewrites_past_logs(client: Client) -> None:
    c = await _clinic(client)
    plan = (await _defaults(client, c))[1]
    asst = await login(client, "asst")
    old_log = (await asst.post(f"{c['base']}/logs", _log_body(plan))).json()
    mgr = await login(client, "mgr")
    resp = await mgr.patch(
        f"{c['base']}/plans/{plan['id']}",
        {"items": ["Exam table", "Floor"], "product": "Demo wipes", "din": "12345678", "contact_seconds": 60},
    )
    assert resp.status_code == 200, resp.text
    new = resp.json()
    assert (new["version"], new["items"], new["contact_seconds"]) == (2, ["Exam table", "Floor"], 60)
    renamed = (await mgr.patch(f"{c['base']}/plans/{plan['id']}", {"due_time": "17:30"})).json()
    assert (renamed["version"], renamed["due_time"]) == (2, "17:30")
    assert await CleaningPlanVersion.count() == 3 + 1
    asst = await login(client, "asst")
    # An offline phone still holding version 1 completes it: accepted against version 1's items.
    offline = await asst.post(f"{c['base']}/logs", _log_body(plan))
    assert offline.status_code == 201, offline.text
    assert offline.json()["version"] == 1
    fresh = (await asst.post(f"{c['base']}/logs", _log_body(new))).json()
    assert (fresh["product"], fresh["din"], fresh["contact_seconds"]) == ("Demo wipes", "12345678", 60)
    page = (await asst.get(f"{c['base']}/logs", params={"plan_id": plan["id"]})).json()
    by_id = {log["id"]: log for log in page["logs"]}
    assert [i["text"] for i in by_id[old_log["id"]]["items"]] == plan["items"]
    assert by_id[old_log["id"]]["version"] == 1
    assert [i["text"] for i in by_id[fresh["id"]]["items"]] == ["Exam table", "Floor"]


async def test_roles(client: Client) -> None:
    c = await _clinic(client)
    plan = (await _defaults(client, c))[0]
    asst = await login(client, "asst")
    assert (await asst.post(f"{c['base']}/plans/defaults", {})).status_code == 403
    assert (await asst.patch(f"{c['base']}/plans/{plan['id']}", {"name": "x"})).status_code == 403
    audit_body = {
        "room_id": c["room"],
        "method": "visual",
        "passed": True,
        "audited_at": utcnow().isoformat(),
    }
    assert (await asst.post(f"{c['base']}/audits", audit_body)).status_code == 403
    assert (await asst.post(f"{c['base']}/logs", _log_body(plan))).status_code == 201
    insp = await login(client, "insp")
    assert (await insp.post(f"{c['base']}/logs", _log_body(plan))).status_code == 403
    assert (await insp.post(f"{c['base']}/plans/{plan['id']}/requests", {})).status_code == 403
    assert (await insp.get(f"{c['base']}/logs")).status_code == 200
    assert (await insp.get(f"{c['base']}/logs/export.csv")).status_code == 200
    assert (await insp.get(f"{c['base']}/compliance")).status_code == 200
    other = await make_site("Other Clinic")
    assert (await insp.get(f"/api/sites/{other}/cleaning/logs")).status_code == 403
    assert await CleaningLog.count() == 1


async def test_plans_are_for_rooms_at_this_site(client: Client) -> None:
    c = await _clinic(client)
    mgr = await login(client, "mgr")
    body = {"room_id": c["fridge"], "kind": "daily", "name": "Wipe", "items": ["Handle"]}
    resp = await mgr.post(f"{c['base']}/plans", body)
    assert resp.status_code == 400
    assert resp.json()["code"] == "not_a_room"
    other = await make_site("Other Clinic")
    far_room = await make_location(other, "Their room")
    assert (await mgr.post(f"{c['base']}/plans", {**body, "room_id": far_room})).status_code == 404
    weekly = {**body, "room_id": c["room"], "kind": "weekly"}
    assert (await mgr.post(f"{c['base']}/plans", weekly)).json()["code"] == "weekday_required"
    assert (await mgr.post(f"{c['base']}/plans", {**weekly, "items": []})).status_code == 400
    ok = await mgr.post(f"{c['base']}/plans", {**weekly, "weekday": 4, "due_time": "16:00"})
    assert ok.status_code == 201, ok.text
    assert await CleaningPlan.count() == 1


async def test_a_request_makes_an_on_demand_plan_due_until_it_is_logged(client: Client) -> None:
    c = await _clinic(client)
    plans = await _defaults(client, c)
    bp, daily = plans[0], plans[1]
    asst = await login(client, "asst")
    assert (await asst.post(f"{c['base']}/plans/{daily['id']}/requests", {})).json()[
        "code"
    ] == "not_on_demand"
    assert (
        await asst.post(f"{c['base']}/plans/{bp['id']}/requests", {"note": "Room 1 free"})
    ).status_code == 201
    tasks = (await asst.get(f"{c['base']}/tasks")).json()
    assert bp["id"] in [t["plan_id"] for t in tasks if t["state"] == "due"]
    end = utcnow() + timedelta(seconds=30)  # within the allowed clock skew, after the request
    body = _log_body(bp, ended_at=end.isoformat(), started_at=(end - timedelta(minutes=3)).isoformat())
    assert (await asst.post(f"{c['base']}/logs", body)).status_code == 201
    tasks = (await asst.get(f"{c['base']}/tasks")).json()
    assert bp["id"] not in [t["plan_id"] for t in tasks]


async def test_inspector_view_filters_and_exports(client: Client) -> None:
    c = await _clinic(client)
    room2 = await make_location(c["site"], "Exam Room 2")
    plans = await _defaults(client, c)
    asst = await login(client, "asst")
    now = utcnow()
    for plan in plans[:2]:  # room 1: between patients and daily
        for hours in (50, 2):
            end = now - timedelta(hours=hours)
            body = _log_body(
                plan, ended_at=end.isoformat(), started_at=(end - timedelta(minutes=5)).isoformat()
            )
            assert (await asst.post(f"{c['base']}/logs", body)).status_code == 201
    room2_plan = next(p for p in plans if p["room_id"] == room2 and p["kind"] == "daily")
    skipped = _answers(room2_plan, {0: "No wipes left"})
    body = _log_body(room2_plan, items=skipped, note="=HYPERLINK(evil)")
    assert (await asst.post(f"{c['base']}/logs", body)).status_code == 201
    insp = await login(client, "insp")
    every = (await insp.get(f"{c['base']}/logs", params={"limit": 2})).json()
    assert len(every["logs"]) == 2 and every["next_cursor"]
    rest = (await insp.get(f"{c['base']}/logs", params={"limit": 10, "cursor": every["next_cursor"]})).json()
    assert len(rest["logs"]) == 3 and rest["next_cursor"] is None
    ends = [log["ended_at"] for log in every["logs"] + rest["logs"]]
    assert ends == sorted(ends, reverse=True)
    params = {"room_id": c["room"], "start": (now - timedelta(hours=24)).isoformat()}
    recent = (await insp.get(f"{c['base']}/logs", params=params)).json()["logs"]
    assert sorted(log["plan_id"] for log in recent) == sorted(p["id"] for p in plans[:2])
    naive = await insp.get(f"{c['base']}/logs", params={"start": "2026-01-01T00:00:00"})
    assert naive.status_code == 400
    exported = await insp.get(f"{c['base']}/logs/export.csv", params={"room_id": room2})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 1
    assert rows[0]["room"] == "Exam Room 2"
    assert rows[0]["skipped"] == "Exam table: No wipes left"
    assert rows[0]["note"] == "'=HYPERLINK(evil)"  # a spreadsheet shows it, never runs it
    assert rows[0]["by"] == "Asst"
    pdf = await insp.get(f"{c['base']}/logs/export.pdf", params={"room_id": c["room"]})
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


async def test_audits_recorded_by_managers_and_listed(client: Client) -> None:
    c = await _clinic(client)
    plan = (await _defaults(client, c))[0]
    mgr = await login(client, "mgr")
    at = (utcnow() - timedelta(hours=1)).isoformat()
    body = {
        "room_id": c["room"],
        "plan_id": plan["id"],
        "method": "fluorescent",
        "passed": False,
        "score": 60,
        "comments": "BP cuff marker not removed",
        "audited_at": at,
    }
    resp = await mgr.post(f"{c['base']}/audits", body)
    assert resp.status_code == 201, resp.text
    assert (resp.json()["method"], resp.json()["passed"], resp.json()["score"]) == ("fluorescent", False, 60)
    bad = await mgr.post(f"{c['base']}/audits", {**body, "method": "swab"})
    assert bad.status_code == 400
    insp = await login(client, "insp")
    listed = (await insp.get(f"{c['base']}/audits", params={"room_id": c["room"]})).json()
    assert [a["comments"] for a in listed] == ["BP cuff marker not removed"]
    assert (await _cleaning_events()).count("cleaning_audit.create") == 1


async def test_days_are_the_sites_local_days(client: Client) -> None:
    c = await _clinic(client)  # America/Toronto
    plan = (await _defaults(client, c))[1]
    asst = await login(client, "asst")
    # 23:30 EDT on June 10 is June 11 in UTC; 00:30 EDT on June 11 is June 11 in both.
    for end in ("2026-06-11T03:30:00+00:00", "2026-06-11T04:30:00+00:00"):
        body = _log_body(plan, ended_at=end, started_at=end.replace(":30:00", ":20:00"))
        await service.complete(
            SYSTEM, c["site"], msgspec.convert(body, LogCreate), now=datetime.fromisoformat(end)
        )
    june10 = (
        await asst.get(f"{c['base']}/logs", params={"from_date": "2026-06-10", "to_date": "2026-06-10"})
    ).json()
    assert [log["ended_at"][:16] for log in june10["logs"]] == ["2026-06-11T03:30"]
    june11 = (await asst.get(f"{c['base']}/logs", params={"from_date": "2026-06-11"})).json()
    assert [log["ended_at"][:16] for log in june11["logs"]] == ["2026-06-11T04:30"]
    exported = await asst.get(f"{c['base']}/logs/export.csv", params={"to_date": "2026-06-10"})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["ended_at"] for r in rows] == ["2026-06-10 23:30 EDT"]
    bad = await asst.get(f"{c['base']}/logs", params={"from_date": "2026-02-30"})
    assert bad.status_code == 400


async def test_default_checklists_a_new_plan_starts_from(client: Client) -> None:
    c = await _clinic(client)
    insp = await login(client, "insp")
    found = (await insp.get(f"{c['base']}/plans/templates")).json()
    assert [t["kind"] for t in found] == ["between_patients", "daily", "terminal"]
    assert "Table paper replaced" in found[0]["items"]
    assert "Door handles and light switches" in found[2]["items"]
    other = await make_site("Other Clinic")
    assert (await insp.get(f"/api/sites/{other}/cleaning/plans/templates")).status_code == 403
