from __future__ import annotations

from typing import Any

from server.core.rules import Role
from tests.factories import Client, login, make_site, make_user


async def _token(client: Client, site: int, role: str) -> dict[str, Any]:
    s = await login(client, "boss")
    resp = await s.post(f"/api/sites/{site}/tokens", {"name": f"{role} integration", "role": role})
    assert resp.status_code == 201, resp.text
    client.cookies.clear()
    return dict(resp.json())


def _bearer(token: dict[str, Any], key: str = "9b7e0e38-0000-4000-8000-00000000000a") -> dict[str, str]:
    return {"Authorization": f"Bearer {token['token']}", "Idempotency-Key": key}


async def test_token_is_scoped_to_its_site_and_role(client: Client) -> None:
    site, other = await make_site("A"), await make_site("B")
    await make_user("boss", site_id=site, role=Role.ADMIN)
    inspector = await _token(client, site, "inspector")
    assert inspector["token"].startswith("ctk_")
    h = _bearer(inspector)
    assert (await client.get(f"/api/sites/{site}/locations", headers=h)).status_code == 200
    write = await client.post(f"/api/sites/{site}/locations", json={"name": "X", "kind": "room"}, headers=h)
    assert write.status_code == 403
    assert (await client.get(f"/api/sites/{other}/locations", headers=h)).status_code == 403
    assert (await client.get("/api/users", headers=h)).status_code == 403
    me = (await client.get("/api/me", headers=h)).json()
    assert me["via_token"] is True
    assert me["memberships"] == [
        {"site_id": site, "site_name": "A", "timezone": "America/Toronto", "role": "inspector"}
    ]


async def test_manager_token_writes_without_csrf_and_is_audited_as_the_token(client: Client) -> None:
    site = await make_site()
    await make_user("boss", site_id=site, role=Role.ADMIN)
    token = await _token(client, site, "manager")
    resp = await client.post(
        f"/api/sites/{site}/locations", json={"name": "Fridge 2", "kind": "fridge"}, headers=_bearer(token)
    )
    assert resp.status_code == 201, resp.text
    s = await login(client, "boss")
    events = (await s.get(f"/api/sites/{site}/audit/events")).json()["items"]
    assert events[-1]["action"] == "location.create"
    assert events[-1]["actor"] == f"token:{token['id']}"


async def test_revoked_and_bogus_tokens_are_401(client: Client) -> None:
    site = await make_site()
    await make_user("boss", site_id=site, role=Role.ADMIN)
    token = await _token(client, site, "manager")
    s = await login(client, "boss")
    revoked = await s.delete(f"/api/sites/{site}/tokens/{token['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    client.cookies.clear()
    assert (await client.get("/api/me", headers=_bearer(token))).status_code == 401
    bogus = {"Authorization": "Bearer ctk_not-a-real-token"}
    assert (await client.get("/api/me", headers=bogus)).status_code == 401
    assert (await client.get("/api/me", headers={"Authorization": "Basic abc"})).status_code == 401


async def test_tokens_are_stored_hashed_and_a_replay_does_not_repeat_the_secret(client: Client) -> None:
    from server.core.tables import ApiToken, ClientWrite

    site = await make_site()
    await make_user("boss", site_id=site, role=Role.ADMIN)
    s = await login(client, "boss")
    key = "0c0ffee0-0000-4000-8000-000000000001"
    first = await s.post(f"/api/sites/{site}/tokens", {"name": "lab", "role": "assistant"}, key=key)
    again = await s.post(f"/api/sites/{site}/tokens", {"name": "lab", "role": "assistant"}, key=key)
    secret = first.json()["token"]
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["token"] != secret
    rows = await ApiToken.select()
    assert len(rows) == 1 and secret not in str(rows)
    assert secret not in str(await ClientWrite.select())


async def test_a_token_cannot_mint_tokens_or_change_passwords(client: Client) -> None:
    site = await make_site()
    await make_user("boss", site_id=site, role=Role.ADMIN)
    token = await _token(client, site, "admin")
    resp = await client.post(
        f"/api/sites/{site}/tokens", json={"name": "x", "role": "admin"}, headers=_bearer(token)
    )
    assert resp.status_code == 403
    assert resp.json()["code"] == "token_cannot_create_tokens"
    pw = await client.post(
        "/api/auth/password",
        json={"current_password": "a" * 10, "new_password": "b" * 12},
        headers=_bearer(token),
    )
    assert pw.status_code == 403


async def test_a_manager_cannot_grant_admin(client: Client) -> None:
    site = await make_site()
    await make_user("mgr", site_id=site, role=Role.MANAGER)
    await make_user("boss", site_id=site, role=Role.ADMIN)
    s = await login(client, "boss")
    resp = await s.post(
        f"/api/sites/{site}/members",
        {"username": "newbie", "role": "assistant", "display_name": "New", "password": "long-enough-pw"},
    )
    assert resp.status_code == 201, resp.text
    last = await s.put(f"/api/sites/{site}/members/{resp.json()['user_id']}", {"role": "manager"})
    assert last.status_code == 200
    assert last.json()["role"] == "manager"
