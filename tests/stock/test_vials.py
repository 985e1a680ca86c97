from __future__ import annotations

from datetime import date, timedelta

from server.clock import utcnow
from server.core.auth import SYSTEM
from server.core.rules import LocationKind, Role
from server.stock import catalog
from server.stock.rules import ItemKind
from server.stock.schemas import ItemUpdate
from server.stock.tables import Movement, OpenedVial
from server.stock.vials import waste_past_beyond_use
from tests.factories import Client, Session, login, make_location, make_site, make_user
from tests.stock.factories import make_item, receive


async def _vials(client: Client, expiry: date = date(2031, 1, 31)) -> tuple[int, int, int, Session]:
    site = await make_site()
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    item = await make_item(site, "Tuberculin PPD (multi-dose)", kind=ItemKind.MEDICATION)
    await catalog.update_item(SYSTEM, site, item, ItemUpdate(beyond_use_days=28), now=utcnow())
    lot = (await receive(site, item, fridge, 2, lot="TB1", expiry=expiry)).lot.id
    await make_user("amy", site_id=site, role=Role.ASSISTANT)
    return site, fridge, lot, await login(client, "amy")


async def test_opening_starts_the_beyond_use_clock_and_the_sweep_wastes_it(client: Client) -> None:
    site, fridge, lot, s = await _vials(client)
    opened = await s.post(f"/api/sites/{site}/vials", {"lot_id": lot, "location_id": fridge})
    assert opened.status_code == 201, opened.text
    vial = opened.json()
    assert vial["status"] == "open"
    assert await waste_past_beyond_use(utcnow() + timedelta(days=27)) == 0
    assert await waste_past_beyond_use(utcnow() + timedelta(days=29)) == 1
    assert await waste_past_beyond_use(utcnow() + timedelta(days=30)) == 0  # re-running changes nothing
    wasted = await Movement.select().where(Movement.kind == "waste")
    assert [(m["quantity"], m["reason"]) for m in wasted] == [(-1, "beyond_use")]
    assert (await OpenedVial.select(OpenedVial.status).first())["status"] == "wasted"


async def test_beyond_use_never_passes_the_printed_expiry(client: Client) -> None:
    expiry = utcnow().date() + timedelta(days=5)
    site, fridge, lot, s = await _vials(client, expiry=expiry)
    vial = (await s.post(f"/api/sites/{site}/vials", {"lot_id": lot, "location_id": fridge})).json()
    assert vial["beyond_use_at"].startswith((expiry + timedelta(days=1)).isoformat())


async def test_finishing_a_vial_is_a_use_and_only_stock_on_hand_can_be_opened(client: Client) -> None:
    site, fridge, lot, s = await _vials(client)
    first = (await s.post(f"/api/sites/{site}/vials", {"lot_id": lot, "location_id": fridge})).json()
    await s.post(f"/api/sites/{site}/vials", {"lot_id": lot, "location_id": fridge})
    third = await s.post(f"/api/sites/{site}/vials", {"lot_id": lot, "location_id": fridge})
    assert third.status_code == 409
    done = await s.post(f"/api/sites/{site}/vials/{first['id']}/finish")
    assert done.status_code == 201 and done.json()["status"] == "finished"
    again = await s.post(f"/api/sites/{site}/vials/{first['id']}/finish")
    assert again.status_code == 409 and again.json()["code"] == "vial_closed"
    uses = await Movement.select(Movement.quantity).where(Movement.kind == "use")
    assert [u["quantity"] for u in uses] == [-1]
    listed = (await s.get(f"/api/sites/{site}/vials")).json()
    assert len(listed) == 1


async def test_single_dose_items_cannot_be_opened(client: Client) -> None:
    site = await make_site()
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    item = await make_item(site, "MMR vaccine")
    lot = (await receive(site, item, fridge, 2)).lot.id
    await make_user("amy", site_id=site, role=Role.ASSISTANT)
    s = await login(client, "amy")
    resp = await s.post(f"/api/sites/{site}/vials", {"lot_id": lot, "location_id": fridge})
    assert resp.status_code == 422 and resp.json()["code"] == "not_multi_dose"
