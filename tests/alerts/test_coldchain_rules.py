"""Cold chain alerts: an excursion is raised by the reading that finds it; missing readings by the
sweep, in the site's time zone; both clear when dealt with."""

from __future__ import annotations

from datetime import UTC, datetime

from server.alerts.rules import READING_MISSING, TEMPERATURE_EXCURSION
from server.alerts.sweep import sweep
from server.alerts.tables import Alert
from tests.coldchain.test_routes import _reading, _setup
from tests.factories import Client, login


async def test_an_excursion_raises_a_critical_alert_at_once_and_it_clears_on_close(client: Client) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    incident = (await amy.post(d["readings"], _reading(9.4, 4.2, 11.2))).json()["incident"]
    # No sweep has run: the reading's own transaction raised it.
    [alert] = await Alert.select().where(Alert.resolved_at.is_null())
    assert (alert["rule"], alert["subject"], alert["severity"]) == (
        "temperature_excursion",
        f"incident:{incident['id']}",
        "critical",
    )
    assert alert["title"].startswith("Temperature out of range: Vaccine Fridge.") and alert["quantity"] == 2

    mo = await login(client, "mo")
    url = f"{d['incidents']}/{incident['id']}"
    assert (await mo.post(f"{url}/phu-notified", {"contact": "PHU duty nurse"})).status_code == 201
    assert (await mo.post(d["readings"], _reading(5.0))).status_code == 201
    for lot in (d["a1"], d["b2"]):
        decided = await mo.post(f"{url}/decisions", {"lot_id": lot, "decision": "released"})
        assert decided.status_code == 201, decided.text
    await sweep(datetime.now(UTC), [TEMPERATURE_EXCURSION])
    assert (await Alert.select(Alert.quantity).first())["quantity"] == 0  # nothing left to decide
    assert (await mo.post(f"{url}/close", {"summary": "PHU: all usable"})).status_code == 201
    await sweep(datetime.now(UTC), [TEMPERATURE_EXCURSION])
    assert await Alert.count().where(Alert.resolved_at.is_null()) == 0


async def test_missing_readings_are_alerts_per_slot_and_clear_when_taken(client: Client) -> None:
    d = await _setup(client)
    mo = await login(client, "mo")
    sched = await mo.put(f"{d['base']}/schedule", {"times": "08:30, 16:00", "grace_minutes": 30})
    assert sched.status_code == 200, sched.text
    ten_am = datetime(2026, 6, 10, 14, 0, tzinfo=UTC)  # 10:00 in Toronto: 08:30 is late, 16:00 is not due
    await sweep(ten_am, [READING_MISSING])
    found = {r["subject"]: r for r in await Alert.select().where(Alert.resolved_at.is_null())}
    assert set(found) == {f"reading:{f}:2026-06-10:08:30" for f in (d["fridge"], d["other_fridge"])}
    assert found[f"reading:{d['fridge']}:2026-06-10:08:30"]["title"] == (
        "Temperature reading missing: Vaccine Fridge, 08:30 on 2026-06-10"
    )
    late = await mo.post(d["readings"], _reading(5.0, taken_at="2026-06-10T12:40:00Z"))  # 08:40 there
    assert late.status_code == 201, late.text
    await sweep(ten_am.replace(minute=5), [READING_MISSING])  # the next sweep
    still = [r["subject"] for r in await Alert.select(Alert.subject).where(Alert.resolved_at.is_null())]
    assert still == [f"reading:{d['other_fridge']}:2026-06-10:08:30"]
