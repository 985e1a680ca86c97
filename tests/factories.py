"""Builders for test data, through the real services (so invariants and audit hold)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from server.clock import utcnow
from server.core import service
from server.core.auth import SYSTEM
from server.core.rules import LocationKind, Role
from server.core.schemas import LocationCreate, MemberAdd, SiteCreate, UserCreate

PASSWORD = "correct-horse-battery"

Client = httpx.AsyncClient


async def make_site(name: str = "Test Clinic", timezone: str = "America/Toronto") -> int:
    site = await service.create_site(
        SYSTEM, SiteCreate(name=name, province="ON", timezone=timezone), now=utcnow()
    )
    return site.id


async def make_user(
    username: str,
    *,
    site_id: int | None = None,
    role: Role | None = None,
    superuser: bool = False,
    password: str = PASSWORD,
) -> int:
    user = await service.create_user(
        SYSTEM,
        UserCreate(
            username=username, display_name=username.title(), password=password, is_superuser=superuser
        ),
        now=utcnow(),
    )
    if site_id is not None and role is not None:
        await service.add_member(SYSTEM, site_id, MemberAdd(username=username, role=role), now=utcnow())
    return user.id


async def make_location(
    site_id: int, name: str = "Exam Room 1", kind: LocationKind = LocationKind.ROOM
) -> int:
    loc = await service.create_location(SYSTEM, site_id, LocationCreate(name=name, kind=kind), now=utcnow())
    return loc.id


@dataclass
class Session:
    """A signed-in client: sends the CSRF header and a fresh Idempotency-Key on writes."""

    client: Client
    csrf: str

    def headers(self, key: str | None = None) -> dict[str, str]:
        return {"X-CSRF-Token": self.csrf, "Idempotency-Key": key or str(uuid.uuid4())}

    async def get(self, url: str, **kw: Any) -> Any:
        return await self.client.get(url, **kw)

    async def post(self, url: str, json: Any = None, *, key: str | None = None) -> Any:
        return await self.client.post(url, json=json, headers=self.headers(key))

    async def patch(self, url: str, json: Any = None, *, key: str | None = None) -> Any:
        return await self.client.patch(url, json=json, headers=self.headers(key))

    async def put(self, url: str, json: Any = None, *, key: str | None = None) -> Any:
        return await self.client.put(url, json=json, headers=self.headers(key))

    async def delete(self, url: str, *, key: str | None = None) -> Any:
        return await self.client.delete(url, headers=self.headers(key))


async def login(client: Client, username: str, password: str = PASSWORD) -> Session:
    client.cookies.clear()
    resp = await client.post("/api/auth/login", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.text
    return Session(client, resp.json()["csrf_token"])
