"""ASVS v14.4 (security headers), v12.1 / v13.1 (request size limits), v5.3 / v14.4.1 (content types:
the API answers JSON only, so text a user typed is never served as HTML)."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar

from server.core.rules import Role
from tests.factories import Client, login, make_site, make_user

MIB = 1024 * 1024


@pytest.fixture
async def site() -> int:
    site = await make_site("Clinic A")
    await make_user("amira", site_id=site, role=Role.ADMIN)
    return site


@pytest.mark.parametrize("path", ["/", "/api/me", "/api/nowhere", "/sw.js", "/healthz"])
async def test_every_answer_carries_the_security_headers(client: Client, site: int, path: str) -> None:
    await login(client, "amira")
    headers = (await client.get(path)).headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in headers  # plain http: HSTS would be ignored, and wrong


async def test_hsts_is_sent_over_https(app: Litestar) -> None:
    from server.db import close_pool, start_pool

    await start_pool(2)
    try:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50002))
        async with httpx.AsyncClient(transport=transport, base_url="https://clinic.example") as c:
            resp = await c.get("/healthz")
    finally:
        await close_pool()
    assert resp.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_api_answers_are_json_never_html_and_not_cached(client: Client, site: int) -> None:
    s = await login(client, "amira")
    name = '<img src=x onerror="alert(1)">'
    created = await s.post(f"/api/sites/{site}/locations", {"name": name, "kind": "room"})
    assert created.status_code == 201, created.text
    resp = await s.get(f"/api/sites/{site}/locations")
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["cache-control"] == "no-store"
    assert resp.json()[0]["name"] == name  # stored as typed; the client renders it as text
    bad = await s.post(f"/api/sites/{site}/locations", {"name": 5, "kind": "<script>"})
    assert bad.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/sites/{site}/items/import", "csv"),  # catalog import
        ("/api/sites/{site}/locations", "name"),  # any JSON body
    ],
)
async def test_a_body_over_one_mib_is_refused_with_413_problem_details(
    client: Client, site: int, path: str, field: str
) -> None:
    s = await login(client, "amira")
    row = "Gloves nitrile M,supply,box,,,,,,,,no\n"
    body = {field: "name,kind,unit\n" + row * (MIB // len(row) + 10), "kind": "room"}
    resp = await s.post(path.format(site=site), body)
    assert resp.status_code == 413, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == "too_large"
    assert (await s.get(f"/api/sites/{site}/items")).json() == []


async def test_a_logger_import_over_the_limit_changes_nothing(client: Client, site: int) -> None:
    s = await login(client, "amira")
    fridge = await s.post(f"/api/sites/{site}/locations", {"name": "Vaccine fridge", "kind": "fridge"})
    fridge_id = fridge.json()["id"]
    line = "2026-01-01 00:00,4.5\n"
    resp = await s.post(
        f"/api/sites/{site}/coldchain/fridges/{fridge_id}/logger-import",
        {"csv": "time,temp\n" + line * (MIB // len(line) + 10), "dry_run": False},
    )
    assert resp.status_code == 413
    assert resp.json()["code"] == "too_large"


async def test_no_cross_origin_access_is_granted(client: Client, site: int) -> None:
    """No CORS: another origin's page cannot read answers with the user's cookie (ASVS 14.5.3)."""
    await login(client, "amira")
    evil = {"Origin": "https://evil.example"}
    resp = await client.get("/api/me", headers=evil)
    assert "access-control-allow-origin" not in resp.headers
    assert "access-control-allow-credentials" not in resp.headers
    preflight = await client.options(
        "/api/me",
        headers={
            **evil,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-csrf-token",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize(
    "path",
    [
        "/js/../../pyproject.toml",
        "/js/%2e%2e/%2e%2e/pyproject.toml",
        "/..%2f..%2fserver/config.py",
        "/css/..%5c..%5cREADME.md",
    ],
)
async def test_static_files_cannot_be_escaped(client: Client, path: str) -> None:
    resp = await client.get(path)
    assert resp.status_code in (400, 404), f"{path}: {resp.status_code}"
    assert "[project]" not in resp.text and "CLINITRACK_" not in resp.text
