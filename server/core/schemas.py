"""Request and response shapes for core routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from server.core.rules import LocationKind, Role
from server.schemas import Id, Name, Password, Read, Request

Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Province = Annotated[str, msgspec.Meta(min_length=2, max_length=2)]
TimeZoneName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class LoginRequest(Request):
    username: Username
    password: Password


class PasswordChange(Request):
    current_password: Password
    new_password: Password


class PasswordReset(Request):
    new_password: Password


class MembershipRead(Read):
    site_id: int
    site_name: str
    timezone: str
    role: Role


class MeRead(Read):
    user_id: int
    username: str
    display_name: str
    is_superuser: bool
    memberships: list[MembershipRead]
    csrf_token: str | None = None
    via_token: bool = False


class SiteCreate(Request):
    name: Name
    province: Province
    timezone: TimeZoneName


class SiteUpdate(Request):
    name: Name | None = None
    province: Province | None = None
    timezone: TimeZoneName | None = None
    active: bool | None = None


class SiteRead(Read):
    id: int
    name: str
    province: str
    timezone: str
    active: bool


class LocationCreate(Request):
    name: Name
    kind: LocationKind


class LocationUpdate(Request):
    name: Name | None = None
    kind: LocationKind | None = None
    active: bool | None = None


class LocationRead(Read):
    id: int
    site_id: int
    name: str
    kind: LocationKind
    label_code: str
    active: bool


class UserCreate(Request):
    username: Username
    display_name: Name
    password: Password
    is_superuser: bool = False


class UserUpdate(Request):
    display_name: Name | None = None
    active: bool | None = None


class UserRead(Read):
    id: int
    username: str
    display_name: str
    is_superuser: bool
    active: bool


class MemberAdd(Request):
    """Add a person to a site: an existing username, or a new account when a password is given."""

    username: Username
    role: Role
    display_name: Name | None = None
    password: Password | None = None


class MemberSet(Request):
    role: Role


class MemberRead(Read):
    user_id: int
    username: str
    display_name: str
    site_id: int
    role: Role
    active: bool


class TokenCreate(Request):
    name: Name
    role: Role
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=3650)] | None = None


class TokenRead(Read):
    id: int
    name: str
    prefix: str
    site_id: int
    role: Role
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str


class AuditChainRead(Read):
    chain: str
    events: int
    ok: bool
    first_broken_seq: int | None
    reason: str | None


class AuditEventRead(Read):
    seq: int
    at: datetime
    actor: str
    actor_name: str
    action: str
    entity: str
    entity_id: str
    payload: dict[str, object]
    hash: str


class AuditEventPage(Read):
    items: list[AuditEventRead]
    next_after: int | None


class Done(Read):
    ok: bool = True


__all__ = ["Id"]
