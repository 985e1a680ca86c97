"""Alert rules on a known clinic, with a moved clock; the inbox, acknowledge and snooze."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from server.alerts.rules import STOCK_RULES
from server.alerts.service import last_seen
from server.alerts.sweep import sweep as sweep_all
from server.alerts.tables import Alert, AlertSighting
from server.clock import utcnow
from server.core.auth import SYSTEM
from server.core.rules import LocationKind, Role
from server.core.tables import AuditEvent
from server.stock import ledger
from server.stock.rules import ItemKind, LotStatus, WasteReason
from server.stock.schemas import WasteIn
from server.stock.tables import Item
from tests.factories import Client, login, make_location, make_site, make_user
from tests.stock.factories import make_item, receive


async def _clinic(today: date) -> dict[str, Any]:
    site = await make_site()
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    shelf = await make_location(site, "Supply Room", LocationKind.SUPPLY_ROOM)
    flu = await make_item(site, "Influenza vaccine")
    tdap = await make_item(site, "Tdap vaccine")
    gloves = await make_item(site, "Nitrile gloves", kind=ItemKind.SUPPLY)
    await Item.update({Item.reorder_point: 10, Item.par_level: 20}).where(Item.id == flu)
    await Item.update({Item.reorder_point: 5}).where(Item.id == tdap)
    await Item.update({Item.reorder_point: 50}).where(Item.id == gloves)
    soon = (await receive(site, flu, fridge, 5, lot="FLU-SOON", expiry=today + timedelta(days=20))).lot.id
    old = (await receive(site, flu, fridge, 3, lot="FLU-OLD", expiry=today - timedelta(days=1))).lot.id
    held = (await receive(site, flu, fridge, 2, lot="FLU-HELD", expiry=today + timedelta(days=200))).lot.id
    await ledger.set_lot_status(SYSTEM, site, held, LotStatus.QUARANTINED, "fridge at 9.1 °C", now=utcnow())
    box = (await receive(site, gloves, shelf, 40, lot="GL-1", expiry=None)).lot.id
    return {
        "site": site,
        "fridge": fridge,
        "shelf": shelf,
        "flu": flu,
        "tdap": tdap,
        "gloves": gloves,
        "soon": soon,
        "old": old,
        "held": held,
        "box": box,
    }


async def sweep(now: datetime) -> None:
    await sweep_all(now, STOCK_RULES)  # the stock rules; the other features' rules have their tests


async def _open() -> dict[tuple[str, str], dict[str, Any]]:
    """Open alerts, their last sighting as the inbox shows it (the row's, or its rule's last read)."""
    rows = await Alert.select().where(Alert.resolved_at.is_null())
    sighted: dict[int, dict[str, Any]] = {}
    for s in await AlertSighting.select():
        sighted.setdefault(s["site"], {})[s["rule"]] = s["at"]
    return {
        (r["rule"], r["subject"]): {**r, "last_seen": last_seen(r, sighted.get(r["site"], {}))} for r in rows
    }


async def test_each_rule_finds_its_subjects_and_clears_when_fixed() -> None:
    now = utcnow()
    d = await _clinic(now.date())
    await sweep(now)
    found = await _open()
    assert {(rule, subject): a["severity"] for (rule, subject), a in found.items()} == {
        ("low_stock", f"item:{d['flu']}"): "warning",  # 5 usable (the old lot is expired, one held)
        ("low_stock", f"item:{d['gloves']}"): "warning",  # 40 <= 50
        ("out_of_stock", f"item:{d['tdap']}"): "critical",  # a vaccine with none at all
        ("expiring", f"lot:{d['soon']}"): "warning",  # 20 days: vaccines warn at 30
        ("expired_on_shelf", f"lot:{d['old']}"): "critical",
        ("quarantined_waiting", f"lot:{d['held']}"): "warning",
        ("count_overdue", f"location:{d['fridge']}"): "info",  # stock, never counted
    }
    low = found[("low_stock", f"item:{d['flu']}")]
    assert (low["quantity"], low["title"]) == (5, "Low stock: Influenza vaccine, 5 left (reorder at 10)")
    assert found[("expiring", f"lot:{d['soon']}")]["due"] == now.date() + timedelta(days=20)

    # The same state an hour later: nothing new, nothing doubled, first seen kept.
    later = now + timedelta(hours=1)
    await sweep(later)
    again = await _open()
    assert again.keys() == found.keys() and await Alert.count() == len(found)
    assert all(
        a["first_seen"] == found[k]["first_seen"] and a["last_seen"] == later for k, a in again.items()
    )

    # Fixing things clears their alerts at the next sweep.
    await ledger.waste(
        SYSTEM,
        d["site"],
        WasteIn(lot_id=d["old"], location_id=d["fridge"], quantity=3, reason=WasteReason.EXPIRED),
        now=later,
    )
    await receive(d["site"], d["gloves"], d["shelf"], 100, lot="GL-2", expiry=None)
    await sweep(later + timedelta(minutes=5))
    cleared = {(r["rule"], r["subject"]) for r in await Alert.select().where(Alert.resolved_at.is_not_null())}
    assert cleared == {("expired_on_shelf", f"lot:{d['old']}"), ("low_stock", f"item:{d['gloves']}")}


async def test_a_moved_clock_turns_expiring_into_expired() -> None:
    now = utcnow()
    d = await _clinic(now.date())
    await sweep(now)
    await sweep(now + timedelta(days=25))  # FLU-SOON expired 5 days ago
    found = await _open()
    assert ("expired_on_shelf", f"lot:{d['soon']}") in found
    assert ("expiring", f"lot:{d['soon']}") not in found
    # With both flu lots past date, nothing usable is left: out of stock replaces low stock.
    assert ("out_of_stock", f"item:{d['flu']}") in found and ("low_stock", f"item:{d['flu']}") not in found


async def test_inbox_acknowledge_and_snooze(client: Client) -> None:
    now = utcnow()
    d = await _clinic(now.date())
    site = d["site"]
    await make_user("amy", site_id=site, role=Role.ASSISTANT)
    await make_user("mo", site_id=site, role=Role.MANAGER)
    await sweep(now)
    amy = await login(client, "amy")  # one browser: each login replaces the one before
    base = f"/api/sites/{site}/alerts"
    inbox = (await amy.get(base)).json()
    assert [a["severity"] for a in inbox][:2] == ["critical", "critical"]  # critical first
    assert (await amy.get(f"{base}/counts")).json() == {"open": 7, "critical": 2, "unacknowledged": 7}

    target = next(a for a in inbox if a["rule"] == "out_of_stock")
    events = await AuditEvent.count()
    ack = await amy.post(f"{base}/{target['id']}/acknowledge", {"comment": "Ordered from the PHU today"})
    assert ack.status_code == 201, ack.text
    assert ack.json()["ack_comment"] == "Ordered from the PHU today" and ack.json()[
        "acknowledged_by"
    ].startswith("user:")
    assert await AuditEvent.count() == events + 1

    assert (await amy.post(f"{base}/{target['id']}/snooze", {"hours": 4})).status_code == 403
    mo = await login(client, "mo")
    bad = await mo.post(f"{base}/{target['id']}/snooze", {"hours": 0})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    assert (await Alert.select(Alert.snoozed_until).where(Alert.id == target["id"]).first())[
        "snoozed_until"
    ] is None
    snoozed = await mo.post(f"{base}/{target['id']}/snooze", {"hours": 4})
    assert snoozed.status_code == 201, snoozed.text
    assert target["id"] not in [a["id"] for a in (await mo.get(base)).json()]
    assert target["id"] in [a["id"] for a in (await mo.get(f"{base}?include_snoozed=true")).json()]
    assert (await mo.get(f"{base}/counts")).json()["open"] == 6
    missing = await mo.post(f"{base}/999999/acknowledge", {"comment": ""})
    assert missing.status_code == 404 and missing.json()["code"] == "alert_not_found"

    inspector_site = await make_site("Elsewhere")
    await make_user("ivy", site_id=inspector_site, role=Role.INSPECTOR)
    ivy = await login(client, "ivy")
    assert (await ivy.get(base)).status_code == 403  # not a member here


async def test_each_site_sets_when_expiry_alerts_open(client: Client) -> None:
    today = utcnow().date()
    d = await _clinic(today)
    other = await _clinic(today)  # keeps the defaults: vaccines warn 30 days ahead
    await make_user("mo", site_id=d["site"], role=Role.MANAGER)
    mo = await login(client, "mo")
    url = f"/api/sites/{d['site']}/alert-delivery/settings"
    before = (await mo.get(url)).json()
    assert (before["expiry_days_vaccine"], before["expiry_days_other"]) == (30, 60)
    assert (before["dirty_hours"], before["order_overdue_days"]) == (4, 14)

    saved = await mo.post(url, {"digest_hour": 8, "expiry_days_vaccine": 10})
    assert saved.status_code == 201, saved.text
    assert saved.json()["expiry_days_vaccine"] == 10
    assert saved.json()["expiry_days_other"] == 60  # left out: unchanged
    await sweep(utcnow())
    found = await _open()
    assert ("expiring", f"lot:{d['soon']}") not in found  # 20 days away, the site warns at 10
    assert ("expiring", f"lot:{other['soon']}") in found

    bad = await mo.post(url, {"expiry_days_vaccine": 0})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    assert (await mo.get(url)).json()["expiry_days_vaccine"] == 10  # the refused change changed nothing
    await mo.post(url, {"expiry_days_vaccine": 25})
    await sweep(utcnow())
    assert ("expiring", f"lot:{d['soon']}") in await _open()


async def test_the_scheduled_sweep_rereads_only_the_sites_that_changed() -> None:
    from datetime import UTC, time

    from server.alerts.sweep import sweep_changes

    now = datetime.combine(utcnow().date(), time(12), UTC)  # midday: the minutes below stay in one day
    a, b = await _clinic(now.date()), await _clinic(now.date())
    await sweep_changes(now)
    first = await _open()
    await sweep(now)
    assert (await _open()).keys() == first.keys()  # a full sweep finds the same

    # Site A wastes its expired lot (audited, like every change): the next scheduled sweep clears
    # that alert and does not re-read site B, whose alerts keep their last sighting.
    later = now + timedelta(minutes=5)
    waste = WasteIn(lot_id=a["old"], location_id=a["fridge"], quantity=3, reason=WasteReason.EXPIRED)
    await ledger.waste(SYSTEM, a["site"], waste, now=later)
    await sweep_changes(later)
    after = await _open()
    assert ("expired_on_shelf", f"lot:{a['old']}") not in after
    assert after[("expired_on_shelf", f"lot:{b['old']}")]["last_seen"] == now
    assert after[("low_stock", f"item:{a['flu']}")]["last_seen"] == later

    # A change made behind the service's back (no audit entry) waits for the day's first sweep.
    await Item.update({Item.reorder_point: 0, Item.par_level: 0}).where(Item.id == b["flu"])
    await sweep_changes(later + timedelta(minutes=5))
    assert ("low_stock", f"item:{b['flu']}") in await _open()
    await sweep_changes(now + timedelta(days=1))
    assert ("low_stock", f"item:{b['flu']}") not in await _open()


def test_rules_swept_by_changed_site_mark_every_tables_site() -> None:
    from server.alerts.rules import RULES, Rule
    from server.alerts.sweep import scope

    scoped = [r for r in RULES if isinstance(r, Rule) and r.data_and_day_only]
    assert {r.name for r in scoped} == {
        "low_stock",
        "out_of_stock",
        "expiring",
        "expired_on_shelf",
        "quarantined_waiting",
    }
    for rule in scoped:
        for sqlite in (True, False):
            text = rule.text(sqlite)
            # Each table read by site is marked; the lot rules read held lots by expiry or status
            # and their items by primary key, the item rules items and lots by site.
            assert text.count("SITES(") >= (2 if rule.name.endswith("stock") else 1), rule.name
            assert "SITES(" not in scope(text, [3, 7]) and "IN (3, 7)" in scope(text, [3, 7])
            assert "SITES(" not in scope(text, None)
