"""ASVS v5.3.4 (SQL injection through filters, search and sort parameters) and v4.2.1 / v4.1.3 (one site
reading another's records by id, IDOR). Both walk the application's OpenAPI document, so routes added
later are covered."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar import Litestar

from server.clock import utcnow
from server.core.rules import Role
from server.core.tables import Site
from server.seed import seed
from tests.factories import Client, login, make_site, make_user

PAYLOADS = [
    "' OR '1'='1",
    "1; DROP TABLE site; --",
    "1' UNION SELECT password_hash FROM app_user --",
    '" OR ""="',
    "%' --",
    "\\",
    "nul\x00byte",
    "é' ; SELECT pg_sleep(5) --",
    "-1",
    "99999999999999999999999",
]


def _operations(app: Litestar, method: str) -> list[tuple[str, dict[str, Any]]]:
    schema = app.openapi_schema.to_schema()
    return [
        (path, ops[method])
        for path, ops in schema["paths"].items()
        if method in ops and path.startswith("/api/sites/{site_id}")
    ]


def _fill(path: str, site_id: int, other: int = 1) -> str:
    return re.sub(r"\{[a-z_]+\}", str(other), path.replace("{site_id}", str(site_id)))


def _required_query(op: dict[str, Any]) -> dict[str, str]:
    """Plausible values for required query parameters, so the id lookup is what answers."""
    values = {}
    for p in op.get("parameters", []):
        if p["in"] != "query" or not p.get("required"):
            continue
        schema = p.get("schema", {})
        fmt = schema.get("format")
        if fmt == "date":
            values[p["name"]] = "2026-01-15"
        elif fmt == "date-time":
            values[p["name"]] = "2026-01-15T00:00:00Z"
        elif schema.get("type") == "integer":
            values[p["name"]] = "1"
        elif "month" in p["name"]:
            values[p["name"]] = "2026-01"
        else:
            values[p["name"]] = (schema.get("enum") or ["x"])[0]
    return values


@pytest.fixture
async def demo() -> dict[str, int]:
    """The demo clinic (site with stock, places, cleaning plans: ids 1.. belong to it) and an empty
    second clinic whose admin tries to reach the first one's records."""
    (result,) = await seed("demo", now=utcnow())
    other = await make_site("Intruder Clinic")
    await make_user("intruder", site_id=other, role=Role.ADMIN)
    return {"site": result.site_id, "other": other}


async def test_malicious_query_values_are_refused_or_harmless(
    app: Litestar, client: Client, demo: dict[str, int]
) -> None:
    await login(client, "admin", "demo-admin-123")
    sites_before = await Site.count()
    checked = 0
    for path, op in _operations(app, "get"):
        names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
        for name in names:
            for payload in PAYLOADS:
                resp = await client.get(_fill(path, demo["site"]), params={name: payload})
                assert resp.status_code < 500, (
                    f"GET {path}?{name}={payload!r}: {resp.status_code} {resp.text}"
                )
                checked += 1
    assert checked >= 300
    assert await Site.count() == sites_before
    verify = await client.get(f"/api/sites/{demo['site']}/audit/status")
    assert verify.status_code == 200 and verify.json()["ok"] is True, verify.text


async def test_a_site_admin_cannot_read_another_sites_records_by_id(
    app: Litestar, client: Client, demo: dict[str, int]
) -> None:
    await login(client, "intruder")
    checked = []
    for path, op in _operations(app, "get"):
        if path.count("{") < 2:  # lists of the intruder's own site: covered by test_permissions
            continue
        # The intruder's own site in the path, the demo clinic's record ids after it.
        resp = await client.get(_fill(path, demo["other"]), params=_required_query(op))
        assert resp.status_code in (403, 404), f"GET {path}: {resp.status_code} {resp.text[:300]}"
        # And the other site in the path: refused before any lookup.
        resp = await client.get(_fill(path, demo["site"]))
        assert resp.status_code == 403, f"GET {path} (other site): {resp.status_code}"
        checked.append(path)
    assert len(checked) >= 25


async def test_a_site_admin_cannot_write_to_another_sites_records_by_id(
    client: Client, demo: dict[str, int]
) -> None:
    """Writes naming a record of the other clinic under the intruder's own site id find nothing."""
    s = await login(client, "intruder")
    own = demo["other"]
    attempts = [
        ("PATCH", f"/api/sites/{own}/locations/1", {"name": "Renamed"}),
        ("PATCH", f"/api/sites/{own}/items/1", {"name": "Renamed"}),
        ("POST", f"/api/sites/{own}/lots/1/status", {"status": "quarantined", "reason": "x"}),
        ("POST", f"/api/sites/{own}/movements/use", {"lot_id": 1, "location_id": 1, "quantity": 1}),
    ]
    for method, url, body in attempts:
        resp = await s.client.request(method, url, json=body, headers=s.headers())
        assert resp.status_code in (400, 403, 404, 422), f"{method} {url}: {resp.status_code} {resp.text}"
    await login(client, "admin", "demo-admin-123")
    locations = (await client.get(f"/api/sites/{demo['site']}/locations")).json()
    items = (await client.get(f"/api/sites/{demo['site']}/items")).json()
    assert "Renamed" not in {row["name"] for row in locations + items}


async def _secrets(site_id: int) -> set[str]:
    """Names only the demo clinic holds: any of them in the intruder's answers is a leak."""
    from server.core.tables import Location
    from server.stock.tables import Item, Lot

    names = {str(r["name"]) for r in await Site.select(Site.name).where(Site.id == site_id)}
    names |= {str(r["name"]) for r in await Location.select(Location.name).where(Location.site == site_id)}
    names |= {str(r["name"]) for r in await Item.select(Item.name).where(Item.site == site_id)}
    names |= {str(r["lot_number"]) for r in await Lot.select(Lot.lot_number).where(Lot.site == site_id)}
    return {n for n in names if len(n) >= 4}


async def test_filters_naming_another_sites_records_leak_nothing(
    app: Litestar, client: Client, demo: dict[str, int]
) -> None:
    secrets = await _secrets(demo["site"])
    assert len(secrets) >= 10
    await login(client, "intruder")
    checked = 0
    for path, op in _operations(app, "get"):
        params = _required_query(op)
        params.update(
            {
                p["name"]: "1"
                for p in op.get("parameters", [])
                if p["in"] == "query" and p["name"].endswith("_id")
            }
        )
        resp = await client.get(_fill(path, demo["other"]), params=params)
        assert resp.status_code < 500, f"GET {path}: {resp.status_code}"
        if resp.status_code == 200 and not resp.headers["content-type"].startswith("application/pdf"):
            leaked = sorted(s for s in secrets if s in resp.text)
            assert not leaked, f"GET {path} {params} shows the other clinic's {leaked}"
            checked += 1
    assert checked >= 20


async def test_the_catalog_search_matches_text_not_patterns(client: Client, demo: dict[str, int]) -> None:
    await login(client, "admin", "demo-admin-123")
    url = f"/api/sites/{demo['site']}/items"
    every = (await client.get(url)).json()
    name = every[0]["name"]
    found = (await client.get(url, params={"q": name[1:6].upper()})).json()
    assert name in [i["name"] for i in found]
    assert (await client.get(url, params={"q": "%"})).json() == every  # blank after taking % as a space
    assert (await client.get(url, params={"q": "%zz%qq"})).json() == []
    assert (await client.get(url, params={"q": "' OR '1'='1"})).json() == []
