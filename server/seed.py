"""Loads seed data files (``seeds/<name>/*.json``) through the services, so reruns change nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from server.core import service
from server.core.auth import SYSTEM
from server.core.rules import LocationKind, Role, normalize_username
from server.core.schemas import LocationCreate, MemberAdd, SiteCreate, UserCreate
from server.core.tables import AppUser, Location, Membership, Site

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    role: str


@dataclass(frozen=True)
class SeedResult:
    site_id: int
    site_name: str
    created: int
    logins: list[Login]


async def _site(spec: dict[str, Any], now: datetime) -> tuple[int, bool]:
    row = await Site.select(Site.id).where(Site.name == spec["name"]).first()
    if row:
        return int(row["id"]), False
    site = await service.create_site(SYSTEM, SiteCreate(**spec), now=now)
    return site.id, True


async def load_clinic(path: Path, *, now: datetime) -> SeedResult:
    data = json.loads(path.read_text(encoding="utf-8"))  # noqa: ASYNC240  (a small file, read once by the CLI)
    site_id, made_site = await _site(data["site"], now)
    created = int(made_site)
    for spec in data.get("locations", []):
        if not await Location.exists().where((Location.site == site_id) & (Location.name == spec["name"])):
            await service.create_location(
                SYSTEM, site_id, LocationCreate(name=spec["name"], kind=LocationKind(spec["kind"])), now=now
            )
            created += 1
    logins = []
    for spec in data.get("people", []):
        username = normalize_username(spec["username"])
        user = await AppUser.select(AppUser.id).where(AppUser.username == username).first()
        if user is None:
            made = await service.create_user(
                SYSTEM,
                UserCreate(
                    username=username,
                    display_name=spec["display_name"],
                    password=spec["password"],
                    is_superuser=bool(spec.get("superuser", False)),
                ),
                now=now,
            )
            user_id, created = made.id, created + 1
        else:
            user_id = int(user["id"])
        if not await Membership.exists().where((Membership.site == site_id) & (Membership.user == user_id)):
            await service.add_member(
                SYSTEM, site_id, MemberAdd(username=username, role=Role(spec["role"])), now=now
            )
            created += 1
        logins.append(Login(username, spec["password"], spec["role"]))
    return SeedResult(site_id, data["site"]["name"], created, logins)


async def seed(name: str, *, now: datetime) -> list[SeedResult]:
    folder = SEEDS_DIR / name
    if not folder.is_dir():
        known = ", ".join(sorted(p.name for p in SEEDS_DIR.iterdir() if p.is_dir()))
        raise FileNotFoundError(f"no seed set named {name!r} (known: {known})")
    return [await load_clinic(path, now=now) for path in sorted(folder.glob("*.json"))]
