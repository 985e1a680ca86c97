"""ASVS v3 (sessions) and v4.2 / v13 (CSRF on every state-changing route), v2.2 (brute force).

The CSRF walk goes over the application's route table, as tests/core/test_permissions.py does, so a
route added later is covered without editing this file.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar

from server.core.permissions import SAFE_METHODS, SESSION_COOKIE
from server.core.rules import Role
from tests.core.test_permissions import _fill, protected_endpoints
from tests.factories import PASSWORD, Client, login, make_site, make_user


@pytest.fixture
async def site() -> int:
    site = await make_site("Clinic A")
    await make_user("amira", site_id=site, role=Role.ADMIN)
    await make_user("bruno", site_id=site, role=Role.MANAGER)
    return site


async def test_login_issues_a_new_session_id_every_time(client: Client, site: int) -> None:
    await login(client, "amira")
    first = client.cookies.get(SESSION_COOKIE)
    # Signing in again over a live session sets a fresh id.
    resp = await client.post("/api/auth/login", json={"username": "amira", "password": PASSWORD})
    second = resp.cookies.get(SESSION_COOKIE)
    assert resp.status_code == 200
    assert first and second and first != second
    # A planted cookie (fixation) is never promoted to a signed-in session.
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, "attacker-chosen-value")
    resp = await client.post("/api/auth/login", json={"username": "amira", "password": PASSWORD})
    assert resp.cookies.get(SESSION_COOKIE) not in (None, "attacker-chosen-value")
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, "attacker-chosen-value")
    assert (await client.get("/api/me")).status_code == 401


async def test_signing_in_over_a_live_session_ends_it(client: Client, site: int) -> None:
    await login(client, "bruno")  # a shared tablet: Bruno forgot to sign out
    bruno = client.cookies.get(SESSION_COOKIE) or ""
    resp = await client.post("/api/auth/login", json={"username": "amira", "password": PASSWORD})
    assert resp.status_code == 200
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, bruno)
    assert (await client.get("/api/me")).status_code == 401


async def test_the_session_id_is_dead_after_logout_and_the_csrf_token_too(client: Client, site: int) -> None:
    s = await login(client, "amira")
    cookie = client.cookies.get(SESSION_COOKIE) or ""
    assert (await client.post("/api/auth/logout", headers={"X-CSRF-Token": s.csrf})).status_code == 200
    client.cookies.set(SESSION_COOKIE, cookie)
    resp = await s.post(f"/api/sites/{site}/locations", {"name": "Room 9", "kind": "room"})
    assert resp.status_code == 401
    assert resp.json()["code"] == "not_authenticated"


async def test_every_unsafe_route_refuses_a_cookie_write_without_the_csrf_token(
    app: Litestar, client: Client, site: int
) -> None:
    await login(client, "amira")
    unsafe = [e for e in protected_endpoints(app) if e.method not in SAFE_METHODS]
    assert len(unsafe) >= 60
    for e in unsafe:
        for headers in ({}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": "x" * 32}):
            resp = await client.request(
                e.method,
                _fill(e.path, site),
                json={},
                headers={**headers, "Idempotency-Key": "6f1c0c7e-1111-4111-8111-111111111111"},
            )
            assert resp.status_code == 403, f"{e.method} {e.path} {headers}: {resp.status_code}"
            assert resp.json()["code"] == "csrf_failed"


async def test_the_csrf_token_is_bound_to_its_session(client: Client, site: int) -> None:
    other = await login(client, "bruno")
    await login(client, "amira")
    url = f"/api/sites/{site}/locations"
    resp = await client.post(url, json={"name": "Room 9", "kind": "room"}, headers=other.headers())
    assert resp.status_code == 403
    assert resp.json()["code"] == "csrf_failed"
    assert (await client.get(url)).json() == []


async def test_a_cross_site_form_cannot_post_json_as_text_plain(client: Client, site: int) -> None:
    # A form can send text/plain without a preflight; it must not be read as JSON (login CSRF).
    body = '{"username": "amira", "password": "' + PASSWORD + '"}'
    resp = await client.post("/api/auth/login", content=body, headers={"content-type": "text/plain"})
    assert resp.status_code == 415, resp.text
    assert resp.json()["code"] == "unsupported_media_type"
    assert SESSION_COOKIE not in resp.headers.get("set-cookie", "")


async def test_guessing_passwords_is_throttled_per_account_and_per_address(client: Client, site: int) -> None:
    answers = []
    for i in range(7):
        resp = await client.post("/api/auth/login", json={"username": "amira", "password": f"guess-{i}-xx"})
        answers.append(resp.status_code)
    assert answers[:5] == [401] * 5
    assert answers[5:] == [429, 429]
    # The right password does not get through while throttled, and the answer says when to retry.
    resp = await client.post("/api/auth/login", json={"username": "amira", "password": PASSWORD})
    assert resp.status_code == 429
    assert int(resp.headers["retry-after"]) >= 1
    # Another account from the same address is throttled as well (spraying one password).
    resp = await client.post("/api/auth/login", json={"username": "bruno", "password": PASSWORD})
    assert resp.status_code == 429


def _cookie_flags(set_cookie: str) -> dict[str, Any]:
    parts = [p.strip().lower() for p in set_cookie.split(";")]
    return {
        "httponly": "httponly" in parts,
        "samesite": next((p for p in parts if p.startswith("samesite")), ""),
    }


async def test_the_session_cookie_is_httponly_and_samesite(client: Client, site: int) -> None:
    resp = await client.post("/api/auth/login", json={"username": "amira", "password": PASSWORD})
    flags = _cookie_flags(resp.headers["set-cookie"])
    assert flags == {"httponly": True, "samesite": "samesite=lax"}
    assert "csrf_token" in resp.json()
    assert len(client.cookies.get(SESSION_COOKIE) or "") >= 32  # ASVS 3.2.2: at least 128 bits
