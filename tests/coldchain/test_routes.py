from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from server.clock import utcnow
from server.coldchain.tables import ColdChainIncident, IncidentLot, TemperatureReading
from server.core import audit
from server.core.rules import LocationKind, Role
from server.core.tables import AuditEvent
from server.stock.tables import Lot, Movement
from tests.factories import Client, login, make_location, make_site, make_user
from tests.stock.factories import make_item, receive
from tests.stock.test_ledger import _ledger_matches_levels


async def _setup(client: Client) -> dict[str, Any]:
    site = await make_site()
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    other_fridge = await make_location(site, "Second Fridge", LocationKind.FRIDGE)
    room = await make_location(site, "Exam Room 1", LocationKind.ROOM)
    flu = await make_item(site, "Influenza vaccine")
    tdap = await make_item(site, "Tdap vaccine")
    a1 = (await receive(site, flu, fridge, 10, lot="A1")).lot.id
    b2 = (await receive(site, tdap, fridge, 4, lot="B2", expiry=date(2030, 6, 30))).lot.id
    c3 = (await receive(site, flu, other_fridge, 3, lot="C3")).lot.id
    for name, role in (("amy", Role.ASSISTANT), ("mo", Role.MANAGER), ("ivy", Role.INSPECTOR)):
        await make_user(name, site_id=site, role=role)
    base = f"/api/sites/{site}/coldchain"
    return {
        "site": site,
        "fridge": fridge,
        "other_fridge": other_fridge,
        "room": room,
        "flu": flu,
        "a1": a1,
        "b2": b2,
        "c3": c3,
        "base": base,
        "readings": f"{base}/fridges/{fridge}/readings",
        "incidents": f"{base}/incidents",
    }


def _reading(current: float, low: float = 4.0, high: float = 6.0, **more: Any) -> dict[str, Any]:
    return {"current": current, "min": low, "max": high, "initials": "AB", **more}


async def _status(lot: int) -> tuple[str, str]:
    row = await Lot.select(Lot.status, Lot.status_reason).where(Lot.id == lot).first()
    assert row is not None
    return str(row["status"]), str(row["status_reason"])


@pytest.mark.parametrize(
    ("reading", "opens"),
    [
        (_reading(2.0, 2.0, 8.0), False),
        (_reading(8.0, 2.0, 8.0), False),
        (_reading(1.9, 1.9, 5.0), True),
        (_reading(8.1, 5.0, 8.1), True),
        (_reading(5.0, 1.9, 6.0), True),  # only the min
        (_reading(5.0, 4.0, 8.1), True),  # only the max
    ],
)
async def test_edge_values_open_an_incident_only_outside_the_range(
    client: Client, reading: dict[str, Any], opens: bool
) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    resp = await amy.post(d["readings"], reading)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert (body["incident"] is not None) == opens
    assert await ColdChainIncident.count() == int(opens)
    assert (await _status(d["a1"]))[0] == ("quarantined" if opens else "available")
    assert (await _status(d["c3"]))[0] == "available"  # the other fridge is not touched


async def test_an_excursion_holds_every_lot_in_the_fridge_at_once(client: Client) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    ok = await amy.post(d["readings"], _reading(5.0))
    assert ok.status_code == 201 and ok.json()["incident"] is None
    resp = await amy.post(d["readings"], _reading(9.4, 4.2, 11.2))
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["reading"]["out_of_range"] == ["current", "max"]
    assert "DO NOT USE" in body["message"]
    incident = body["incident"]
    assert (incident["lowest"], incident["highest"], incident["status"]) == (4.2, 11.2, "open")
    assert incident["since"] == ok.json()["reading"]["taken_at"]  # exposure began after the last good one
    assert incident["ended_at"] is None
    assert [
        (x["lot_number"], x["item_name"], x["quantity"], x["status_before"]) for x in incident["lots"]
    ] == [
        ("A1", "Influenza vaccine", 10, "available"),
        ("B2", "Tdap vaccine", 4, "available"),
    ]
    status, reason = await _status(d["a1"])
    assert status == "quarantined"
    assert reason.startswith("DO NOT USE: cold chain excursion in Vaccine Fridge (4.2 to 11.2 °C")
    # Quarantined stock cannot be used (the Stock block).
    use = await amy.post(
        f"/api/sites/{d['site']}/movements/use", {"lot_id": d["a1"], "location_id": d["fridge"]}
    )
    assert use.status_code == 422 and use.json()["code"] == "lot_quarantined"
    # A second out-of-range reading extends the same incident; an in-range one marks its end.
    again = await amy.post(d["readings"], _reading(8.5, 1.5, 9.0))
    assert again.json()["incident"]["id"] == incident["id"]
    assert again.json()["incident"]["lowest"] == 1.5
    back = await amy.post(d["readings"], _reading(5.1, 4.9, 5.3))
    assert back.json()["incident"] is None
    detail = (await amy.get(f"{d['incidents']}/{incident['id']}")).json()
    assert detail["ended_at"] is not None and detail["status"] == "open"
    assert await ColdChainIncident.count() == 1
    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.id)]
    assert actions.count("coldchain.reading") == 4
    assert actions.count("coldchain.incident_open") == 1 and actions.count("coldchain.incident_extend") == 1
    assert actions.count("lot.status") == 2
    assert all(s.ok for s in await audit.verify_all())


async def test_incident_workflow_release_discard_return_and_close(client: Client) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    # An opened multi-dose vial is part of the snapshot.
    incident = (await amy.post(d["readings"], _reading(12.0, 4.0, 12.0))).json()["incident"]
    url = f"{d['incidents']}/{incident['id']}"
    mo = await login(client, "mo")
    early = await mo.post(f"{url}/close", {"summary": "Done"})
    assert early.status_code == 422 and early.json()["code"] == "phu_not_notified"
    phu = await mo.post(f"{url}/phu-notified", {"contact": "Halton PHU, Jane, case 1234"})
    assert phu.status_code == 201, phu.text
    assert phu.json()["phu_notified_by"] and phu.json()["phu_contact"].startswith("Halton")
    twice = await mo.post(f"{url}/phu-notified", {"contact": "again"})
    assert twice.status_code == 409 and twice.json()["code"] == "phu_already_notified"
    assert (await mo.post(f"{url}/logs-sent", {"note": "4 weeks by fax"})).status_code == 201
    still_out = await mo.post(f"{url}/close", {"summary": "Done"})
    assert still_out.status_code == 422 and still_out.json()["code"] == "still_out_of_range"
    assert (await mo.post(d["readings"], _reading(5.0))).status_code == 201  # managers record too
    undecided = await mo.post(f"{url}/close", {"summary": "Done"})
    assert undecided.status_code == 422 and undecided.json()["code"] == "lots_undecided"

    released = await mo.post(
        f"{url}/decisions", {"lot_id": d["a1"], "decision": "released", "note": "stable"}
    )
    assert released.status_code == 201, released.text
    assert (await _status(d["a1"]))[0] == "available"
    again = await mo.post(f"{url}/decisions", {"lot_id": d["a1"], "decision": "discarded"})
    assert again.status_code == 409 and again.json()["code"] == "lot_already_decided"
    stranger = await mo.post(f"{url}/decisions", {"lot_id": d["c3"], "decision": "released"})
    assert stranger.status_code == 404 and stranger.json()["code"] == "incident_lot_not_found"
    discarded = await mo.post(f"{url}/decisions", {"lot_id": d["b2"], "decision": "discarded"})
    assert discarded.status_code == 201, discarded.text
    waste = (
        await Movement.select().where(Movement.lot == d["b2"]).order_by(Movement.id, ascending=False).first()
    )
    assert waste is not None
    assert (waste["kind"], waste["reason"], waste["quantity"]) == ("waste", "cold_chain", -4)
    assert (await _status(d["b2"]))[0] == "quarantined"  # never usable again

    closed = await mo.post(f"{url}/close", {"summary": "PHU: flu usable, Tdap discarded."})
    assert closed.status_code == 201, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["summary"].startswith("PHU")
    after = await mo.post(f"{url}/logs-sent", {})
    assert after.status_code == 409 and after.json()["code"] == "incident_closed"
    pdf = await mo.get(f"{url}/report.pdf?weeks=2")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = _pdf_text(pdf.content)
    assert f"Cold chain incident #{incident['id']}: Vaccine Fridge" in text
    assert "Halton PHU, Jane, case 1234" in text and "PHU: flu usable, Tdap discarded." in text
    assert "Influenza vaccine" in text and "released" in text and "discarded" in text
    assert "12.0" in text and "current max" in text  # the out-of-range reading, with its fields
    assert (await mo.get(f"{url}/report.pdf?weeks=9")).status_code == 400
    await _ledger_matches_levels()
    assert all(s.ok for s in await audit.verify_all())
    # A new excursion after closing opens a new incident.
    new = (await mo.post(d["readings"], _reading(1.0, 1.0, 5.0))).json()["incident"]
    assert new["id"] != incident["id"] and [x["lot_number"] for x in new["lots"]] == ["A1"]


async def test_return_moves_the_rest_out_and_a_lot_held_twice_waits_for_both(client: Client) -> None:
    d = await _setup(client)
    # A1 is in both fridges; both fail.
    await receive(d["site"], d["flu"], d["other_fridge"], 2, lot="A1")
    amy = await login(client, "amy")
    first = (await amy.post(d["readings"], _reading(9.0, 5.0, 9.0))).json()["incident"]
    second_url = f"{d['base']}/fridges/{d['other_fridge']}/readings"
    second = (await amy.post(second_url, _reading(9.0, 5.0, 9.0))).json()["incident"]
    assert [x["status_before"] for x in second["lots"]] == ["quarantined", "available"]  # A1 held already
    mo = await login(client, "mo")
    one = f"{d['incidents']}/{first['id']}/decisions"
    assert (await mo.post(one, {"lot_id": d["a1"], "decision": "released"})).status_code == 201
    assert (await _status(d["a1"]))[0] == "quarantined"  # still held by the other fridge's incident
    returned = await mo.post(one, {"lot_id": d["b2"], "decision": "returned"})
    assert returned.status_code == 201
    move = (
        await Movement.select().where(Movement.lot == d["b2"]).order_by(Movement.id, ascending=False).first()
    )
    assert move is not None and (move["kind"], move["quantity"]) == ("return", -4)
    two = f"{d['incidents']}/{second['id']}/decisions"
    assert (await mo.post(two, {"lot_id": d["a1"], "decision": "released"})).status_code == 201
    # Held by the first incident's excursion only: the second does not release it either.
    assert (await _status(d["a1"]))[0] == "quarantined"
    await _ledger_matches_levels()


async def test_roles_assistants_record_managers_decide_inspectors_read(client: Client) -> None:
    d = await _setup(client)
    ivy = await login(client, "ivy")
    refused = await ivy.post(d["readings"], _reading(5.0))
    assert refused.status_code == 403
    amy = await login(client, "amy")
    incident = (await amy.post(d["readings"], _reading(9.0, 5.0, 9.0))).json()["incident"]
    url = f"{d['incidents']}/{incident['id']}"
    for path, body in (
        ("phu-notified", {"contact": "x"}),
        ("logs-sent", {}),
        ("decisions", {"lot_id": d["a1"], "decision": "released"}),
        ("close", {"summary": "x"}),
    ):
        assert (await amy.post(f"{url}/{path}", body)).status_code == 403
    assert (await amy.put(f"{d['base']}/schedule", {"times": "08:00,15:00"})).status_code == 403
    assert (
        await amy.put(f"{d['base']}/fridges/{d['fridge']}/range", {"low": 2, "high": 8})
    ).status_code == 403
    ivy = await login(client, "ivy")
    assert (await ivy.get(d["readings"])).status_code == 200
    assert (await ivy.get(f"{d['incidents']}?status=open")).json()[0]["id"] == incident["id"]
    assert (await ivy.get(f"{d['base']}/fridges")).status_code == 200
    assert (await ivy.post(f"{url}/close", {"summary": "x"})).status_code == 403
    # Another site's people see nothing here.
    other = await make_site("Other Clinic")
    await make_user("oscar", site_id=other, role=Role.MANAGER)
    oscar = await login(client, "oscar")
    assert (await oscar.get(url)).status_code == 403
    assert (await oscar.get(f"/api/sites/{other}/coldchain/incidents/{incident['id']}")).status_code == 404


async def test_bad_readings_are_refused_and_change_nothing(client: Client) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    future = (utcnow() + timedelta(hours=1)).isoformat()
    cases = [
        (_reading(5.25), 400, "temperature_invalid"),
        (_reading(5.0, 6.0, 7.0), 400, "min_max_order"),
        (_reading(5.0, taken_at=future), 400, "taken_at_future"),
        (_reading(99.0), 400, None),
        ({"current": 5.0}, 400, None),
        ({**_reading(5.0), "extra": 1}, 400, None),
    ]
    for body, status, code in cases:
        resp = await amy.post(d["readings"], body)
        assert resp.status_code == status, (body, resp.text)
        assert resp.headers["content-type"].startswith("application/problem+json")
        if code:
            assert resp.json()["code"] == code
    room = await amy.post(f"{d['base']}/fridges/{d['room']}/readings", _reading(5.0))
    assert room.status_code == 422 and room.json()["code"] == "not_a_fridge"
    assert (await amy.post(f"{d['base']}/fridges/999999/readings", _reading(5.0))).status_code == 404
    assert await TemperatureReading.count() == 0
    assert await AuditEvent.count().where(AuditEvent.action.like("coldchain.%")) == 0


async def test_a_reading_is_recorded_exactly_once(client: Client) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    key = str(uuid.uuid4())
    first = await amy.post(d["readings"], _reading(9.0, 5.0, 9.0), key=key)
    replay = await amy.post(d["readings"], _reading(9.0, 5.0, 9.0), key=key)
    assert first.status_code == 201 and replay.status_code == 201
    assert replay.json() == first.json()
    assert await TemperatureReading.count() == 1 and await ColdChainIncident.count() == 1
    assert await IncidentLot.count() == 2
    changed = await amy.post(d["readings"], _reading(5.0), key=key)
    assert changed.status_code == 409


async def test_range_schedule_closed_days_and_due_readings(client: Client) -> None:
    d = await _setup(client)
    mo = await login(client, "mo")
    freezer = await make_location(d["site"], "Freezer", LocationKind.FREEZER)
    fridges = (await mo.get(f"{d['base']}/fridges")).json()
    assert [(f["name"], f["low"], f["high"]) for f in fridges] == [
        ("Freezer", -50.0, -15.0),
        ("Second Fridge", 2.0, 8.0),
        ("Vaccine Fridge", 2.0, 8.0),
    ]
    assert (
        await mo.put(f"{d['base']}/fridges/{freezer}/range", {"low": -25.0, "high": -15.0})
    ).status_code == 200
    bad = await mo.put(f"{d['base']}/fridges/{freezer}/range", {"low": -15.0, "high": -25.0})
    assert bad.status_code == 400 and bad.json()["code"] == "range_invalid"
    cold = await mo.post(f"{d['base']}/fridges/{freezer}/readings", _reading(-20.0, -22.0, -18.0))
    assert cold.json()["incident"] is None
    bad_times = await mo.put(f"{d['base']}/schedule", {"times": "9 o'clock"})
    assert bad_times.status_code == 400 and bad_times.json()["code"] == "times_invalid"
    sched = await mo.put(f"{d['base']}/schedule", {"times": "16:00, 08:30", "grace_minutes": 30})
    assert sched.json() == {"times": ["08:30", "16:00"], "grace_minutes": 30, "timezone": "America/Toronto"}
    # A past day with no readings: every slot of the three fridges is overdue.
    slots = (await mo.get(f"{d['base']}/due?day=2026-03-08")).json()
    assert len(slots) == 6 and {s["status"] for s in slots} == {"overdue"}
    assert slots[0]["time"] == "08:30" and slots[0]["due_at"] == "2026-03-08T12:30:00Z"
    closed = await mo.post(f"{d['base']}/closed-days", {"day": "2026-03-08", "note": "Sunday"})
    assert closed.status_code == 201
    assert (await mo.post(f"{d['base']}/closed-days", {"day": "2026-03-08"})).status_code == 409
    slots = (await mo.get(f"{d['base']}/due?day=2026-03-08")).json()
    assert {s["status"] for s in slots} == {"closed"}
    assert (await mo.get(f"{d['base']}/due?day=2026-03-08&missing=true")).json() == []
    today = (await mo.get(f"{d['base']}/due")).json()
    freezer_today = [s["status"] for s in today if s["location_id"] == freezer]
    assert "done" in freezer_today


async def test_readings_by_period_and_the_chart(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from server.coldchain import readings

    d = await _setup(client)
    amy = await login(client, "amy")
    await amy.post(d["readings"], _reading(5.0))
    await amy.post(d["readings"], _reading(9.0, 5.0, 9.0))
    listed = (await amy.get(d["readings"])).json()
    assert [r["current"] for r in listed] == [5.0, 9.0]
    assert listed[1]["out_of_range"] == ["current", "max"] and listed[1]["incident_id"] is not None
    assert (await amy.get(f"{d['readings']}?from=2020-01-01&to=2020-01-31")).json() == []
    backwards = await amy.get(f"{d['readings']}?from=2020-02-01&to=2020-01-31")
    assert backwards.status_code == 400
    svg = await amy.get(f"/api/sites/{d['site']}/coldchain/fridges/{d['fridge']}/chart.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg") and 'class="band"' in svg.text
    assert svg.text.count('class="excursion"') == 1 and svg.text.count("<circle") == 2
    today = utcnow().astimezone(ZoneInfo("America/Toronto"))
    assert f"to {today.date()}</title>" in svg.text  # local days, the last one included
    taken = datetime.fromisoformat(listed[1]["taken_at"]).astimezone(ZoneInfo("America/Toronto"))
    assert f"{taken:%Y-%m-%d %H:%M}: 9.0 °C" in svg.text  # points are labelled in the site's time
    monkeypatch.setattr(readings, "MAX_READINGS", 1)
    too_many = await amy.get(d["readings"])
    assert too_many.status_code == 400 and too_many.json()["code"] == "period_too_long"


LOGGER_CSV = (
    "timestamp,temperature\n"
    "2026-03-01 10:00,4.5\n"
    "2026-03-01 10:10,4.6\n"
    "2026-03-01 10:10,4.6\n"
    "2026-03-01 10:20,oops\n"
    "2026-03-01 11:20,8.6\n"
    "2026-03-01 11:30,9.1\n"
    "2026-03-01 11:40,5.0\n"
)


async def test_logger_import_dry_run_then_import_with_gaps_duplicates_and_an_excursion(
    client: Client,
) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    url = f"{d['base']}/fridges/{d['fridge']}/logger-import"
    dry = await amy.post(url, {"csv": LOGGER_CSV})
    assert dry.status_code == 201, dry.text
    body = dry.json()
    assert (body["dry_run"], body["rows"], body["imported"], body["out_of_range"]) == (True, 5, 0, 2)
    assert [e["row"] for e in body["errors"]] == [5]
    assert [x["row"] for x in body["duplicates"]] == [4]
    assert [g["minutes"] for g in body["gaps"]] == [70]
    assert await TemperatureReading.count() == 0 and await ColdChainIncident.count() == 0
    done = (await amy.post(url, {"csv": LOGGER_CSV, "dry_run": False})).json()
    assert (done["imported"], done["already_recorded"]) == (5, 0) and done["incident_id"]
    incident = (await amy.get(f"{d['incidents']}/{done['incident_id']}")).json()
    assert (incident["lowest"], incident["highest"]) == (8.6, 9.1)
    assert incident["started_at"] == "2026-03-01T16:20:00Z" and incident["ended_at"] == "2026-03-01T16:40:00Z"
    assert (await _status(d["a1"]))[0] == "quarantined"
    # The same download again: nothing new.
    again = (await amy.post(url, {"csv": LOGGER_CSV, "dry_run": False})).json()
    assert (again["imported"], again["already_recorded"]) == (0, 5)
    assert await TemperatureReading.count() == 5
    assert await AuditEvent.count().where(AuditEvent.action == "coldchain.logger_import") == 1


async def test_logger_import_with_a_bad_header_imports_nothing(client: Client) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    url = f"{d['base']}/fridges/{d['fridge']}/logger-import"
    resp = await amy.post(url, {"csv": "when,reading\n2026-03-01 10:00,4.5\n", "dry_run": False})
    assert resp.status_code == 400 and resp.json()["code"] == "csv_header_invalid"
    assert await TemperatureReading.count() == 0


@pytest.mark.postgres_only
async def test_racing_excursions_on_one_fridge_open_one_incident(client: Client) -> None:
    import asyncio

    from server.coldchain import readings
    from server.coldchain.schemas import ReadingIn
    from server.core.auth import SYSTEM

    d = await _setup(client)
    hot = ReadingIn(current=9.0, min=5.0, max=9.0)
    results = await asyncio.gather(
        *[readings.record_reading(SYSTEM, d["site"], d["fridge"], hot, now=utcnow()) for _ in range(4)]
    )
    assert len({r.incident.id for r in results if r.incident}) == 1
    assert await ColdChainIncident.count() == 1 and await IncidentLot.count() == 2
    assert await TemperatureReading.count() == 4
    assert await AuditEvent.count().where(AuditEvent.action == "lot.status") == 2
    assert all(s.ok for s in await audit.verify_all())


@pytest.mark.postgres_only
async def test_two_managers_recording_the_phu_call_at_once_record_it_once(client: Client) -> None:
    import asyncio

    from server.coldchain import incidents
    from server.coldchain.schemas import PhuNotifiedIn
    from server.core.auth import SYSTEM
    from server.errors import Conflict

    d = await _setup(client)
    amy = await login(client, "amy")
    incident = (await amy.post(d["readings"], _reading(9.0, 5.0, 9.0))).json()["incident"]
    calls = [
        incidents.phu_notified(
            SYSTEM, d["site"], incident["id"], PhuNotifiedIn(contact=f"call {i}"), now=utcnow()
        )
        for i in range(3)
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, Exception))
    assert await AuditEvent.count().where(AuditEvent.action == "coldchain.phu_notified") == 1


def _pdf_text(pdf: bytes) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    finally:
        doc.close()


async def test_monthly_log_sheet_pdf_and_csv_export(client: Client) -> None:
    d = await _setup(client)
    mo = await login(client, "mo")
    # March 2026 in Toronto: the 8th is the spring DST change; morning 09:00 EDT = 13:00 UTC.
    for body in (
        _reading(4.8, 3.9, 6.1, taken_at="2026-03-02T14:05:00Z", initials="AB"),  # 09:05 EST
        _reading(5.2, 4.0, 6.0, taken_at="2026-03-02T21:02:00Z", initials="CD"),  # 16:02 EST
        _reading(8.3, 4.0, 8.3, taken_at="2026-03-08T13:10:00Z", initials="AB"),  # 09:10 EDT, out of range
    ):
        assert (await mo.post(d["readings"], body)).status_code == 201
    assert (
        await mo.post(f"{d['base']}/closed-days", {"day": "2026-03-01", "note": "Sunday"})
    ).status_code == 201
    url = f"{d['base']}/fridges/{d['fridge']}/log-sheet.pdf?month=2026-03"
    resp = await mo.get(url)
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    text = _pdf_text(resp.content)
    assert "Vaccine fridge temperature log: March 2026" in text and "Vaccine Fridge" in text
    assert "09:05" in text and "16:02" in text and "4.8" in text and "6.1" in text and "CD" in text
    assert "09:10" in text and "8.3*" in text  # local time after the DST change, flagged
    assert "CLOSED" in text and "closed: Sunday" in text
    assert "missing" in text  # e.g. the afternoon of the 8th
    assert "Tue 31" in text
    bad = await mo.get(f"{d['base']}/fridges/{d['fridge']}/log-sheet.pdf?month=2026-13")
    assert bad.status_code == 400
    csv_resp = await mo.get(f"{d['readings']}.csv?from=2026-03-01&to=2026-03-31")
    assert csv_resp.status_code == 200 and csv_resp.headers["content-type"].startswith("text/csv")
    lines = csv_resp.text.strip().splitlines()
    assert lines[0].startswith("taken_at_local,taken_at_utc,current_c")
    assert len(lines) == 4 and lines[3].startswith("2026-03-08 09:10,") and ",current max," in lines[3]
    ivy_ok = await login(client, "ivy")
    assert (await ivy_ok.get(url)).status_code == 200  # inspectors read and export


async def test_the_fridge_list_and_due_readings_cost_the_same_queries_for_any_number_of_units(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.coldchain import readings
    from tests.stock.test_queries import counting_queries

    d = await _setup(client)
    amy = await login(client, "amy")
    await amy.post(d["readings"], _reading(5.0))
    await amy.post(d["readings"], _reading(5.5))
    with counting_queries(monkeypatch) as few:
        listed = await readings.list_fridges(d["site"])
        await readings.due_readings(d["site"], None, now=utcnow(), only_missing=False)
    assert [f.last_reading.current if f.last_reading else None for f in listed] == [None, 5.5]
    for i in range(4):
        place = await make_location(d["site"], f"Fridge {i}", LocationKind.FRIDGE)
        await amy.post(f"{d['base']}/fridges/{place}/readings", _reading(9.0, 5.0, 9.0))
    with counting_queries(monkeypatch) as many:
        listed = await readings.list_fridges(d["site"])
        await readings.due_readings(d["site"], None, now=utcnow(), only_missing=False)
    assert len(listed) == 6 and sum(1 for f in listed if f.open_incident_id) == 4
    assert len(many) == len(few) <= 16


async def test_a_correction_is_a_new_reading_that_names_the_one_it_corrects(client: Client) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    first = (await amy.post(d["readings"], _reading(5.0))).json()["reading"]
    url = f"{d['readings']}/{first['id']}/correct"
    no_reason = await amy.post(url, {"current": 5.2, "min": 4.0, "max": 6.0})
    assert no_reason.status_code == 400
    fixed = await amy.post(url, {"current": 5.2, "min": 4.0, "max": 6.0, "reason": "Misread the display"})
    assert fixed.status_code == 201, fixed.text
    correction = fixed.json()["reading"]
    assert (correction["corrects"], correction["reason"], correction["taken_at"]) == (
        first["id"],
        "Misread the display",
        first["taken_at"],
    )
    again = await amy.post(url, {"current": 5.3, "min": 4.0, "max": 6.0, "reason": "x"})
    assert again.status_code == 409 and again.json()["code"] == "already_corrected"
    # A correction that is out of range holds the stock like any reading.
    hot = await amy.post(
        f"{d['readings']}/{correction['id']}/correct",
        {"current": 9.2, "min": 4.0, "max": 9.2, "reason": "Typo"},
    )
    assert hot.status_code == 201 and hot.json()["incident"] is not None
    assert (await _status(d["a1"]))[0] == "quarantined"
    listed = (await amy.get(d["readings"])).json()
    assert [(r["current"], r["corrected"]) for r in listed] == [(5.0, True), (5.2, True), (9.2, False)]
    csv_text = (await amy.get(f"{d['readings']}.csv")).text
    assert csv_text.splitlines()[0].endswith("corrects_id,correction_reason,corrected")
    svg = (await amy.get(f"{d['base']}/fridges/{d['fridge']}/chart.svg")).text
    assert svg.count("<circle") == 1  # only what stands
    assert await AuditEvent.count().where(AuditEvent.action == "coldchain.correction") == 2
    # Another fridge's reading, a logger reading, an inspector: refused.
    other = await amy.post(
        f"{d['base']}/fridges/{d['other_fridge']}/readings/{first['id']}/correct",
        {"current": 5.0, "min": 4.0, "max": 6.0, "reason": "x"},
    )
    assert other.status_code == 404 and other.json()["code"] == "reading_not_found"
    await amy.post(
        f"{d['base']}/fridges/{d['fridge']}/logger-import",
        {"csv": "timestamp,temperature\n2026-03-01 10:00,4.5\n", "dry_run": False},
    )
    logged = (
        await TemperatureReading.select(TemperatureReading.id)
        .where(TemperatureReading.source == "logger")
        .first()
    )
    assert logged is not None
    refused = await amy.post(
        f"{d['readings']}/{logged['id']}/correct", {"current": 5.0, "min": 4.0, "max": 6.0, "reason": "x"}
    )
    assert refused.status_code == 422 and refused.json()["code"] == "logger_reading"
    ivy = await login(client, "ivy")
    assert (await ivy.post(url, {"current": 5.0, "min": 4.0, "max": 6.0, "reason": "x"})).status_code == 403
