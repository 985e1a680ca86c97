"""Walks the application's route table: every non-public route rejects anonymous and wrong-role callers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar

from server.app import SCHEMA_PATH
from server.core.permissions import READ_ONLY_OPT, is_public, route_access
from server.core.rules import Role
from tests.factories import Client, login, make_site, make_user


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    access: list[dict[str, Any]]
    read_only: bool = False


def protected_endpoints(app: Litestar) -> list[Endpoint]:
    found = []
    for route in app.routes:
        if route.path.startswith(SCHEMA_PATH):
            continue
        for handler in getattr(route, "route_handlers", []):
            if is_public(handler):
                continue
            for method in sorted(handler.http_methods):
                found.append(
                    Endpoint(method, route.path, route_access(handler), bool(handler.opt.get(READ_ONLY_OPT)))
                )
    return found


def test_every_api_route_is_either_public_or_declares_access(app: Litestar) -> None:
    endpoints = protected_endpoints(app)
    assert len(endpoints) >= 20
    assert all(e.access for e in endpoints)
    public = sorted(
        r.path
        for r in app.routes
        for h in getattr(r, "route_handlers", [])
        if is_public(h) and "OPTIONS" not in h.http_methods
    )
    assert [p for p in public if p.startswith("/api")] == ["/api/auth/login"]


def _fill(path: str, site_id: int) -> str:
    path = path.replace("{site_id:int}", str(site_id))
    return re.sub(r"\{[a-z_]+:int\}", "1", path)


async def _call(client: Client, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
    body = None if method in ("GET", "DELETE", "HEAD") else {}
    return await client.request(method, url, json=body, headers=headers)


@pytest.fixture
async def people(client: Client) -> dict[str, Any]:
    site = await make_site("Clinic A")
    other = await make_site("Clinic B")
    for role in Role:
        await make_user(f"a-{role.value}", site_id=site, role=role)
    await make_user("b-admin", site_id=other, role=Role.ADMIN)
    await make_user("root", superuser=True)
    return {"site": site, "other": other}


def _wrong_user(access: list[dict[str, Any]]) -> str | None:
    """A user who is signed in but must be refused, or None when any signed-in user may call."""
    for rule in access:
        if rule["kind"] == "site":
            refused = [r for r in Role if r not in rule["roles"]]
            return f"a-{refused[0].value}" if refused else "b-admin"
        if rule["kind"] == "superuser":
            return "a-admin"
    return None


async def test_anonymous_callers_get_401_everywhere(
    app: Litestar, client: Client, people: dict[str, Any]
) -> None:
    for e in protected_endpoints(app):
        client.cookies.clear()
        resp = await _call(
            client,
            e.method,
            _fill(e.path, people["site"]),
            {"Idempotency-Key": "6f1c0c7e-1111-4111-8111-111111111111"},
        )
        assert resp.status_code == 401, f"{e.method} {e.path} answered {resp.status_code}"
        assert resp.headers["content-type"].startswith("application/problem+json")
        assert resp.json()["code"] == "not_authenticated"


async def test_wrong_roles_get_403_everywhere(app: Litestar, client: Client, people: dict[str, Any]) -> None:
    checked = 0
    for e in protected_endpoints(app):
        username = _wrong_user(e.access)
        if username is None:
            continue
        s = await login(client, username)
        resp = await _call(client, e.method, _fill(e.path, people["site"]), s.headers())
        assert resp.status_code == 403, f"{e.method} {e.path} as {username}: {resp.status_code} {resp.text}"
        assert resp.json()["code"] == "forbidden"
        checked += 1
    assert checked >= 20


async def test_inspectors_never_write(app: Litestar, client: Client, people: dict[str, Any]) -> None:
    s = await login(client, "a-inspector")
    writes = [e for e in protected_endpoints(app) if e.method not in ("GET", "HEAD") and not e.read_only]
    assert writes
    for e in writes:
        if any(rule["kind"] in ("signed_in", "session") for rule in e.access):
            continue  # signing out and changing one's own password are not record writes
        resp = await _call(client, e.method, _fill(e.path, people["site"]), s.headers())
        assert resp.status_code == 403, f"{e.method} {e.path}: {resp.status_code}"


async def test_members_of_one_site_cannot_see_another(client: Client, people: dict[str, Any]) -> None:
    s = await login(client, "b-admin")
    for url in (
        f"/api/sites/{people['site']}",
        f"/api/sites/{people['site']}/locations",
        f"/api/sites/{people['site']}/audit/events",
    ):
        assert (await s.get(url)).status_code == 403
    mine = (await s.get("/api/sites")).json()
    assert [site["name"] for site in mine] == ["Clinic B"]
