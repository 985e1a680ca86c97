"""Use cases for sites, locations, people and API tokens. Every write is audited in its transaction."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import msgspec
from piccolo.columns import Column

from server.core import audit
from server.core.auth import TOKEN_PREFIX, Principal, checked_new_password, secret_digest
from server.core.rules import (
    LocationKind,
    Role,
    can_grant,
    new_label_code,
    normalize_username,
    province_problem,
    timezone_problem,
    username_problem,
)
from server.core.schemas import (
    LocationCreate,
    LocationRead,
    LocationUpdate,
    MemberAdd,
    MemberRead,
    SiteCreate,
    SiteRead,
    SiteUpdate,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from server.core.tables import ApiToken, AppUser, Location, Membership, Site, UserSession
from server.db import write_transaction
from server.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", fields=[{"field": field, "message": message}])


async def site_zone(site_id: int) -> ZoneInfo:
    """The site's IANA time zone: schedules, local days and printed times are in it."""
    row = await Site.select(Site.timezone).where(Site.id == site_id).first()
    if row is None:
        raise NotFound("This site does not exist.", code="site_not_found")
    return ZoneInfo(row["timezone"])


def _check_site_fields(province: str | None, timezone: str | None) -> None:
    if province is not None and (problem := province_problem(province)):
        raise _invalid("province", problem)
    if timezone is not None and (problem := timezone_problem(timezone)):
        raise _invalid("timezone", problem)


def _changes(data: msgspec.Struct) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}


def _values(changes: dict[str, Any]) -> dict[Column | str, Any]:
    # Piccolo's update() wants Column | str keys; a dict is invariant in its key type.
    return cast("dict[Column | str, Any]", changes)


# --- sites --------------------------------------------------------------------------


def _site(row: dict[str, Any]) -> SiteRead:
    return SiteRead(
        id=row["id"],
        name=row["name"],
        province=row["province"],
        timezone=row["timezone"],
        active=row["active"],
    )


async def list_sites(principal: Principal) -> list[SiteRead]:
    query = Site.select().order_by(Site.name)
    if not (principal.is_superuser and principal.token_id is None):
        query = query.where(Site.id.is_in(list(principal.roles) or [0]))
    return [_site(r) for r in await query]


async def get_site(site_id: int) -> SiteRead:
    row = await Site.select().where(Site.id == site_id).first()
    if row is None:
        raise NotFound("This site does not exist.", code="site_not_found")
    return _site(row)


async def create_site(principal: Principal, data: SiteCreate, *, now: datetime) -> SiteRead:
    province = data.province.upper()
    _check_site_fields(province, data.timezone)
    async with write_transaction():
        rows = await Site.insert(
            Site(name=data.name.strip(), province=province, timezone=data.timezone, created_at=now)
        ).returning(*Site.all_columns())
        site = _site(rows[0])
        await audit.append(
            actor=principal.actor,
            site_id=site.id,
            action="site.create",
            entity="site",
            entity_id=site.id,
            payload=msgspec.structs.asdict(site),
            now=now,
        )
    return site


async def update_site(principal: Principal, site_id: int, data: SiteUpdate, *, now: datetime) -> SiteRead:
    changes = _changes(data)
    if "province" in changes:
        changes["province"] = changes["province"].upper()
    _check_site_fields(changes.get("province"), changes.get("timezone"))
    async with write_transaction():
        await get_site(site_id)
        if changes:
            await Site.update(_values(changes)).where(Site.id == site_id)
            await audit.append(
                actor=principal.actor,
                site_id=site_id,
                action="site.update",
                entity="site",
                entity_id=site_id,
                payload=changes,
                now=now,
            )
        return await get_site(site_id)


# --- locations ----------------------------------------------------------------------


def _location(row: dict[str, Any]) -> LocationRead:
    return LocationRead(
        id=row["id"],
        site_id=row["site"],
        name=row["name"],
        kind=LocationKind(row["kind"]),
        label_code=row["label_code"],
        active=row["active"],
    )


async def list_locations(site_id: int, *, include_inactive: bool = False) -> list[LocationRead]:
    query = Location.select().where(Location.site == site_id).order_by(Location.name)
    if not include_inactive:
        query = query.where(Location.active == True)  # noqa: E712
    return [_location(r) for r in await query]


async def get_location(site_id: int, location_id: int) -> LocationRead:
    row = await Location.select().where((Location.id == location_id) & (Location.site == site_id)).first()
    if row is None:
        raise NotFound("This location does not exist at this site.", code="location_not_found")
    return _location(row)


async def create_location(
    principal: Principal, site_id: int, data: LocationCreate, *, now: datetime
) -> LocationRead:
    async with write_transaction():
        await get_site(site_id)
        name = data.name.strip()
        if await Location.exists().where((Location.site == site_id) & (Location.name == name)):
            raise Conflict(f"A location named {name!r} already exists here.", code="location_exists")
        rows = await Location.insert(
            Location(
                site=site_id,
                name=name,
                kind=data.kind.value,
                label_code=new_label_code("location"),
                created_at=now,
            )
        ).returning(*Location.all_columns())
        location = _location(rows[0])
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="location.create",
            entity="location",
            entity_id=location.id,
            payload=msgspec.structs.asdict(location),
            now=now,
        )
    return location


async def update_location(
    principal: Principal, site_id: int, location_id: int, data: LocationUpdate, *, now: datetime
) -> LocationRead:
    changes = _changes(data)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    async with write_transaction():
        await get_location(site_id, location_id)
        if "name" in changes and await Location.exists().where(
            (Location.site == site_id) & (Location.name == changes["name"]) & (Location.id != location_id)
        ):
            raise Conflict(
                f"A location named {changes['name']!r} already exists here.", code="location_exists"
            )
        if changes:
            await Location.update(_values(changes)).where(Location.id == location_id)
            await audit.append(
                actor=principal.actor,
                site_id=site_id,
                action="location.update",
                entity="location",
                entity_id=location_id,
                payload=changes,
                now=now,
            )
        return await get_location(site_id, location_id)


# --- users --------------------------------------------------------------------------


def _user(row: dict[str, Any]) -> UserRead:
    return UserRead(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        is_superuser=row["is_superuser"],
        active=row["active"],
    )


async def list_users() -> list[UserRead]:
    return [_user(r) for r in await AppUser.select().order_by(AppUser.username)]


async def _insert_user(
    principal: Principal | None,
    username: str,
    display_name: str,
    password: str,
    *,
    is_superuser: bool,
    now: datetime,
) -> UserRead:
    username = normalize_username(username)
    if problem := username_problem(username):
        raise _invalid("username", problem)
    password_hash = checked_new_password(password, username)
    if await AppUser.exists().where(AppUser.username == username):
        raise Conflict(f"The username {username!r} is taken.", code="username_taken")
    rows = await AppUser.insert(
        AppUser(
            username=username,
            display_name=display_name.strip(),
            password_hash=password_hash,
            is_superuser=is_superuser,
            created_at=now,
            password_changed_at=now,
        )
    ).returning(*AppUser.all_columns())
    user = _user(rows[0])
    await audit.append(
        actor=principal.actor if principal else "system",
        site_id=None,
        action="user.create",
        entity="user",
        entity_id=user.id,
        payload={"username": user.username, "display_name": user.display_name, "is_superuser": is_superuser},
        now=now,
    )
    return user


async def create_user(principal: Principal | None, data: UserCreate, *, now: datetime) -> UserRead:
    async with write_transaction():
        return await _insert_user(
            principal,
            data.username,
            data.display_name,
            data.password,
            is_superuser=data.is_superuser,
            now=now,
        )


async def get_user(user_id: int) -> UserRead:
    row = await AppUser.select().where(AppUser.id == user_id).first()
    if row is None:
        raise NotFound("This person does not exist.", code="user_not_found")
    return _user(row)


async def update_user(principal: Principal, user_id: int, data: UserUpdate, *, now: datetime) -> UserRead:
    changes = _changes(data)
    if changes.get("active") is False and user_id == principal.user_id:
        raise RuleViolation("You cannot deactivate your own account.", code="cannot_deactivate_self")
    async with write_transaction():
        await get_user(user_id)
        if changes:
            await AppUser.update(_values(changes)).where(AppUser.id == user_id)
            if changes.get("active") is False:
                await UserSession.delete().where(UserSession.user == user_id)
            await audit.append(
                actor=principal.actor,
                site_id=None,
                action="user.update",
                entity="user",
                entity_id=user_id,
                payload=changes,
                now=now,
            )
        return await get_user(user_id)


# --- memberships --------------------------------------------------------------------


def _member(row: dict[str, Any]) -> MemberRead:
    return MemberRead(
        user_id=row["user"],
        username=row["user.username"],
        display_name=row["user.display_name"],
        site_id=row["site"],
        role=Role(row["role"]),
        active=row["user.active"],
    )


_MEMBER_COLUMNS = (
    Membership.user,
    Membership.site,
    Membership.role,
    Membership.user.username,
    Membership.user.display_name,
    Membership.user.active,
)


async def list_members(site_id: int) -> list[MemberRead]:
    rows = (
        await Membership.select(*_MEMBER_COLUMNS)
        .where(Membership.site == site_id)
        .order_by(Membership.user.username)
    )
    return [_member(r) for r in rows]


async def get_member(site_id: int, user_id: int) -> MemberRead:
    row = (
        await Membership.select(*_MEMBER_COLUMNS)
        .where((Membership.site == site_id) & (Membership.user == user_id))
        .first()
    )
    if row is None:
        raise NotFound("This person is not a member of this site.", code="member_not_found")
    return _member(row)


def _check_grant(principal: Principal, site_id: int, role: Role) -> None:
    mine = principal.role_at(site_id)
    if mine is None or not can_grant(mine, role):
        raise Forbidden(f"Your role cannot give the {role.value} role.", code="cannot_grant_role")


async def add_member(principal: Principal, site_id: int, data: MemberAdd, *, now: datetime) -> MemberRead:
    _check_grant(principal, site_id, data.role)
    username = normalize_username(data.username)
    async with write_transaction():
        await get_site(site_id)
        user = await AppUser.select(AppUser.id).where(AppUser.username == username).first()
        if user is None:
            if data.password is None:
                raise NotFound(
                    f"No account is named {username!r}. Give a display name and password to create it.",
                    code="user_not_found",
                )
            created = await _insert_user(
                principal,
                username,
                data.display_name or username,
                data.password,
                is_superuser=False,
                now=now,
            )
            user_id = created.id
        elif data.password is not None:
            raise Conflict(f"The username {username!r} is taken.", code="username_taken")
        else:
            user_id = int(user["id"])
        if await Membership.exists().where((Membership.site == site_id) & (Membership.user == user_id)):
            raise Conflict("This person is already a member of this site.", code="already_member")
        await Membership.insert(Membership(user=user_id, site=site_id, role=data.role.value, created_at=now))
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="membership.add",
            entity="membership",
            entity_id=f"{site_id}:{user_id}",
            payload={"user_id": user_id, "role": data.role.value},
            now=now,
        )
        return await get_member(site_id, user_id)


async def _keep_an_admin(site_id: int, user_id: int) -> None:
    admins = await Membership.select(Membership.user).where(
        (Membership.site == site_id) & (Membership.role == Role.ADMIN.value)
    )
    if [int(r["user"]) for r in admins] == [user_id]:
        raise RuleViolation("A site must keep at least one admin.", code="last_admin")


async def set_member_role(
    principal: Principal, site_id: int, user_id: int, role: Role, *, now: datetime
) -> MemberRead:
    _check_grant(principal, site_id, role)
    async with write_transaction():
        current = await get_member(site_id, user_id)
        if current.role == role:
            return current
        if current.role is Role.ADMIN:
            await _keep_an_admin(site_id, user_id)
        await Membership.update({Membership.role: role.value}).where(
            (Membership.site == site_id) & (Membership.user == user_id)
        )
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="membership.role",
            entity="membership",
            entity_id=f"{site_id}:{user_id}",
            payload={"from": current.role.value, "to": role.value},
            now=now,
        )
        return await get_member(site_id, user_id)


async def remove_member(principal: Principal, site_id: int, user_id: int, *, now: datetime) -> MemberRead:
    async with write_transaction():
        current = await get_member(site_id, user_id)
        if current.role is Role.ADMIN:
            await _keep_an_admin(site_id, user_id)
        await Membership.delete().where((Membership.site == site_id) & (Membership.user == user_id))
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="membership.remove",
            entity="membership",
            entity_id=f"{site_id}:{user_id}",
            payload={"role": current.role.value},
            now=now,
        )
        return current


async def reset_password(
    principal: Principal, site_id: int, user_id: int, new_password: str, *, now: datetime
) -> MemberRead:
    async with write_transaction():
        member = await get_member(site_id, user_id)
        row = await AppUser.select(AppUser.is_superuser).where(AppUser.id == user_id).first()
        if row and row["is_superuser"] and not principal.is_superuser:
            raise Forbidden("Only a system administrator can reset this account.", code="forbidden")
        password_hash = checked_new_password(new_password, member.username)
        await AppUser.update({AppUser.password_hash: password_hash, AppUser.password_changed_at: now}).where(
            AppUser.id == user_id
        )
        await UserSession.delete().where(UserSession.user == user_id)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="user.password_reset",
            entity="user",
            entity_id=user_id,
            payload={},
            now=now,
        )
        return member


# --- API tokens ---------------------------------------------------------------------


def _token(row: dict[str, Any]) -> TokenRead:
    return TokenRead(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        site_id=row["site"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


async def list_tokens(site_id: int) -> list[TokenRead]:
    rows = await ApiToken.select().where(ApiToken.site == site_id).order_by(ApiToken.id)
    return [_token(r) for r in rows]


async def create_token(
    principal: Principal, site_id: int, data: TokenCreate, *, secret_key: str, now: datetime
) -> TokenCreated:
    _check_grant(principal, site_id, data.role)
    if principal.token_id is not None:
        raise Forbidden("An API token cannot create other tokens.", code="token_cannot_create_tokens")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = now + timedelta(days=data.expires_in_days) if data.expires_in_days else None
    async with write_transaction():
        await get_site(site_id)
        rows = await ApiToken.insert(
            ApiToken(
                name=data.name.strip(),
                prefix=secret[:12],
                token_hash=secret_digest(secret_key, secret),
                site=site_id,
                role=data.role.value,
                created_by=principal.user_id,
                created_at=now,
                expires_at=expires,
            )
        ).returning(*ApiToken.all_columns())
        token = _token(rows[0])
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="token.create",
            entity="api_token",
            entity_id=token.id,
            payload={"name": token.name, "role": token.role.value, "prefix": token.prefix},
            now=now,
        )
    return TokenCreated(**msgspec.structs.asdict(token), token=secret)


async def revoke_token(principal: Principal, site_id: int, token_id: int, *, now: datetime) -> TokenRead:
    async with write_transaction():
        row = await ApiToken.select().where((ApiToken.id == token_id) & (ApiToken.site == site_id)).first()
        if row is None:
            raise NotFound("This token does not exist at this site.", code="token_not_found")
        if row["revoked_at"] is None:
            await ApiToken.update({ApiToken.revoked_at: now}).where(ApiToken.id == token_id)
            await audit.append(
                actor=principal.actor,
                site_id=site_id,
                action="token.revoke",
                entity="api_token",
                entity_id=token_id,
                payload={},
                now=now,
            )
            row["revoked_at"] = now
        return _token(row)
