"""Problem details (RFC 9457) for bad input; no stack trace ever reaches a client."""

from __future__ import annotations

import httpx
from litestar import Litestar, get

from server.core.rules import Role
from server.errors import EXCEPTION_HANDLERS
from tests.factories import Client, login, make_site, make_user

PROBLEM = "application/problem+json"


async def _manager(client: Client) -> tuple[int, object]:
    site = await make_site()
    await make_user("mgr", site_id=site, role=Role.MANAGER)
    return site, await login(client, "mgr")


async def test_malformed_json(client: Client) -> None:
    site, s = await _manager(client)
    resp = await client.post(
        f"/api/sites/{site}/locations",
        content=b'{"name": "Room',
        headers={**s.headers(), "content-type": "application/json"},
    )  # type: ignore[attr-defined]
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["code"] == "malformed_json"
    assert {"type", "title", "status", "detail", "code"} <= set(body)


async def test_wrong_types_name_the_field(client: Client) -> None:
    site, s = await _manager(client)
    resp = await s.post(f"/api/sites/{site}/locations", {"name": 12, "kind": "room"})  # type: ignore[attr-defined]
    assert resp.status_code == 400
    body = resp.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["field"] == "name"


async def test_unknown_fields_are_refused(client: Client) -> None:
    site, s = await _manager(client)
    resp = await s.post(f"/api/sites/{site}/locations", {"name": "Room", "kind": "room", "colour": "red"})  # type: ignore[attr-defined]
    assert resp.status_code == 400
    assert resp.json()["errors"] == [{"field": "colour", "message": "is not a known field"}]


async def test_bad_enum_and_oversized_numbers_are_400_not_500(client: Client) -> None:
    site, s = await _manager(client)
    bad_kind = await s.post(f"/api/sites/{site}/locations", {"name": "Room", "kind": "garage"})  # type: ignore[attr-defined]
    assert bad_kind.status_code == 400
    huge = await s.get(f"/api/sites/{site}/locations/{10**30}")  # type: ignore[attr-defined]
    assert huge.status_code in (400, 404)
    assert huge.headers["content-type"].startswith(PROBLEM)
    token = await client.post(
        f"/api/sites/{site}/tokens",
        json={"name": "x", "role": "assistant", "expires_in_days": 10**20},
        headers=s.headers(),
    )  # type: ignore[attr-defined]
    assert token.status_code in (400, 403)


async def test_invalid_values_change_nothing(client: Client) -> None:
    from server.core.tables import AuditEvent, Site

    await make_user("root", superuser=True)
    s = await login(client, "root")
    before = await AuditEvent.count()
    resp = await s.post("/api/sites", {"name": "X", "province": "ZZ", "timezone": "Mars/Olympus"})
    assert resp.status_code == 400
    assert resp.json()["code"] == "invalid_input"
    assert resp.json()["errors"][0]["field"] == "province"
    assert await Site.count() == 0
    assert await AuditEvent.count() == before


async def test_unknown_api_routes_are_404_problems(client: Client) -> None:
    for url in ("/api/nothing-here", "/api/sites/1/nope"):
        resp = await client.get(url)
        assert resp.status_code == 404
        assert resp.headers["content-type"].startswith(PROBLEM)
        assert resp.json()["code"] == "not_found"


async def test_security_headers_on_every_answer(client: Client) -> None:
    for url in ("/healthz", "/api/me", "/api/nothing", "/"):
        resp = await client.get(url)
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["referrer-policy"] == "same-origin"


async def test_an_unexpected_error_answers_500_without_a_trace() -> None:
    @get("/boom", sync_to_thread=False)
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    app = Litestar([boom], exception_handlers=EXCEPTION_HANDLERS, debug=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        resp = await c.get("/boom")
    assert resp.status_code == 500
    assert resp.headers["content-type"].startswith(PROBLEM)
    assert resp.json()["code"] == "internal_error"
    assert "hunter2" not in resp.text and "Traceback" not in resp.text


async def test_openapi_describes_and_tags_every_route(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if method == "options":
                continue
            assert op.get("tags"), f"{method} {path} has no tag"
            assert op.get("summary"), f"{method} {path} has no summary"
    create = schema["paths"]["/api/sites/{site_id}/locations"]["post"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
