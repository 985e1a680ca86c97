"""The scan endpoint: parse, then look up in order, writing nothing."""

from __future__ import annotations

from datetime import date, timedelta

from server.clock import utcnow
from server.core.rules import LocationKind, Role
from server.core.tables import AuditEvent, Location
from server.stock.tables import Lot
from tests.factories import Client, Session, login, make_location, make_site, make_user
from tests.stock.factories import make_item, receive

GTIN = "09506000134352"  # GS1's own example GTIN


async def _clinic(client: Client) -> tuple[int, int, int, Session]:
    site = await make_site()
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    item = await make_item(site, "Influenza vaccine", gtin=GTIN, pack_qty=1)
    await make_user("amy", site_id=site, role=Role.ASSISTANT)
    return site, fridge, item, await login(client, "amy")


def dm(gtin: str, expiry: str, lot: str, serial: str | None = None) -> str:
    """What a camera reads from a GS1 DataMatrix: no AIM prefix, GS after variable-length fields."""
    text = f"01{gtin}17{expiry}10{lot}"
    return text + (f"\x1d21{serial}" if serial else "")


async def test_a_known_lot_resolves_with_where_it_is_and_what_can_be_done(client: Client) -> None:
    site, fridge, item, s = await _clinic(client)
    await receive(site, item, fridge, 7, lot="FLU24A", expiry=date(2030, 6, 30))
    events = await AuditEvent.count()
    answer = (await s.post("/api/scans", {"raw": "]d2" + dm(GTIN, "300600", "FLU24A", "SN9")})).json()
    assert answer["kind"] == "lot"
    assert answer["entity"]["lot_number"] == "FLU24A"
    assert answer["parsed"]["gtin"] == GTIN and answer["parsed"]["serial"] == "SN9"
    assert answer["parsed"]["expiry"] == "2030-06-30"  # day 00 = last day of the month
    assert answer["levels"] == [{"location_id": fridge, "location_name": "Vaccine Fridge", "on_hand": 7}]
    assert {a["action"]: a["enabled"] for a in answer["actions"]}["use"] is True
    assert await AuditEvent.count() == events  # resolving writes nothing


async def test_a_known_gtin_with_a_new_lot_offers_receive_with_prefill(client: Client) -> None:
    site, _, item, s = await _clinic(client)
    answer = (await s.post(f"/api/sites/{site}/scans", {"raw": f"(01){GTIN}(17)301231(10)NEW1"})).json()
    assert answer["kind"] == "item" and answer["item"]["id"] == item
    assert answer["prefill"] == {
        "item_id": item, "lot_number": "NEW1", "expiry": "2030-12-31", "serial": None, "pack_qty": 1
    }
    assert [a["action"] for a in answer["actions"]] == ["receive"]


async def test_an_unknown_gtin_can_be_linked_once_and_is_then_recognized(client: Client) -> None:
    site, _, item, s = await _clinic(client)
    other = "00614141000012"  # made-up GTIN with a valid check digit
    first = (await s.post("/api/scans", {"raw": dm(other, "301231", "X1")})).json()
    assert first["kind"] == "unknown" and [a["action"] for a in first["actions"]] == ["link"]
    linked = await s.post(f"/api/sites/{site}/items/{item}/codes", {"code": other, "pack_qty": 10})
    assert linked.status_code == 201, linked.text
    again = (await s.post("/api/scans", {"raw": dm(other, "301231", "X1")})).json()
    assert again["kind"] == "item" and again["prefill"]["pack_qty"] == 10


async def test_own_label_codes_resolve_to_places(client: Client) -> None:
    _, fridge, _, s = await _clinic(client)
    code = (await Location.select(Location.label_code).where(Location.id == fridge).first())["label_code"]
    answer = (await s.post("/api/scans", {"raw": f" {code}\r\n"})).json()
    assert answer["kind"] == "fridge" and answer["entity"]["id"] == fridge


async def test_a_lot_number_typed_alone_is_found(client: Client) -> None:
    site, fridge, item, s = await _clinic(client)
    await receive(site, item, fridge, 2, lot="ZX-4471")
    answer = (await s.post("/api/scans", {"raw": "ZX-4471"})).json()
    assert answer["kind"] == "lot" and answer["item"]["id"] == item


async def test_blocked_lots_offer_no_use_and_say_why(client: Client) -> None:
    site, fridge, item, s = await _clinic(client)
    r = await receive(site, item, fridge, 2, lot="RC1")
    await Lot.update({Lot.status: "recalled"}).where(Lot.id == r.lot.id)
    answer = (await s.post("/api/scans", {"raw": dm(GTIN, "301231", "RC1")})).json()
    use = next(a for a in answer["actions"] if a["action"] == "use")
    assert use["enabled"] is False and use["code"] == "lot_recalled"


async def test_the_scan_warns_about_fefo_and_expiry_mismatch(client: Client) -> None:
    site, fridge, item, s = await _clinic(client)
    today = utcnow().date()
    await receive(site, item, fridge, 2, lot="SOON", expiry=today + timedelta(days=20))
    await receive(site, item, fridge, 2, lot="LATE", expiry=date(2031, 5, 31))
    answer = (await s.post("/api/scans", {"raw": dm(GTIN, "310630", "LATE")})).json()
    assert {w["code"] for w in answer["warnings"]} == {"fefo", "expiry_mismatch"}
    mismatch = next(w for w in answer["warnings"] if w["code"] == "expiry_mismatch")
    assert (mismatch["expiry"], mismatch["scanned_expiry"]) == ("2031-05-31", "2031-06-30")
    fefo = next(w for w in answer["warnings"] if w["code"] == "fefo")
    assert (fefo["lot_number"], fefo["location_id"]) == ("SOON", fridge)


async def test_fefo_is_per_place_and_skips_lots_that_cannot_be_used(client: Client) -> None:
    site, fridge, item, s = await _clinic(client)
    cabinet = await make_location(site, "Cabinet", LocationKind.CABINET)
    today = utcnow().date()
    await receive(site, item, cabinet, 2, lot="SOON", expiry=today + timedelta(days=20))
    held = await receive(site, item, fridge, 2, lot="HELD", expiry=today + timedelta(days=10))
    await Lot.update({Lot.status: "quarantined"}).where(Lot.id == held.lot.id)
    await receive(site, item, fridge, 2, lot="LATE", expiry=date(2031, 5, 31))
    answer = (await s.post("/api/scans", {"raw": dm(GTIN, "310500", "LATE")})).json()
    # SOON is in another place and HELD may not be used: nothing to prefer in the fridge.
    assert [w["code"] for w in answer["warnings"]] == []
    await receive(site, item, cabinet, 1, lot="LATE", expiry=date(2031, 5, 31))
    answer = (await s.post("/api/scans", {"raw": dm(GTIN, "310500", "LATE")})).json()
    [fefo] = answer["warnings"]
    assert (fefo["lot_number"], fefo["location_id"]) == ("SOON", cabinet)
    assert fefo["message"].startswith("Cabinet: ")  # the lot is in two places: say which


async def test_an_empty_lot_says_none_left_with_a_code(client: Client) -> None:
    site, fridge, item, s = await _clinic(client)
    r = await receive(site, item, fridge, 1, lot="ONE")
    used = await s.post(f"/api/sites/{site}/movements/use", {"lot_id": r.lot.id, "location_id": fridge})
    assert used.status_code == 201, used.text
    answer = (await s.post("/api/scans", {"raw": dm(GTIN, "301231", "ONE")})).json()
    actions = {a["action"]: a for a in answer["actions"]}
    assert actions["use"]["enabled"] is False and actions["use"]["code"] == "none_left"
    assert actions["waste"]["code"] == "none_left"


async def test_hibc_codes_are_linked_with_their_unit_of_measure(client: Client) -> None:
    site, _, item, s = await _clinic(client)
    unknown = (await s.post("/api/scans", {"raw": "+A123BJC5D6E71G"})).json()
    assert unknown["kind"] == "unknown" and unknown["code"] == "A123BJC5D6E71"
    linked = await s.post(f"/api/sites/{site}/items/{item}/codes", {"code": unknown["code"], "pack_qty": 1})
    assert linked.status_code == 201, linked.text
    assert (await s.post("/api/scans", {"raw": "+A123BJC5D6E71G"})).json()["kind"] == "item"


async def test_ambiguity_and_errors_are_reported_not_guessed(client: Client) -> None:
    _, _, _, s = await _clinic(client)
    ambiguous = (await s.post("/api/scans", {"raw": f"01{GTIN}10LOT4221SN001"})).json()
    assert ambiguous["ambiguous"] is True and len(ambiguous["readings"]) >= 2
    bad = (await s.post("/api/scans", {"raw": "0109506000134353"})).json()
    assert "bad_check_digit" in [e["code"] for e in bad["errors"]]


async def test_which_site_a_scan_is_for(client: Client) -> None:
    site, _, _, s = await _clinic(client)
    other = await make_site("Other clinic")
    assert (await s.post("/api/scans", {"raw": GTIN, "site_id": other})).status_code == 403
    assert (await s.post(f"/api/sites/{other}/scans", {"raw": GTIN})).status_code == 403
    await make_user("both", site_id=site, role=Role.ASSISTANT)
    from server.core import service
    from server.core.auth import SYSTEM
    from server.core.schemas import MemberAdd

    await service.add_member(SYSTEM, other, MemberAdd(username="both", role=Role.ASSISTANT), now=utcnow())
    both = await login(client, "both")
    needs = await both.post("/api/scans", {"raw": GTIN})
    assert needs.status_code == 400 and needs.json()["code"] == "site_needed"
