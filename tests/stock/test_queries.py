from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest

from server.clock import utcnow
from server.core.rules import LocationKind, Role
from server.db import engine
from server.stock.tables import Lot
from tests.factories import Client, Session, login, make_location, make_site, make_user
from tests.stock.factories import make_item, receive


@contextmanager
def counting_queries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    # Engines use __slots__, so the count is taken on the class; every Piccolo query goes through here.
    engine_class = type(engine())
    seen: list[str] = []
    original = engine_class.run_querystring

    async def counted(self: Any, querystring: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(querystring))
        return await original(self, querystring, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counted)
    try:
        yield seen
    finally:
        monkeypatch.setattr(engine_class, "run_querystring", original)


async def _site(client: Client) -> tuple[int, int, int, Session]:
    site = await make_site()
    fridge = await make_location(site, "Vaccine Fridge", LocationKind.FRIDGE)
    shelf = await make_location(site, "Supply Room", LocationKind.SUPPLY_ROOM)
    await make_user("mgr", site_id=site, role=Role.MANAGER)
    return site, fridge, shelf, await login(client, "mgr")


async def _grow(site: int, fridge: int, shelf: int, n: int, start: int = 0) -> None:
    today = utcnow().date()
    for i in range(start, start + n):
        item = await make_item(site, f"Item {i:03d}", gtin=None)
        await receive(
            site, item, fridge if i % 2 else shelf, 3 + i, lot=f"L{i}", expiry=today + timedelta(days=i)
        )


async def test_list_endpoints_do_not_grow_queries_with_rows(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    site, fridge, shelf, s = await _site(client)
    urls = [
        f"/api/sites/{site}/items",
        f"/api/sites/{site}/stock",
        f"/api/sites/{site}/stock/expiring?days=400",
        f"/api/sites/{site}/journal",
        f"/api/sites/{site}/locations",
        f"/api/sites/{site}/members",
    ]
    await _grow(site, fridge, shelf, 2)
    small: dict[str, int] = {}
    for url in urls:
        with counting_queries(monkeypatch) as seen:
            assert (await s.get(url)).status_code == 200
        assert seen, "the counter saw no query"
        small[url] = len(seen)
    await _grow(site, fridge, shelf, 20, start=2)
    for url in urls:
        with counting_queries(monkeypatch) as seen:
            resp = await s.get(url)
        assert resp.status_code == 200
        assert len(seen) == small[url], f"{url}: {small[url]} queries with 2 rows, {len(seen)} with 22"


async def test_stock_list_searches_names_and_lot_numbers_and_filters_status(client: Client) -> None:
    site, fridge, _, s = await _site(client)
    flu = await make_item(site, "Influenza vaccine")
    gloves = await make_item(site, "Nitrile gloves (M)", gtin=None)
    await receive(site, flu, fridge, 3, lot="FLU-A24")
    held = await receive(site, flu, fridge, 2, lot="FLU-B25")
    await receive(site, gloves, fridge, 100, lot="GL_7")
    await Lot.update({Lot.status: "quarantined"}).where(Lot.id == held.lot.id)
    url = f"/api/sites/{site}/stock"

    async def lots(query: str) -> list[str]:
        resp = await s.get(f"{url}?{query}")
        assert resp.status_code == 200, resp.text
        return sorted(r["lot_number"] for r in resp.json())

    assert await lots("q=influ") == ["FLU-A24", "FLU-B25"]  # part of the name, any case
    assert await lots("q=b25") == ["FLU-B25"]  # part of the lot number
    assert await lots("q=GLOVES+(m)") == ["GL_7"]
    assert await lots("q=%25") == ["FLU-A24", "FLU-B25", "GL_7"]  # a typed % is not a wildcard trick
    assert await lots("status=quarantined") == ["FLU-B25"]
    assert await lots("q=flu&status=available") == ["FLU-A24"]
    bad = await s.get(f"{url}?status=lost")
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")


async def test_expiring_lists_soonest_first_including_expired(client: Client) -> None:
    site, fridge, _, s = await _site(client)
    item = await make_item(site, "Tdap vaccine")
    today = utcnow().date()
    await receive(site, item, fridge, 2, lot="GONE", expiry=today - timedelta(days=3))
    await receive(site, item, fridge, 2, lot="SOON", expiry=today + timedelta(days=10))
    await receive(site, item, fridge, 2, lot="LATER", expiry=today + timedelta(days=200))
    rows = (await s.get(f"/api/sites/{site}/stock/expiring?days=30")).json()
    assert [r["lot_number"] for r in rows] == ["GONE", "SOON"]


async def test_journal_pages_newest_first_and_filters(client: Client) -> None:
    site, fridge, shelf, s = await _site(client)
    item = await make_item(site, "Syringes 3 mL", gtin=None)
    for i in range(7):
        await receive(site, item, fridge if i % 2 else shelf, 1, lot=f"S{i}")
    first = (await s.get(f"/api/sites/{site}/journal?limit=3")).json()
    assert [r["lot_number"] for r in first["items"]] == ["S6", "S5", "S4"]
    second = (await s.get(f"/api/sites/{site}/journal?limit=3&before={first['next_before']}")).json()
    assert [r["lot_number"] for r in second["items"]] == ["S3", "S2", "S1"]
    only_fridge = (await s.get(f"/api/sites/{site}/journal?location_id={fridge}")).json()
    assert {r["location_name"] for r in only_fridge["items"]} == {"Vaccine Fridge"}
    assert len(only_fridge["items"]) == 3
    # Who did it is shown by name: the factory receives as the system, the manager by session.
    assert {(r["actor"], r["actor_name"]) for r in first["items"]} == {("system", "System")}
    used = await s.post(
        f"/api/sites/{site}/movements/use",
        {"lot_id": first["items"][0]["lot_id"], "location_id": first["items"][0]["location_id"]},
    )
    assert used.status_code == 201, used.text
    newest = (await s.get(f"/api/sites/{site}/journal?limit=1")).json()["items"][0]
    assert newest["actor"].startswith("user:") and newest["actor_name"] == "Mgr"


async def test_lot_detail_shows_where_it_is_and_its_history(client: Client) -> None:
    site, fridge, _, s = await _site(client)
    item = await make_item(site, "Pneumococcal vaccine")
    r = await receive(site, item, fridge, 4, lot="PN1")
    detail = (await s.get(f"/api/sites/{site}/stock/lots/{r.lot.id}")).json()
    assert detail["item_name"] == "Pneumococcal vaccine"
    assert detail["levels"] == [{"location_id": fridge, "location_name": "Vaccine Fridge", "on_hand": 4}]
    assert [h["kind"] for h in detail["history"]] == ["receive"]
    other = await make_site("Other")
    assert (await s.get(f"/api/sites/{other}/stock/lots/{r.lot.id}")).status_code == 403
