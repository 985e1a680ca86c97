from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import pytest

from server.core import audit
from server.core.rules import LocationKind, Role
from server.core.tables import AuditEvent
from server.errors import InvalidInput
from server.stock import rollup
from server.stock.counts import check_line_target, plan_post, stray_reasons, variance
from server.stock.rules import AdjustReason
from server.stock.schemas_counts import CountLineIn
from server.stock.tables import Lot, Movement, StockCount, StockCountLine, StockLevel
from tests.factories import Client, Session, login, make_location, make_site, make_user
from tests.stock.factories import make_item, receive
from tests.stock.test_ledger import _ledger_matches_levels
from tests.stock.test_queries import counting_queries

# --- pure rules -------------------------------------------------------------------------------------


def test_variance_is_counted_minus_current_on_hand() -> None:
    assert variance(8, 10) == -2
    assert variance(12, 10) == 2
    assert variance(0, 0) == 0
    assert variance(None, 10) is None


def test_plan_post_adjusts_only_counted_lines_that_differ() -> None:
    counted = {3: 8, 1: 5, 2: None, 4: 2}
    on_hand = {3: 9, 1: 5, 2: 7}  # lot 4 is found stock: nothing on hand here
    plan = plan_post(counted, on_hand, {4: AdjustReason.FOUND})
    assert [(a.lot_id, a.on_hand, a.counted, a.delta, a.reason) for a in plan.adjust] == [
        (3, 9, 8, -1, AdjustReason.COUNT),
        (4, 0, 2, 2, AdjustReason.FOUND),
    ]
    assert plan.matched == [1]
    assert plan.not_counted == [2]


def test_reasons_for_lots_not_on_the_count_are_named() -> None:
    assert stray_reasons({1, 2}, {2: AdjustReason.MISSING, 9: AdjustReason.COUNT, 7: AdjustReason.FOUND}) == [
        7,
        9,
    ]
    assert stray_reasons({1, 2}, {}) == []


@pytest.mark.parametrize(
    "line",
    [
        CountLineIn(counted=1),
        CountLineIn(counted=1, item_id=3),
        CountLineIn(counted=1, lot_number="A1"),
        CountLineIn(counted=1, item_id=3, lot_number="   "),
        CountLineIn(counted=1, lot_id=2, lot_number="A1"),
        CountLineIn(counted=1, lot_id=2, item_id=3),
    ],
)
def test_a_line_names_its_lot_one_way(line: CountLineIn) -> None:
    with pytest.raises(InvalidInput) as err:
        check_line_target(line)
    assert err.value.code == "line_target"


def test_a_line_by_lot_or_by_scan_is_accepted() -> None:
    check_line_target(CountLineIn(counted=0, lot_id=2))
    check_line_target(CountLineIn(counted=0, item_id=3, lot_number="A1"))


# --- through the API --------------------------------------------------------------------------------


async def _setup(client: Client) -> dict[str, Any]:
    site = await make_site()
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    shelf = await make_location(site, "Supply Room", LocationKind.SUPPLY_ROOM)
    item = await make_item(site, "Influenza vaccine", gtin="09506000134352")
    a1 = await receive(site, item, fridge, 10, lot="A1", expiry=date(2030, 1, 31))
    b2 = await receive(site, item, fridge, 5, lot="B2", expiry=date(2030, 6, 30))
    c3 = await receive(site, item, shelf, 3, lot="C3", expiry=date(2030, 9, 30))
    users = {
        name: await make_user(name, site_id=site, role=role)
        for name, role in (("amy", Role.ASSISTANT), ("mo", Role.MANAGER), ("ivy", Role.INSPECTOR))
    }
    return {
        **users,
        "site": site,
        "fridge": fridge,
        "shelf": shelf,
        "item": item,
        "a1": a1.lot.id,
        "b2": b2.lot.id,
        "c3": c3.lot.id,
        "base": f"/api/sites/{site}/counts",
        "client": client,
    }


async def _start(d: dict[str, Any], s: Session, location: str = "fridge") -> dict[str, Any]:
    resp = await s.post(d["base"], {"location_id": d[location], "note": "monthly"})
    assert resp.status_code == 201, resp.text
    body: dict[str, Any] = resp.json()
    return body


async def _count(s: Session, d: dict[str, Any], count_id: int, body: dict[str, Any]) -> Any:
    return await s.put(f"{d['base']}/{count_id}/lines", body)


async def _level(lot: int, location: int) -> int:
    row = await StockLevel.select(StockLevel.on_hand).where(
        (StockLevel.lot == lot) & (StockLevel.location == location)
    )
    return int(row[0]["on_hand"]) if row else 0


async def _status_of(lot: int) -> str:
    row = await Lot.select(Lot.status).where(Lot.id == lot).first()
    return str(row["status"]) if row else ""


async def _actions(action: str) -> int:
    return await AuditEvent.count().where(AuditEvent.action == action)


async def test_start_snapshots_each_lot_with_stock_in_that_place(client: Client) -> None:
    d = await _setup(client)
    gone = await receive(d["site"], d["item"], d["fridge"], 1, lot="GONE")
    mo = await login(client, "mo")
    await mo.post(
        f"/api/sites/{d['site']}/movements/use", {"lot_id": gone.lot.id, "location_id": d["fridge"]}
    )
    amy = await login(client, "amy")
    started = await _start(d, amy)
    assert started["count"]["status"] == "open"
    assert started["count"]["location_name"] == "Vaccine Fridge"
    assert started["count"]["started_by"] == f"user:{d['amy']}"
    assert (started["count"]["lines"], started["count"]["counted"]) == (2, 0)
    lines = [
        (ln["lot_number"], ln["item_name"], ln["expiry"], ln["expected"], ln["counted"], ln["variance"])
        for ln in started["lines"]
    ]
    assert lines == [
        ("A1", "Influenza vaccine", "2030-01-31", 10, None, None),
        ("B2", "Influenza vaccine", "2030-06-30", 5, None, None),
    ]
    assert await _actions("count.start") == 1
    got = await amy.get(f"{d['base']}/{started['count']['id']}")
    assert got.status_code == 200 and got.json() == started


async def test_count_by_lot_and_by_scan_last_write_wins(client: Client) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    count_id = (await _start(d, amy))["count"]["id"]
    first = await _count(amy, d, count_id, {"lot_id": d["a1"], "counted": 9})
    assert first.status_code == 200, first.text
    assert (first.json()["expected"], first.json()["counted"], first.json()["variance"]) == (10, 9, -1)
    again = await _count(amy, d, count_id, {"lot_id": d["a1"], "counted": 8})
    assert (again.json()["counted"], again.json()["variance"]) == (8, -2)
    scanned = await _count(amy, d, count_id, {"item_id": d["item"], "lot_number": " C3 ", "counted": 2})
    assert scanned.status_code == 200, scanned.text
    found = scanned.json()
    assert (found["lot_id"], found["expected"], found["on_hand"], found["variance"], found["found"]) == (
        d["c3"],
        0,
        0,
        2,
        True,
    )
    assert len(await StockCountLine.select(StockCountLine.id)) == 3  # the overwrite did not add a line
    events = await AuditEvent.select(AuditEvent.payload).where(AuditEvent.action == "count.line")
    assert len(events) == 3
    detail = (await amy.get(f"{d['base']}/{count_id}")).json()
    assert [(ln["lot_number"], ln["counted"]) for ln in detail["lines"]] == [
        ("A1", 8),
        ("B2", None),
        ("C3", 2),
    ]
    assert (detail["count"]["lines"], detail["count"]["counted"]) == (3, 2)


async def test_a_scan_of_an_unknown_lot_or_a_bad_target_is_refused(client: Client) -> None:
    d = await _setup(client)
    other = await make_site("Other Clinic")
    other_loc = await make_location(other, "Fridge", LocationKind.FRIDGE)
    other_item = await make_item(other, "Influenza vaccine", gtin="09506000134369")
    other_lot = await receive(other, other_item, other_loc, 4, lot="A1")
    amy = await login(client, "amy")
    count_id = (await _start(d, amy))["count"]["id"]
    unknown = await _count(amy, d, count_id, {"item_id": d["item"], "lot_number": "NOPE", "counted": 1})
    assert unknown.status_code == 404 and unknown.json()["code"] == "lot_not_found"
    assert "NOPE" in unknown.json()["detail"]
    lower = await _count(amy, d, count_id, {"item_id": d["item"], "lot_number": "a1", "counted": 1})
    assert lower.status_code == 404  # lot numbers match as printed
    elsewhere = await _count(amy, d, count_id, {"lot_id": other_lot.lot.id, "counted": 1})
    assert elsewhere.status_code == 404 and elsewhere.json()["code"] == "lot_not_found"
    both = await _count(amy, d, count_id, {"lot_id": d["a1"], "lot_number": "A1", "counted": 1})
    assert both.status_code == 400 and both.json()["code"] == "line_target"
    too_many = await _count(amy, d, count_id, {"lot_id": d["a1"], "counted": 10_000_000})
    assert too_many.status_code == 400
    assert await StockCountLine.select(StockCountLine.id).where(StockCountLine.counted.is_not_null()) == []


async def test_post_adjusts_from_the_current_on_hand(client: Client) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    count_id = (await _start(d, amy))["count"]["id"]
    await _count(amy, d, count_id, {"lot_id": d["a1"], "counted": 8})
    await _count(amy, d, count_id, {"lot_id": d["b2"], "counted": 5})
    # Someone uses one A1 after the count started: the shelf now holds 9, and 8 were counted.
    used = await amy.post(
        f"/api/sites/{d['site']}/movements/use", {"lot_id": d["a1"], "location_id": d["fridge"]}
    )
    assert used.status_code == 201
    review = (await amy.get(f"{d['base']}/{count_id}")).json()
    assert [(ln["expected"], ln["on_hand"], ln["variance"]) for ln in review["lines"]] == [
        (10, 9, -1),
        (5, 5, 0),
    ]
    mo = await login(client, "mo")
    posted = await mo.post(f"{d['base']}/{count_id}/post", {"reasons": {str(d["a1"]): "missing"}})
    assert posted.status_code == 201, posted.text
    body = posted.json()
    assert [
        (a["lot_id"], a["on_hand_before"], a["counted"], a["quantity"], a["reason"])
        for a in body["adjustments"]
    ] == [(d["a1"], 9, 8, -1, "missing")]
    assert body["matched"] == [d["b2"]] and body["not_counted"] == []
    assert body["count"]["status"] == "posted" and body["count"]["closed_at"] is not None
    adjusts = await Movement.select().where(Movement.kind == "adjust")
    assert [(m["lot"], m["location"], m["quantity"], m["reason"], m["reference"]) for m in adjusts] == [
        (d["a1"], d["fridge"], -1, "missing", f"count:{count_id}")
    ]
    assert await _level(d["a1"], d["fridge"]) == 8 and await _level(d["b2"], d["fridge"]) == 5
    assert (await _actions("count.post"), await _actions("stock.adjust")) == (1, 1)
    line = await StockCountLine.select(StockCountLine.reason).where(StockCountLine.lot == d["a1"]).first()
    assert line is not None and line["reason"] == "missing"
    await _ledger_matches_levels()
    assert all(status.ok for status in await audit.verify_all())


async def test_uncounted_lines_are_left_alone_and_found_stock_is_added(client: Client) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    count_id = (await _start(d, amy))["count"]["id"]
    await _count(amy, d, count_id, {"lot_id": d["a1"], "counted": 12})
    await _count(amy, d, count_id, {"item_id": d["item"], "lot_number": "C3", "counted": 2})
    mo = await login(client, "mo")
    posted = await mo.post(f"{d['base']}/{count_id}/post", {"reasons": {str(d["c3"]): "found"}})
    assert posted.status_code == 201, posted.text
    body = posted.json()
    assert [(a["lot_id"], a["quantity"], a["reason"]) for a in body["adjustments"]] == [
        (d["a1"], 2, "count"),
        (d["c3"], 2, "found"),
    ]
    assert body["not_counted"] == [d["b2"]]
    assert await _level(d["b2"], d["fridge"]) == 5  # untouched
    assert await Movement.count().where((Movement.lot == d["b2"]) & (Movement.kind == "adjust")) == 0
    assert await _level(d["a1"], d["fridge"]) == 12
    assert (await _level(d["c3"], d["fridge"]), await _level(d["c3"], d["shelf"])) == (2, 3)
    await _ledger_matches_levels()


async def test_a_closed_count_refuses_changes(client: Client) -> None:
    d = await _setup(client)
    mo = await login(client, "mo")
    posted_id = (await _start(d, mo))["count"]["id"]
    await _count(mo, d, posted_id, {"lot_id": d["a1"], "counted": 7})
    assert (await mo.post(f"{d['base']}/{posted_id}/post", {})).status_code == 201
    cancelled_id = (await _start(d, mo))["count"]["id"]  # the place is free again once posted
    cancelled = await mo.post(f"{d['base']}/{cancelled_id}/cancel")
    assert cancelled.status_code == 201, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    movements = await Movement.count()
    for count_id in (posted_id, cancelled_id):
        for resp in (
            await _count(mo, d, count_id, {"lot_id": d["a1"], "counted": 1}),
            await mo.post(f"{d['base']}/{count_id}/post", {}),
            await mo.post(f"{d['base']}/{count_id}/cancel"),
        ):
            assert resp.status_code == 409 and resp.json()["code"] == "count_closed", resp.text
    assert await Movement.count() == movements
    assert await _level(d["a1"], d["fridge"]) == 7
    line = await StockCountLine.select(StockCountLine.counted).where(
        (StockCountLine.count == cancelled_id) & (StockCountLine.lot == d["a1"])
    )
    assert line == [{"counted": None}]


async def test_one_open_count_per_place(client: Client) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    first = await _start(d, amy)
    second = await amy.post(d["base"], {"location_id": d["fridge"]})
    assert second.status_code == 409 and second.json()["code"] == "count_open"
    assert str(first["count"]["id"]) in second.json()["detail"]
    assert (await amy.post(d["base"], {"location_id": d["shelf"]})).status_code == 201
    assert await StockCount.count() == 2


async def test_racing_starts_for_one_place_open_one_count(client: Client) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    answers = await asyncio.gather(*(amy.post(d["base"], {"location_id": d["fridge"]}) for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    assert await StockCount.count() == 1 and len(await StockCountLine.select(StockCountLine.id)) == 2


async def test_replays_change_nothing(client: Client) -> None:
    d = await _setup(client)
    mo = await login(client, "mo")

    async def twice(method: str, url: str, body: Any = None) -> Any:
        key = str(uuid.uuid4())
        send = mo.put if method == "put" else mo.post
        first = await send(url, body, key=key)
        assert first.status_code in (200, 201), first.text
        before = (
            await Movement.count(),
            await StockLevel.select(StockLevel.on_hand).order_by(StockLevel.id),
            await AuditEvent.count(),
            await StockCount.select().order_by(StockCount.id),
            await StockCountLine.select().order_by(StockCountLine.id),
        )
        again = await send(url, body, key=key)
        assert again.status_code == first.status_code and again.json() == first.json(), url
        after = (
            await Movement.count(),
            await StockLevel.select(StockLevel.on_hand).order_by(StockLevel.id),
            await AuditEvent.count(),
            await StockCount.select().order_by(StockCount.id),
            await StockCountLine.select().order_by(StockCountLine.id),
        )
        assert after == before, url
        return first.json()

    count_id = (await twice("post", d["base"], {"location_id": d["fridge"]}))["count"]["id"]
    await twice("put", f"{d['base']}/{count_id}/lines", {"lot_id": d["a1"], "counted": 4})
    posted = await twice("post", f"{d['base']}/{count_id}/post", {"reasons": {str(d["a1"]): "data_entry"}})
    assert [a["quantity"] for a in posted["adjustments"]] == [-6]
    other = (await _start(d, mo, "shelf"))["count"]["id"]
    await twice("post", f"{d['base']}/{other}/cancel")
    assert await Movement.count().where(Movement.kind == "adjust") == 1
    await _ledger_matches_levels()


async def test_inspectors_read_but_never_write_and_assistants_cannot_post(client: Client) -> None:
    d = await _setup(client)
    amy = await login(client, "amy")
    count_id = (await _start(d, amy))["count"]["id"]
    await _count(amy, d, count_id, {"lot_id": d["a1"], "counted": 1})
    refused = await amy.post(f"{d['base']}/{count_id}/post", {})
    assert refused.status_code == 403
    ivy = await login(client, "ivy")
    assert (await ivy.get(d["base"])).status_code == 200
    assert (await ivy.get(f"{d['base']}/{count_id}")).status_code == 200
    for resp in (
        await ivy.post(d["base"], {"location_id": d["shelf"]}),
        await _count(ivy, d, count_id, {"lot_id": d["a1"], "counted": 2}),
        await ivy.post(f"{d['base']}/{count_id}/post", {}),
        await ivy.post(f"{d['base']}/{count_id}/cancel"),
    ):
        assert resp.status_code == 403, resp.text
    assert await Movement.count().where(Movement.kind == "adjust") == 0
    assert (await StockCount.select(StockCount.status).first()) == {"status": "open"}
    assert await StockCount.count() == 1


async def test_another_sites_count_is_not_found(client: Client) -> None:
    d = await _setup(client)
    other = await make_site("Other Clinic")
    await make_user("olga", site_id=other, role=Role.MANAGER)
    amy = await login(client, "amy")
    count_id = (await _start(d, amy))["count"]["id"]
    olga = await login(client, "olga")
    theirs = f"/api/sites/{other}/counts/{count_id}"
    assert (await olga.get(theirs)).json()["code"] == "count_not_found"
    assert (await olga.post(f"{theirs}/post", {})).status_code == 404
    assert (await olga.post(f"{theirs}/cancel")).status_code == 404
    assert (await olga.get(f"/api/sites/{other}/counts")).json() == []
    assert (await olga.get(f"/api/sites/{d['site']}/counts")).status_code == 403


async def test_a_reason_for_a_lot_not_on_the_count_posts_nothing(client: Client) -> None:
    d = await _setup(client)
    mo = await login(client, "mo")
    count_id = (await _start(d, mo))["count"]["id"]
    await _count(mo, d, count_id, {"lot_id": d["a1"], "counted": 3})
    resp = await mo.post(f"{d['base']}/{count_id}/post", {"reasons": {str(d["c3"]): "found"}})
    assert resp.status_code == 400 and resp.json()["code"] == "reason_for_unknown_lot"
    bad = await mo.post(f"{d['base']}/{count_id}/post", {"reasons": {str(d["a1"]): "lost"}})
    assert bad.status_code == 400
    assert await Movement.count().where(Movement.kind == "adjust") == 0
    assert (await StockCount.select(StockCount.status).first()) == {"status": "open"}


async def test_list_is_newest_first_filters_by_status_and_does_not_grow_queries(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = await _setup(client)
    mo = await login(client, "mo")
    first = (await _start(d, mo))["count"]["id"]
    await mo.post(f"{d['base']}/{first}/cancel")
    second = (await _start(d, mo))["count"]["id"]
    await _count(mo, d, second, {"lot_id": d["a1"], "counted": 10})
    listed = (await mo.get(d["base"])).json()
    assert [(c["id"], c["status"], c["lines"], c["counted"]) for c in listed] == [
        (second, "open", 2, 1),
        (first, "cancelled", 2, 0),
    ]
    assert [c["id"] for c in (await mo.get(f"{d['base']}?status=cancelled")).json()] == [first]
    assert (await mo.get(f"{d['base']}?status=lost")).status_code == 400
    with counting_queries(monkeypatch) as seen:
        assert (await mo.get(d["base"])).status_code == 200
    small = len(seen)
    for _ in range(5):
        await mo.post(f"{d['base']}/{second}/cancel")
        second = (await _start(d, mo))["count"]["id"]
    with counting_queries(monkeypatch) as seen:
        assert len((await mo.get(d["base"])).json()) == 7
    assert len(seen) == small


async def test_a_post_racing_uses_and_a_recall_keeps_the_ledger_whole(client: Client) -> None:
    """On PostgreSQL these run truly at once: no deadlock, no 500, and the ledger equals on hand."""
    d = await _setup(client)
    # A lot whose number sorts first but whose id is last: a recall and a post take its row in a
    # different order than the others unless both lock every lot up front, in id order.
    early = (await receive(d["site"], d["item"], d["fridge"], 2, lot="0X")).lot.id
    mo = await login(client, "mo")
    count_id = (await _start(d, mo))["count"]["id"]
    await _count(mo, d, count_id, {"lot_id": d["a1"], "counted": 8})
    await _count(mo, d, count_id, {"lot_id": d["b2"], "counted": 4})
    await _count(mo, d, count_id, {"lot_id": early, "counted": 1})
    site = f"/api/sites/{d['site']}"
    uses = [
        mo.post(f"{site}/movements/use", {"lot_id": lot, "location_id": d["fridge"]})
        for lot in (d["a1"], d["b2"]) * 3
    ]
    recall = mo.post(
        f"{site}/recalls", {"item_id": d["item"], "lot_numbers": ["B2", "A1", "0X"], "notice": "x"}
    )
    answers = await asyncio.gather(mo.post(f"{d['base']}/{count_id}/post", {}), recall, *uses)
    assert [a.status_code for a in answers[:2]] == [201, 201], [a.text for a in answers[:2]]
    assert {a.status_code for a in answers[2:]} <= {201, 422}, [a.text for a in answers[2:]]
    assert {a.json()["code"] for a in answers[2:] if a.status_code == 422} <= {"lot_recalled"}
    # The audit chain is written in commit order: the uses after the post are the ones it did not see.
    events = await AuditEvent.select(AuditEvent.seq, AuditEvent.action, AuditEvent.entity_id).where(
        AuditEvent.action.is_in(["count.post", "stock.use"])
    )
    posted_at = next(e["seq"] for e in events if e["action"] == "count.post")
    used_after = {
        lot: sum(
            1
            for e in events
            if e["seq"] > posted_at and e["action"] == "stock.use" and e["entity_id"] == str(lot)
        )
        for lot in (d["a1"], d["b2"])
    }
    assert await _level(d["a1"], d["fridge"]) == 8 - used_after[d["a1"]]
    assert await _level(d["b2"], d["fridge"]) == 4 - used_after[d["b2"]]
    assert await _level(early, d["fridge"]) == 1
    assert {await _status_of(lot) for lot in (d["a1"], d["b2"], early)} == {"recalled"}
    await _ledger_matches_levels()
    assert await rollup.mismatches() == (0, 0)  # the alert sweep's running totals kept up
