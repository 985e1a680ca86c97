from __future__ import annotations

import asyncio
import os
import uuid
from datetime import date, timedelta
from typing import Any

import pytest

from server.clock import utcnow
from server.core.rules import LocationKind, Role
from server.stock.tables import Lot, Movement, StockLevel
from tests.factories import Client, Session, login, make_location, make_site, make_user
from tests.stock.factories import make_item, receive


async def _setup(client: Client) -> dict[str, Any]:
    site = await make_site()
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    shelf = await make_location(site, "Supply Room", LocationKind.SUPPLY_ROOM)
    item = await make_item(site, "Influenza vaccine", gtin="09506000134352")
    await make_user("amy", site_id=site, role=Role.ASSISTANT)
    s = await login(client, "amy")
    return {"site": site, "fridge": fridge, "shelf": shelf, "item": item, "s": s}


async def _ledger_matches_levels() -> None:
    movements = await Movement.select(Movement.lot, Movement.location, Movement.quantity)
    totals: dict[tuple[int, int], int] = {}
    for m in movements:
        key = (m["lot"], m["location"])
        totals[key] = totals.get(key, 0) + m["quantity"]
    levels = {(r["lot"], r["location"]): r["on_hand"] for r in await StockLevel.select()}
    assert {k: v for k, v in levels.items() if v} == {k: v for k, v in totals.items() if v}
    assert all(v >= 0 for v in levels.values())


async def test_receive_use_waste_transfer_return_adjust(client: Client) -> None:
    d = await _setup(client)
    s: Session = d["s"]
    base = f"/api/sites/{d['site']}/movements"
    got = await s.post(
        f"{base}/receive",
        {
            "item_id": d["item"],
            "lot_number": "FLU24A",
            "expiry": "2030-06-30",
            "quantity": 20,
            "location_id": d["fridge"],
        },
    )
    assert got.status_code == 201, got.text
    lot = got.json()["lot"]["id"]
    assert got.json()["on_hand"] == {str(d["fridge"]): 20}
    used = await s.post(
        f"{base}/use", {"lot_id": lot, "location_id": d["fridge"], "quantity": 2, "reference": "VISIT-8842"}
    )
    assert used.status_code == 201 and used.json()["on_hand"][str(d["fridge"])] == 18
    wasted = await s.post(
        f"{base}/waste", {"lot_id": lot, "location_id": d["fridge"], "quantity": 1, "reason": "broken"}
    )
    assert wasted.json()["movements"][0]["reason"] == "broken"
    moved = await s.post(
        f"{base}/transfer",
        {"lot_id": lot, "from_location_id": d["fridge"], "to_location_id": d["shelf"], "quantity": 5},
    )
    assert moved.json()["on_hand"] == {str(d["fridge"]): 12, str(d["shelf"]): 5}
    returned = await s.post(f"{base}/return", {"lot_id": lot, "location_id": d["shelf"], "quantity": 5})
    assert returned.json()["on_hand"][str(d["shelf"])] == 0
    counted = await s.post(
        f"{base}/adjust", {"lot_id": lot, "location_id": d["fridge"], "counted": 11, "reason": "count"}
    )
    assert counted.json()["movements"][0]["quantity"] == -1
    stock = (await s.get(f"/api/sites/{d['site']}/stock")).json()
    assert [(r["lot_number"], r["location_name"], r["on_hand"]) for r in stock] == [
        ("FLU24A", "Vaccine Fridge", 11)
    ]
    await _ledger_matches_levels()


async def test_never_negative_and_says_how_many_are_left(client: Client) -> None:
    d = await _setup(client)
    result = await receive(d["site"], d["item"], d["fridge"], 3)
    resp = await d["s"].post(
        f"/api/sites/{d['site']}/movements/use",
        {"lot_id": result.lot.id, "location_id": d["fridge"], "quantity": 4},
    )
    assert resp.status_code == 409
    assert resp.json()["code"] == "not_enough_stock"
    assert "3 on hand" in resp.json()["detail"]
    await _ledger_matches_levels()


async def test_last_unit_marks_the_lot_depleted_and_receiving_revives_it(client: Client) -> None:
    d = await _setup(client)
    r = await receive(d["site"], d["item"], d["fridge"], 1)
    await d["s"].post(
        f"/api/sites/{d['site']}/movements/use", {"lot_id": r.lot.id, "location_id": d["fridge"]}
    )
    assert (await Lot.select(Lot.status).first())["status"] == "depleted"
    await receive(d["site"], d["item"], d["fridge"], 2)
    assert (await Lot.select(Lot.status).first())["status"] == "available"


async def test_fefo_warns_and_names_the_shorter_dated_lot(client: Client) -> None:
    d = await _setup(client)
    today = utcnow().date()
    await receive(d["site"], d["item"], d["fridge"], 5, lot="SOONER", expiry=today + timedelta(days=30))
    later = await receive(
        d["site"], d["item"], d["fridge"], 5, lot="LATER", expiry=today + timedelta(days=300)
    )
    resp = await d["s"].post(
        f"/api/sites/{d['site']}/movements/use", {"lot_id": later.lot.id, "location_id": d["fridge"]}
    )
    assert resp.status_code == 201
    warnings = resp.json()["warnings"]
    assert [(w["code"], w["lot_number"]) for w in warnings] == [("fefo", "SOONER")]


async def test_fefo_ignores_other_places_and_unusable_lots(client: Client) -> None:
    d = await _setup(client)
    today = utcnow().date()
    await receive(d["site"], d["item"], d["shelf"], 5, lot="ELSEWHERE", expiry=today + timedelta(days=10))
    held = await receive(d["site"], d["item"], d["fridge"], 5, lot="HELD", expiry=today + timedelta(days=20))
    await Lot.update({Lot.status: "quarantined"}).where(Lot.id == held.lot.id)
    chosen = await receive(
        d["site"], d["item"], d["fridge"], 5, lot="CHOSEN", expiry=today + timedelta(days=90)
    )
    resp = await d["s"].post(
        f"/api/sites/{d['site']}/movements/use", {"lot_id": chosen.lot.id, "location_id": d["fridge"]}
    )
    assert resp.json()["warnings"] == []


@pytest.mark.parametrize(
    ("status", "code"),
    [("quarantined", "lot_quarantined"), ("recalled", "lot_recalled"), ("expired", "lot_expired")],
)
async def test_unusable_lots_are_blocked_with_a_clear_message(client: Client, status: str, code: str) -> None:
    d = await _setup(client)
    r = await receive(d["site"], d["item"], d["fridge"], 5)
    await Lot.update({Lot.status: status}).where(Lot.id == r.lot.id)
    resp = await d["s"].post(
        f"/api/sites/{d['site']}/movements/use", {"lot_id": r.lot.id, "location_id": d["fridge"]}
    )
    assert resp.status_code == 422
    assert resp.json()["code"] == code
    waste = await d["s"].post(
        f"/api/sites/{d['site']}/movements/waste",
        {"lot_id": r.lot.id, "location_id": d["fridge"], "quantity": 5, "reason": "expired"},
    )
    assert waste.status_code == 201  # unusable stock can still be wasted
    await _ledger_matches_levels()


async def test_a_lot_past_its_date_is_blocked_even_if_marked_available(client: Client) -> None:
    d = await _setup(client)
    r = await receive(d["site"], d["item"], d["fridge"], 5, lot="OLD", expiry=date(2020, 1, 31))
    assert [w.code for w in r.warnings] == ["received_expired"]
    resp = await d["s"].post(
        f"/api/sites/{d['site']}/movements/use", {"lot_id": r.lot.id, "location_id": d["fridge"]}
    )
    assert resp.json()["code"] == "lot_expired"


async def test_a_lot_number_with_another_expiry_is_refused(client: Client) -> None:
    d = await _setup(client)
    await receive(d["site"], d["item"], d["fridge"], 5, lot="X1", expiry=date(2030, 1, 31))
    resp = await d["s"].post(
        f"/api/sites/{d['site']}/movements/receive",
        {
            "item_id": d["item"],
            "lot_number": "X1",
            "expiry": "2031-01-31",
            "quantity": 1,
            "location_id": d["fridge"],
        },
    )
    assert resp.status_code == 409 and resp.json()["code"] == "lot_expiry_mismatch"


async def test_replaying_every_kind_of_write_changes_nothing(client: Client) -> None:
    d = await _setup(client)
    s: Session = d["s"]
    base = f"/api/sites/{d['site']}/movements"
    r = await receive(d["site"], d["item"], d["fridge"], 50)
    lot = r.lot.id
    writes = [
        (
            "receive",
            {
                "item_id": d["item"],
                "lot_number": "LOT1",
                "expiry": "2030-01-31",
                "quantity": 5,
                "location_id": d["fridge"],
            },
        ),
        ("use", {"lot_id": lot, "location_id": d["fridge"], "quantity": 1}),
        ("waste", {"lot_id": lot, "location_id": d["fridge"], "quantity": 1, "reason": "other"}),
        (
            "transfer",
            {"lot_id": lot, "from_location_id": d["fridge"], "to_location_id": d["shelf"], "quantity": 2},
        ),
        ("return", {"lot_id": lot, "location_id": d["shelf"], "quantity": 1}),
        ("adjust", {"lot_id": lot, "location_id": d["fridge"], "counted": 40, "reason": "count"}),
    ]
    for kind, body in writes:
        key = str(uuid.uuid4())
        first = await s.post(f"{base}/{kind}", body, key=key)
        assert first.status_code == 201, (kind, first.text)
        before = (await Movement.count(), await StockLevel.select(StockLevel.on_hand))
        again = await s.post(f"{base}/{kind}", body, key=key)
        assert again.status_code == 201 and again.json() == first.json(), kind
        assert (await Movement.count(), await StockLevel.select(StockLevel.on_hand)) == before, kind
    await _ledger_matches_levels()


async def test_inspectors_cannot_move_stock(client: Client) -> None:
    d = await _setup(client)
    await make_user("ivy", site_id=d["site"], role=Role.INSPECTOR)
    s = await login(client, "ivy")
    r = await receive(d["site"], d["item"], d["fridge"], 5)
    resp = await s.post(
        f"/api/sites/{d['site']}/movements/use", {"lot_id": r.lot.id, "location_id": d["fridge"]}
    )
    assert resp.status_code == 403


async def test_racing_scans_for_the_last_units(client: Client) -> None:
    """50 concurrent uses of the last 10 units: exactly 10 succeed, the rest get a clear 409."""
    d = await _setup(client)
    r = await receive(d["site"], d["item"], d["fridge"], 10)
    answers = await asyncio.gather(
        *(
            d["s"].post(
                f"/api/sites/{d['site']}/movements/use", {"lot_id": r.lot.id, "location_id": d["fridge"]}
            )
            for _ in range(50)
        )
    )
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 10 and codes.count(409) == 40
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"not_enough_stock"}
    assert (await StockLevel.select(StockLevel.on_hand).first())["on_hand"] == 0
    await _ledger_matches_levels()


@pytest.mark.postgres_only
async def test_a_hold_that_commits_during_a_use_stops_it(client: Client) -> None:
    """The use read 'available' at its start; a hold commits while the use waits for the site's
    audit chain: the use must see the hold and change nothing, not slip in after it."""
    import asyncpg

    from server.core.auth import SYSTEM
    from server.stock import ledger
    from server.stock.schemas import UseIn

    d = await _setup(client)
    r = await receive(d["site"], d["item"], d["fridge"], 5)
    other = await asyncpg.connect(os.environ["CLINITRACK_DATABASE_URL"])
    try:
        hold = other.transaction()
        await hold.start()
        # What a hold does: the lot's status, then the chain's head (held until commit).
        await other.execute("UPDATE lot SET status = 'quarantined' WHERE id = $1", r.lot.id)
        await other.execute("SELECT seq FROM audit_head WHERE chain = $1 FOR UPDATE", f"site:{d['site']}")
        use = asyncio.create_task(
            ledger.use(SYSTEM, d["site"], UseIn(lot_id=r.lot.id, location_id=d["fridge"]), now=utcnow())
        )
        await asyncio.sleep(0.5)
        assert not use.done()  # waiting for the chain, past its first status check
        await hold.commit()
        with pytest.raises(Exception, match="on hold") as refused:
            await use
        assert getattr(refused.value, "code", None) == "lot_quarantined"
    finally:
        await other.close()
    assert (await StockLevel.select(StockLevel.on_hand).first())["on_hand"] == 5
    await _ledger_matches_levels()
