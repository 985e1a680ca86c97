from __future__ import annotations

from server.core.permissions import SESSION_COOKIE
from server.core.rules import Role
from tests.factories import PASSWORD, Client, login, make_site, make_user


async def test_login_sets_a_hardened_cookie_and_me_answers(client: Client) -> None:
    site = await make_site()
    await make_user("maria", site_id=site, role=Role.ASSISTANT)
    resp = await client.post("/api/auth/login", json={"username": "Maria ", "password": PASSWORD})
    assert resp.status_code == 200
    cookie = resp.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in tests
    me = (await client.get("/api/me")).json()
    assert me["username"] == "maria"
    assert me["memberships"] == [
        {"site_id": site, "site_name": "Test Clinic", "timezone": "America/Toronto", "role": "assistant"}
    ]
    assert me["csrf_token"] == resp.json()["csrf_token"]


async def test_wrong_password_is_401_with_a_code(client: Client) -> None:
    await make_user("maria")
    resp = await client.post("/api/auth/login", json={"username": "maria", "password": "nope-nope-nope"})
    assert resp.status_code == 401
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == "bad_credentials"
    assert SESSION_COOKIE not in resp.headers.get("set-cookie", "")


async def test_logout_ends_the_session(client: Client) -> None:
    await make_user("maria")
    s = await login(client, "maria")
    resp = await client.post("/api/auth/logout", headers={"X-CSRF-Token": s.csrf})
    assert resp.status_code == 200
    assert (await client.get("/api/me")).status_code == 401


async def test_old_cookie_is_refused_after_logout(client: Client) -> None:
    await make_user("maria")
    s = await login(client, "maria")
    stolen = client.cookies.get(SESSION_COOKIE)
    await client.post("/api/auth/logout", headers={"X-CSRF-Token": s.csrf})
    client.cookies.set(SESSION_COOKIE, stolen or "")
    assert (await client.get("/api/me")).status_code == 401


async def test_throttling_after_five_failures_per_account(client: Client) -> None:
    await make_user("maria")
    for _ in range(5):
        resp = await client.post("/api/auth/login", json={"username": "maria", "password": "wrong-password"})
        assert resp.status_code == 401
    resp = await client.post("/api/auth/login", json={"username": "maria", "password": PASSWORD})
    assert resp.status_code == 429
    assert resp.json()["code"] == "too_many_attempts"
    assert 1 <= int(resp.headers["retry-after"]) <= 60


async def test_throttling_per_address_across_accounts(client: Client) -> None:
    await make_user("maria")
    for i in range(5):
        await client.post("/api/auth/login", json={"username": f"ghost{i}", "password": "wrong-password"})
    resp = await client.post("/api/auth/login", json={"username": "maria", "password": PASSWORD})
    assert resp.status_code == 429


async def test_csrf_header_is_required_for_cookie_writes(client: Client) -> None:
    site = await make_site()
    await make_user("mgr", site_id=site, role=Role.MANAGER)
    s = await login(client, "mgr")
    body = {"name": "Fridge A", "kind": "fridge"}
    url = f"/api/sites/{site}/locations"
    missing = await client.post(
        url, json=body, headers={"Idempotency-Key": "2b1f3c1e-0000-4000-8000-000000000001"}
    )
    assert missing.status_code == 403
    assert missing.json()["code"] == "csrf_failed"
    wrong = await client.post(
        url,
        json=body,
        headers={"X-CSRF-Token": "forged", "Idempotency-Key": "2b1f3c1e-0000-4000-8000-000000000002"},
    )
    assert wrong.status_code == 403
    ok = await s.post(url, body)
    assert ok.status_code == 201, ok.text
    listed = (await client.get(url)).json()
    assert [loc["name"] for loc in listed] == ["Fridge A"]


async def test_password_change_needs_the_current_one_and_signs_out_other_devices(
    client: Client, app: object
) -> None:
    await make_user("maria")
    s = await login(client, "maria")
    bad = await client.post(
        "/api/auth/password",
        headers={"X-CSRF-Token": s.csrf},
        json={"current_password": "not-it-at-all", "new_password": "a-brand-new-pass"},
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "wrong_password"
    weak = await client.post(
        "/api/auth/password",
        headers={"X-CSRF-Token": s.csrf},
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    assert weak.status_code == 400
    assert weak.json()["code"] == "weak_password"
    ok = await client.post(
        "/api/auth/password",
        headers={"X-CSRF-Token": s.csrf},
        json={"current_password": PASSWORD, "new_password": "a-brand-new-pass"},
    )
    assert ok.status_code == 200
    assert (await client.get("/api/me")).status_code == 200  # this device stays signed in
    client.cookies.clear()
    old = await client.post("/api/auth/login", json={"username": "maria", "password": PASSWORD})
    assert old.status_code == 401
    await login(client, "maria", "a-brand-new-pass")


async def test_cookie_is_secure_behind_https(app: object) -> None:
    import httpx

    from server.db import close_pool, start_pool

    await make_user("maria")
    await start_pool(2)
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="https://clinic.example") as c:
            resp = await c.post("/api/auth/login", json={"username": "maria", "password": PASSWORD})
    finally:
        await close_pool()
    assert resp.status_code == 200
    assert "Secure" in resp.headers["set-cookie"]
