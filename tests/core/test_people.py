from __future__ import annotations

from server.core.rules import Role
from server.core.tables import Membership, UserSession
from tests.factories import Client, login, make_site, make_user


async def test_a_site_keeps_at_least_one_admin(client: Client) -> None:
    site = await make_site()
    boss = await make_user("boss", site_id=site, role=Role.ADMIN)
    s = await login(client, "boss")
    demote = await s.put(f"/api/sites/{site}/members/{boss}", {"role": "manager"})
    assert demote.status_code == 422 and demote.json()["code"] == "last_admin"
    remove = await s.delete(f"/api/sites/{site}/members/{boss}")
    assert remove.status_code == 422
    assert await Membership.count() == 1


async def test_admin_adds_a_new_person_and_resets_their_password(client: Client) -> None:
    site = await make_site()
    await make_user("boss", site_id=site, role=Role.ADMIN)
    s = await login(client, "boss")
    added = await s.post(
        f"/api/sites/{site}/members",
        {"username": "Sam", "role": "assistant", "display_name": "Sam Lee", "password": "first-password"},
    )
    assert added.status_code == 201, added.text
    sam = added.json()
    assert (sam["username"], sam["role"]) == ("sam", "assistant")
    again = await s.post(f"/api/sites/{site}/members", {"username": "sam", "role": "assistant"})
    assert again.status_code == 409 and again.json()["code"] == "already_member"
    await login(client, "sam", "first-password")
    s = await login(client, "boss")
    reset = await s.post(
        f"/api/sites/{site}/members/{sam['user_id']}/password", {"new_password": "second-password"}
    )
    assert reset.status_code == 200
    assert await UserSession.count().where(UserSession.user == sam["user_id"]) == 0
    await login(client, "sam", "second-password")


async def test_adding_an_unknown_username_without_a_password_explains_what_to_do(client: Client) -> None:
    site = await make_site()
    await make_user("boss", site_id=site, role=Role.ADMIN)
    s = await login(client, "boss")
    resp = await s.post(f"/api/sites/{site}/members", {"username": "ghost", "role": "assistant"})
    assert resp.status_code == 404
    assert "password" in resp.json()["detail"]


async def test_a_deactivated_account_is_signed_out_and_cannot_sign_in(client: Client) -> None:
    site = await make_site()
    sam = await make_user("sam", site_id=site, role=Role.ASSISTANT)
    await make_user("root", superuser=True)
    await login(client, "sam")
    sam_cookie = dict(client.cookies)
    s = await login(client, "root")
    resp = await s.patch(f"/api/users/{sam}", {"active": False})
    assert resp.status_code == 200 and resp.json()["active"] is False
    client.cookies.clear()
    client.cookies.update(sam_cookie)
    assert (await client.get("/api/me")).status_code == 401
    client.cookies.clear()
    bad = await client.post("/api/auth/login", json={"username": "sam", "password": "correct-horse-battery"})
    assert bad.status_code == 401


async def test_locations_can_be_renamed_and_retired_but_not_duplicated(client: Client) -> None:
    site = await make_site()
    await make_user("mgr", site_id=site, role=Role.MANAGER)
    s = await login(client, "mgr")
    a = (await s.post(f"/api/sites/{site}/locations", {"name": "Room A", "kind": "room"})).json()
    await s.post(f"/api/sites/{site}/locations", {"name": "Room B", "kind": "room"})
    clash = await s.patch(f"/api/sites/{site}/locations/{a['id']}", {"name": "Room B"})
    assert clash.status_code == 409
    retired = await s.patch(f"/api/sites/{site}/locations/{a['id']}", {"active": False})
    assert retired.json()["active"] is False
    listed = (await s.get(f"/api/sites/{site}/locations")).json()
    assert [loc["name"] for loc in listed] == ["Room B"]
    everything = (await s.get(f"/api/sites/{site}/locations?include_inactive=true")).json()
    assert len(everything) == 2
    other = await make_site("Other")
    assert (await s.get(f"/api/sites/{other}/locations/{a['id']}")).status_code == 403
