from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from server.core import audit
from server.core.rules import LocationKind, Role
from server.core.tables import AuditEvent
from server.stock.recalls import gtin_forms, not_found, parse_lot_numbers
from server.stock.tables import Lot, Recall
from tests.factories import Client, Session, login, make_location, make_site, make_user
from tests.stock.factories import make_item, receive
from tests.stock.test_ledger import _ledger_matches_levels
from tests.stock.test_queries import counting_queries

GTIN = "09506000134352"
NOTICE = "Health Canada recall 2026-11: potency below specification. Stop use, quarantine, return."

# --- pure rules -------------------------------------------------------------------------------------


def test_lot_lists_are_trimmed_and_deduplicated_keeping_case_and_order() -> None:
    assert parse_lot_numbers([" A1 ", "B2", "A1", "", "   ", "a1", "B2\t"]) == ["A1", "B2", "a1"]
    assert parse_lot_numbers(["  "]) == []


def test_not_found_matches_exactly_as_printed() -> None:
    assert not_found(["A1", "a1", "Z9", "B2"], ["B2", "A1"]) == ["a1", "Z9"]
    assert not_found(["A1"], []) == ["A1"]


def test_gtin_forms_cover_zero_padding_both_ways() -> None:
    assert gtin_forms(GTIN) == [GTIN, "9506000134352"]
    assert gtin_forms(" 9506000134352 ") == ["9506000134352", GTIN]
    assert gtin_forms("96385074") == ["96385074", "000096385074", "0000096385074", "00000096385074"]
    assert gtin_forms("ABC-123") == ["ABC-123"]
    assert gtin_forms("123456789012345") == ["123456789012345"]  # too long for a GTIN


# --- through the API --------------------------------------------------------------------------------


async def _setup(client: Client) -> dict[str, Any]:
    site = await make_site()
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    shelf = await make_location(site, "Supply Room", LocationKind.SUPPLY_ROOM)
    flu = await make_item(site, "Influenza vaccine", gtin=GTIN)
    tdap = await make_item(site, "Tdap vaccine", gtin="09506000134369")
    a1 = (await receive(site, flu, fridge, 10, lot="A1", expiry=date(2030, 1, 31))).lot.id
    b2 = (await receive(site, flu, fridge, 4, lot="B2", expiry=date(2030, 6, 30))).lot.id
    tdap_a1 = (await receive(site, tdap, fridge, 5, lot="A1")).lot.id
    other = await make_site("Other Clinic")
    other_loc = await make_location(other, "Fridge", LocationKind.FRIDGE)
    other_flu = await make_item(other, "Influenza vaccine", gtin=GTIN)
    other_a1 = (await receive(other, other_flu, other_loc, 6, lot="A1")).lot.id
    for name, role in (("amy", Role.ASSISTANT), ("mo", Role.MANAGER), ("ivy", Role.INSPECTOR)):
        await make_user(name, site_id=site, role=role)
    mo = await login(client, "mo")
    moves = f"/api/sites/{site}/movements"
    # Three A1 doses given, two moved to the supply room: 5 in the fridge, 2 on the shelf.
    assert (
        await mo.post(f"{moves}/use", {"lot_id": a1, "location_id": fridge, "quantity": 3})
    ).status_code == 201
    moved = await mo.post(
        f"{moves}/transfer",
        {"lot_id": a1, "from_location_id": fridge, "to_location_id": shelf, "quantity": 2},
    )
    assert moved.status_code == 201
    return {
        "site": site,
        "fridge": fridge,
        "shelf": shelf,
        "flu": flu,
        "tdap": tdap,
        "a1": a1,
        "b2": b2,
        "tdap_a1": tdap_a1,
        "other": other,
        "other_a1": other_a1,
        "other_flu": other_flu,
        "mo": mo,
        "moves": moves,
        "base": f"/api/sites/{site}/recalls",
    }


async def _status(lot: int) -> str:
    row = await Lot.select(Lot.status).where(Lot.id == lot).first()
    assert row is not None
    return str(row["status"])


async def _recall(d: dict[str, Any], s: Session, **body: Any) -> Any:
    return await s.post(d["base"], {"notice": NOTICE, **body})


async def test_matching_lots_are_recalled_and_located(client: Client) -> None:
    d = await _setup(client)
    resp = await _recall(
        d, d["mo"], item_id=d["flu"], lot_numbers=[" A1 ", "A1", "Z9", "a1"], source="Health Canada"
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["recall"]["lot_numbers"] == ["A1", "Z9", "a1"]
    assert body["recall"]["item_name"] == "Influenza vaccine" and body["recall"]["source"] == "Health Canada"
    assert body["not_found"] == ["Z9", "a1"]
    [lot] = body["lots"]
    assert (lot["lot_id"], lot["lot_number"], lot["status"]) == (d["a1"], "A1", "recalled")
    assert (lot["received"], lot["used"], lot["on_hand"]) == (10, 3, 7)
    assert [(p["location_name"], p["on_hand"]) for p in lot["locations"]] == [
        ("Supply Room", 2),
        ("Vaccine Fridge", 5),
    ]
    assert await _status(d["a1"]) == "recalled"
    reason = await Lot.select(Lot.status_reason).where(Lot.id == d["a1"]).first()
    assert reason == {"status_reason": NOTICE}
    # Same lot number of another item, another lot of this item, another site: untouched.
    assert [await _status(x) for x in (d["b2"], d["tdap_a1"], d["other_a1"])] == ["available"] * 3
    assert await AuditEvent.count().where(AuditEvent.action == "recall.create") == 1
    assert await AuditEvent.count().where(AuditEvent.action == "lot.status") == 1
    assert all(status.ok for status in await audit.verify_all())


async def test_a_recalled_lot_cannot_be_used_but_can_be_wasted_and_returned(client: Client) -> None:
    d = await _setup(client)
    assert (await _recall(d, d["mo"], item_id=d["flu"], lot_numbers=["A1"])).status_code == 201
    amy = await login(client, "amy")
    use = await amy.post(f"{d['moves']}/use", {"lot_id": d["a1"], "location_id": d["fridge"]})
    assert use.status_code == 422 and use.json()["code"] == "lot_recalled"
    wasted = await amy.post(
        f"{d['moves']}/waste",
        {"lot_id": d["a1"], "location_id": d["fridge"], "quantity": 5, "reason": "other"},
    )
    assert wasted.status_code == 201, wasted.text
    returned = await amy.post(
        f"{d['moves']}/return", {"lot_id": d["a1"], "location_id": d["shelf"], "quantity": 2}
    )
    assert returned.status_code == 201, returned.text
    assert await _status(d["a1"]) == "recalled"  # none left, yet not "depleted"
    await receive(d["site"], d["flu"], d["fridge"], 1, lot="A1", expiry=date(2030, 1, 31))
    assert await _status(d["a1"]) == "recalled"  # nor "available" again
    ok = await amy.post(f"{d['moves']}/use", {"lot_id": d["b2"], "location_id": d["fridge"]})
    assert ok.status_code == 201  # the other lot is still usable
    await _ledger_matches_levels()


async def test_a_lot_received_after_its_recall_is_set_aside_on_arrival(client: Client) -> None:
    d = await _setup(client)
    assert (await _recall(d, d["mo"], item_id=d["flu"], lot_numbers=["C3"])).status_code == 201
    got = await d["mo"].post(
        f"{d['moves']}/receive",
        {
            "item_id": d["flu"],
            "lot_number": "C3",
            "expiry": "2030-03-31",
            "quantity": 6,
            "location_id": d["fridge"],
        },
    )
    assert got.status_code == 201, got.text
    assert got.json()["lot"]["status"] == "recalled"
    assert [w["code"] for w in got.json()["warnings"]] == ["lot_recalled"]
    use = await d["mo"].post(
        f"{d['moves']}/use", {"lot_id": got.json()["lot"]["id"], "location_id": d["fridge"]}
    )
    assert use.status_code == 422 and use.json()["code"] == "lot_recalled"
    other = await d["mo"].post(  # the same number for another item is not recalled
        f"{d['moves']}/receive",
        {"item_id": d["tdap"], "lot_number": "C3", "expiry": None, "quantity": 1, "location_id": d["fridge"]},
    )
    assert other.status_code == 201, other.text
    assert other.json()["lot"]["status"] == "available" and other.json()["warnings"] == []


async def test_the_item_is_found_by_gtin_in_either_length(client: Client) -> None:
    d = await _setup(client)
    by_14 = await _recall(d, d["mo"], gtin=GTIN, lot_numbers=["B2"])
    assert by_14.status_code == 201, by_14.text
    assert by_14.json()["recall"]["item_id"] == d["flu"]
    assert [lot["lot_id"] for lot in by_14.json()["lots"]] == [d["b2"]]
    by_13 = await _recall(d, d["mo"], gtin=GTIN[1:], lot_numbers=["A1"])
    assert [lot["lot_id"] for lot in by_13.json()["lots"]] == [d["a1"]]
    assert await _status(d["tdap_a1"]) == "available" and await _status(d["other_a1"]) == "available"


async def test_unknown_items_and_bad_notices_are_refused(client: Client) -> None:
    d = await _setup(client)
    mo = d["mo"]
    unknown = await _recall(d, mo, gtin="00000000000017", lot_numbers=["A1"])
    assert unknown.status_code == 404 and unknown.json()["code"] == "item_not_found"
    theirs = await _recall(d, mo, item_id=d["other_flu"], lot_numbers=["A1"])
    assert theirs.status_code == 404 and theirs.json()["code"] == "item_not_found"
    both = await _recall(d, mo, item_id=d["flu"], gtin=GTIN, lot_numbers=["A1"])
    assert both.status_code == 400 and both.json()["code"] == "item_or_gtin"
    neither = await _recall(d, mo, lot_numbers=["A1"])
    assert neither.status_code == 400 and neither.json()["code"] == "item_or_gtin"
    blank = await _recall(d, mo, item_id=d["flu"], lot_numbers=["  ", " "])
    assert blank.status_code == 400 and blank.json()["code"] == "no_lot_numbers"
    for lots in ([], [f"L{i}" for i in range(101)], ["x" * 41]):
        resp = await _recall(d, mo, item_id=d["flu"], lot_numbers=lots)
        assert resp.status_code == 400 and resp.json()["code"] == "validation_error"
    assert (await mo.post(d["base"], {"item_id": d["flu"], "lot_numbers": ["A1"]})).status_code == 400
    assert await Recall.count() == 0
    assert await _status(d["a1"]) == "available" and await _status(d["other_a1"]) == "available"


async def test_detail_is_recomputed_and_lists_are_newest_first(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = await _setup(client)
    first = (await _recall(d, d["mo"], item_id=d["flu"], lot_numbers=["A1", "Q7"])).json()["recall"]["id"]
    wasted = await d["mo"].post(
        f"{d['moves']}/waste",
        {"lot_id": d["a1"], "location_id": d["fridge"], "quantity": 1, "reason": "other"},
    )
    assert wasted.status_code == 201
    detail = (await d["mo"].get(f"{d['base']}/{first}")).json()
    [lot] = detail["lots"]
    assert (lot["received"], lot["used"], lot["on_hand"]) == (10, 3, 6)
    assert [(p["location_name"], p["on_hand"]) for p in lot["locations"]] == [
        ("Supply Room", 2),
        ("Vaccine Fridge", 4),
    ]
    assert detail["not_found"] == ["Q7"]
    second = (await _recall(d, d["mo"], item_id=d["tdap"], lot_numbers=["A1"])).json()["recall"]["id"]
    with counting_queries(monkeypatch) as seen:
        listed = (await d["mo"].get(d["base"])).json()
    assert [(r["id"], r["item_name"]) for r in listed] == [
        (second, "Tdap vaccine"),
        (first, "Influenza vaccine"),
    ]
    for i in range(5):
        await _recall(d, d["mo"], item_id=d["flu"], lot_numbers=[f"N{i}"])
    with counting_queries(monkeypatch) as more:
        assert len((await d["mo"].get(d["base"])).json()) == 7
    assert len(more) == len(seen)
    assert [r["id"] for r in (await d["mo"].get(f"{d['base']}?before={second}")).json()] == [first]


async def test_another_sites_recall_is_not_found(client: Client) -> None:
    d = await _setup(client)
    recall = (await _recall(d, d["mo"], item_id=d["flu"], lot_numbers=["A1"])).json()["recall"]["id"]
    await make_user("olga", site_id=d["other"], role=Role.MANAGER)
    olga = await login(client, "olga")
    resp = await olga.get(f"/api/sites/{d['other']}/recalls/{recall}")
    assert resp.status_code == 404 and resp.json()["code"] == "recall_not_found"
    assert (await olga.get(f"/api/sites/{d['other']}/recalls")).json() == []
    assert (await olga.get(f"/api/sites/{d['site']}/recalls/{recall}")).status_code == 403


async def test_replay_changes_nothing(client: Client) -> None:
    d = await _setup(client)
    key = str(uuid.uuid4())
    body = {"item_id": d["flu"], "lot_numbers": ["A1"], "notice": NOTICE}
    first = await d["mo"].post(d["base"], body, key=key)
    assert first.status_code == 201
    before = (await Recall.count(), await AuditEvent.count(), await Lot.select().order_by(Lot.id))
    again = await d["mo"].post(d["base"], body, key=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert (await Recall.count(), await AuditEvent.count(), await Lot.select().order_by(Lot.id)) == before
    reused = await d["mo"].post(d["base"], {**body, "lot_numbers": ["B2"]}, key=key)
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    assert await _status(d["b2"]) == "available"


async def test_only_managers_enter_recalls_and_inspectors_can_read_them(client: Client) -> None:
    d = await _setup(client)
    recall = (await _recall(d, d["mo"], item_id=d["flu"], lot_numbers=["B2"])).json()["recall"]["id"]
    for name in ("amy", "ivy"):
        s = await login(client, name)
        refused = await _recall(d, s, item_id=d["flu"], lot_numbers=["A1"])
        assert refused.status_code == 403, name
        assert (await s.get(f"{d['base']}/{recall}")).status_code == 200
    assert await _status(d["a1"]) == "available"
    assert await Recall.count() == 1
