from __future__ import annotations

import asyncio
import uuid

from server.core.rules import Role
from server.core.tables import AuditEvent, ClientWrite, Location
from tests.factories import Client, login, make_site, make_user


async def _manager(client: Client) -> tuple[int, object]:
    site = await make_site()
    await make_user("mgr", site_id=site, role=Role.MANAGER)
    return site, await login(client, "mgr")


async def test_a_replayed_write_returns_the_first_answer_and_changes_nothing(client: Client) -> None:
    site, s = await _manager(client)
    key = str(uuid.uuid4())
    body = {"name": "Vaccine Fridge 2", "kind": "fridge"}
    first = await s.post(f"/api/sites/{site}/locations", body, key=key)  # type: ignore[attr-defined]
    events_after_first = await AuditEvent.count()
    again = await s.post(f"/api/sites/{site}/locations", body, key=key)  # type: ignore[attr-defined]
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await Location.count() == 1
    assert await AuditEvent.count() == events_after_first
    assert await ClientWrite.count() == 1


async def test_the_same_id_with_another_body_is_409(client: Client) -> None:
    site, s = await _manager(client)
    key = str(uuid.uuid4())
    await s.post(f"/api/sites/{site}/locations", {"name": "Room A", "kind": "room"}, key=key)  # type: ignore[attr-defined]
    resp = await s.post(f"/api/sites/{site}/locations", {"name": "Room B", "kind": "room"}, key=key)  # type: ignore[attr-defined]
    assert resp.status_code == 409
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == "idempotency_key_reused"
    assert [r["name"] for r in await Location.select(Location.name)] == ["Room A"]


async def test_another_user_reusing_an_id_is_409(client: Client) -> None:
    site, s = await _manager(client)
    await make_user("mgr2", site_id=site, role=Role.MANAGER)
    key = str(uuid.uuid4())
    body = {"name": "Room A", "kind": "room"}
    await s.post(f"/api/sites/{site}/locations", body, key=key)  # type: ignore[attr-defined]
    s2 = await login(client, "mgr2")
    assert (await s2.post(f"/api/sites/{site}/locations", body, key=key)).status_code == 409


async def test_a_write_without_an_id_is_refused(client: Client) -> None:
    site, s = await _manager(client)
    resp = await client.post(
        f"/api/sites/{site}/locations",
        json={"name": "Room", "kind": "room"},
        headers={"X-CSRF-Token": s.csrf},
    )  # type: ignore[attr-defined]
    assert resp.status_code == 400
    assert resp.json()["code"] == "validation_error"
    assert await Location.count() == 0


async def test_a_failed_write_keeps_no_id_so_a_fixed_retry_can_use_it(client: Client) -> None:
    site, s = await _manager(client)
    key = str(uuid.uuid4())
    await s.post(f"/api/sites/{site}/locations", {"name": "Room", "kind": "room"})  # type: ignore[attr-defined]
    dup = await s.post(f"/api/sites/{site}/locations", {"name": "Room", "kind": "room"}, key=key)  # type: ignore[attr-defined]
    assert dup.status_code == 409 and dup.json()["code"] == "location_exists"
    fixed = await s.post(f"/api/sites/{site}/locations", {"name": "Room", "kind": "room"}, key=key)  # type: ignore[attr-defined]
    assert fixed.status_code == 409  # same body, same refusal: nothing was stored for it
    assert await ClientWrite.count() == 1


async def test_concurrent_duplicates_land_once(client: Client) -> None:
    site, s = await _manager(client)
    key = str(uuid.uuid4())
    body = {"name": "Supply Room 2", "kind": "supply_room"}
    answers = await asyncio.gather(
        *(
            s.post(f"/api/sites/{site}/locations", body, key=key)  # type: ignore[attr-defined]
            for _ in range(8)
        )
    )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 1
    assert await Location.count() == 1
