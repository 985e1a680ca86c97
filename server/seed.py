"""Loads seed data files (``seeds/<name>/*.json``) through the services, so reruns change nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

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


async def load_stock(path: Path, site_id: int, *, now: datetime) -> int:
    """Catalog and lots; expiries are relative to today so the demo always shows every state."""
    from server.core.tables import Location as LocationTable
    from server.stock import catalog, ledger
    from server.stock.rules import LotStatus
    from server.stock.schemas import ItemCreate, ReceiveIn
    from server.stock.tables import Item, Lot

    data = json.loads(path.read_text(encoding="utf-8"))  # noqa: ASYNC240  (a small file, read once by the CLI)
    added = 0
    ids: dict[str, int] = {}
    for spec in data["items"]:
        row = await Item.select(Item.id).where((Item.site == site_id) & (Item.name == spec["name"])).first()
        if row is None:
            item = await catalog.create_item(SYSTEM, site_id, msgspec.convert(spec, ItemCreate), now=now)
            ids[spec["name"]], added = item.id, added + 1
        else:
            ids[spec["name"]] = int(row["id"])
    places = {
        str(r["name"]): int(r["id"])
        for r in await LocationTable.select(LocationTable.id, LocationTable.name).where(
            LocationTable.site == site_id
        )
    }
    for spec in data["lots"]:
        item_id = ids[spec["item"]]
        if await Lot.exists().where((Lot.item == item_id) & (Lot.lot_number == spec["lot_number"])):
            continue
        days = spec["expiry_in_days"]
        expiry = None if days is None else now.date() + timedelta(days=days)
        result = await ledger.receive(
            SYSTEM,
            site_id,
            ReceiveIn(
                item_id=item_id,
                lot_number=spec["lot_number"],
                expiry=expiry,
                quantity=spec["quantity"],
                location_id=places[spec["location"]],
            ),
            now=now,
        )
        if spec["status"] != "available":
            await ledger.set_lot_status(
                SYSTEM, site_id, result.lot.id, LotStatus(spec["status"]), "Demo data", now=now
            )
        added += 1
    return added


async def seed(name: str, *, now: datetime) -> list[SeedResult]:
    folder = SEEDS_DIR / name
    if not folder.is_dir():
        known = ", ".join(sorted(p.name for p in SEEDS_DIR.iterdir() if p.is_dir()))
        raise FileNotFoundError(f"no seed set named {name!r} (known: {known})")
    clinic = await load_clinic(folder / "clinic.json", now=now)
    created = clinic.created
    if (folder / "stock.json").exists():
        created += await load_stock(folder / "stock.json", clinic.site_id, now=now)
    if (folder / "cleaning.json").exists():
        from server.cleaning.seed import load_cleaning

        created += await load_cleaning(folder / "cleaning.json", clinic.site_id, now=now)
    if (folder / "reprocessing.json").exists():
        from server.reprocessing.seed import load_reprocessing

        created += await load_reprocessing(folder / "reprocessing.json", clinic.site_id, now=now)
    return [SeedResult(clinic.site_id, clinic.site_name, created, clinic.logins)]
