"""Accounts: password hashes, sessions, API tokens, login throttling. No Litestar imports."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server import sql
from server.core import audit
from server.core.rules import Role, normalize_username, password_problem, throttle_retry_after
from server.core.tables import ApiToken, AppUser, LoginFailure, Membership, Site, UserSession
from server.db import write_transaction
from server.errors import InvalidInput, NotAuthenticated, TooManyRequests

TOKEN_PREFIX = "ctk_"  # noqa: S105  (a public marker, not a secret)
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """Who is calling: a signed-in user or an API token scoped to one site and role."""

    user_id: int
    username: str
    display_name: str
    is_superuser: bool
    roles: Mapping[int, Role] = field(default_factory=dict)
    session_id: int | None = None
    csrf_token: str | None = None
    token_id: int | None = None

    @property
    def actor(self) -> str:
        if self.token_id is not None:
            return f"token:{self.token_id}"
        return f"user:{self.user_id}" if self.user_id else "system"

    def role_at(self, site_id: int) -> Role | None:
        if self.is_superuser and self.token_id is None:
            return Role.ADMIN
        return self.roles.get(site_id)


# The command line (seeding, createuser) acts as the system, recorded as such in the audit chain.
SYSTEM = Principal(user_id=0, username="system", display_name="System", is_superuser=True)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(stored: str | None, password: str) -> bool:
    try:
        # Unknown users still cost one verification, so timing does not reveal accounts.
        return bool(_hasher.verify(stored or _dummy_hash(), password)) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def secret_digest(secret_key: str, token: str) -> str:
    return hmac.new(secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


def checked_new_password(password: str, username: str) -> str:
    problem = password_problem(password, username=username)
    if problem:
        raise InvalidInput(problem, code="weak_password", fields=[{"field": "password", "message": problem}])
    return hash_password(password)


async def _roles(user_id: int) -> dict[int, Role]:
    rows = await Membership.select(Membership.site, Membership.role).where(
        (Membership.user == user_id) & (Membership.site.active == True)  # noqa: E712
    )
    return {int(r["site"]): Role(r["role"]) for r in rows}


async def _principal(user: Mapping[str, object], **extra: object) -> Principal:
    user_id = int(str(user["id"]))
    return Principal(
        user_id=user_id,
        username=str(user["username"]),
        display_name=str(user["display_name"]),
        is_superuser=bool(user["is_superuser"]),
        roles=await _roles(user_id),
        **extra,  # type: ignore[arg-type]
    )


# --- login ---------------------------------------------------------------------


def _throttle_keys(username: str, ip: str) -> list[str]:
    return [f"user:{username}", f"ip:{ip}"]


async def _check_throttle(keys: list[str], now: datetime) -> None:
    since = now - timedelta(minutes=1)
    for key in keys:
        rows = await LoginFailure.select(LoginFailure.at).where(
            (LoginFailure.key == key) & (LoginFailure.at > since)
        )
        wait = throttle_retry_after([r["at"] for r in rows], now)
        if wait is not None:
            raise TooManyRequests(
                f"Too many failed sign-ins. Try again in {wait} seconds.",
                code="too_many_attempts",
                headers={"Retry-After": str(wait)},
            )


async def login(
    username: str, password: str, *, ip: str, secret_key: str, session_hours: int, now: datetime
) -> tuple[str, Principal]:
    username = normalize_username(username)
    keys = _throttle_keys(username, ip)
    await _check_throttle(keys, now)
    user = await AppUser.select().where(AppUser.username == username).first()
    ok = verify_password(user["password_hash"] if user else None, password)
    if not ok or user is None or not user["active"]:
        async with write_transaction():
            await LoginFailure.insert(*(LoginFailure(key=k, at=now) for k in keys))
        raise NotAuthenticated("The username or password is wrong.", code="bad_credentials")
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    async with write_transaction():
        if _hasher.check_needs_rehash(user["password_hash"]):
            await AppUser.update({AppUser.password_hash: hash_password(password)}).where(
                AppUser.id == user["id"]
            )
        rows = await UserSession.insert(
            UserSession(
                token_hash=secret_digest(secret_key, token),
                csrf_token=csrf,
                user=user["id"],
                created_at=now,
                expires_at=now + timedelta(hours=session_hours),
                ip=ip[:64],
            )
        ).returning(UserSession.id)
        await audit.append(
            actor=f"user:{user['id']}",
            site_id=None,
            action="auth.login",
            entity="user",
            entity_id=user["id"],
            payload={"ip": ip},
            now=now,
        )
    return token, await _principal(user, session_id=int(rows[0]["id"]), csrf_token=csrf)


async def logout(principal: Principal, *, now: datetime) -> None:
    if principal.session_id is None:
        return
    async with write_transaction():
        await UserSession.delete().where(UserSession.id == principal.session_id)
        await audit.append(
            actor=principal.actor,
            site_id=None,
            action="auth.logout",
            entity="user",
            entity_id=principal.user_id,
            payload={},
            now=now,
        )


async def change_password(principal: Principal, current: str, new: str, *, now: datetime) -> None:
    user = await AppUser.select().where(AppUser.id == principal.user_id).first()
    if user is None or not verify_password(user["password_hash"], current):
        raise InvalidInput(
            "The current password is wrong.",
            code="wrong_password",
            fields=[{"field": "current_password", "message": "is wrong"}],
        )
    new_hash = checked_new_password(new, principal.username)
    async with write_transaction():
        await AppUser.update({AppUser.password_hash: new_hash, AppUser.password_changed_at: now}).where(
            AppUser.id == principal.user_id
        )
        # Other devices signed in with the old password are signed out.
        await UserSession.delete().where(
            (UserSession.user == principal.user_id) & (UserSession.id != (principal.session_id or 0))
        )
        await audit.append(
            actor=principal.actor,
            site_id=None,
            action="user.password_change",
            entity="user",
            entity_id=principal.user_id,
            payload={},
            now=now,
        )


# --- resolving credentials --------------------------------------------------------


# One statement per request: the credential, its person (or token) and the roles at live sites.
_SESSION_SQL = """
SELECT s.id, s.csrf_token, s.expires_at, u.id AS user_id, u.username, u.display_name,
       u.is_superuser, u.active, m.site AS member_site, m.role AS member_role
FROM user_session s
JOIN app_user u ON u.id = s."user"
LEFT JOIN membership m ON m."user" = u.id AND m.site IN (SELECT id FROM site WHERE active = {})
WHERE s.token_hash = {}
"""

_BEARER_SQL = """
SELECT t.id, t.site, t.role, t.expires_at, t.revoked_at, t.name,
       s.active AS site_active, u.active AS creator_active
FROM api_token t
JOIN site s ON s.id = t.site
JOIN app_user u ON u.id = t.created_by
WHERE t.token_hash = {}
"""


async def resolve_session(token: str, *, secret_key: str, now: datetime) -> Principal | None:
    rows = await sql.fetch(_SESSION_SQL, True, secret_digest(secret_key, token))
    if not rows:
        return None
    row = rows[0]
    if row["expires_at"] <= now or not row["active"]:
        return None
    return Principal(
        user_id=int(row["user_id"]),
        username=str(row["username"]),
        display_name=str(row["display_name"]),
        is_superuser=bool(row["is_superuser"]),
        roles={int(r["member_site"]): Role(r["member_role"]) for r in rows if r["member_site"] is not None},
        session_id=int(row["id"]),
        csrf_token=str(row["csrf_token"]),
    )


async def resolve_token(token: str, *, secret_key: str, now: datetime) -> Principal | None:
    row = await sql.fetchrow(_BEARER_SQL, secret_digest(secret_key, token))
    if row is None or row["revoked_at"] is not None or not row["site_active"] or not row["creator_active"]:
        return None
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return None
    return Principal(
        user_id=0,
        username=f"token:{row['name']}",
        display_name=str(row["name"]),
        is_superuser=False,
        roles={int(row["site"]): Role(row["role"])},
        token_id=int(row["id"]),
    )


async def purge_expired(now: datetime) -> int:
    """Housekeeping: expired sessions and old login failures."""
    async with write_transaction():
        gone = await UserSession.delete().where(UserSession.expires_at <= now).returning(UserSession.id)
        await LoginFailure.delete().where(LoginFailure.at < now - timedelta(hours=1))
    return len(gone)


async def site_exists(site_id: int) -> bool:
    return bool(await Site.exists().where(Site.id == site_id))


# --- who did it, in words ------------------------------------------------------------------------


async def actor_names(actors: Iterable[str]) -> dict[str, str]:
    """Display names for stored actors ("user:7", "token:3", "system"), two queries at most: the
    journal and the audit pages show people, not ids. An unknown actor keeps its stored form."""
    wanted = set(actors)
    names = {a: a for a in wanted}
    if "system" in wanted:
        names["system"] = "System"
    users = {int(a[5:]) for a in wanted if a.startswith("user:") and a[5:].isdigit()}
    tokens = {int(a[6:]) for a in wanted if a.startswith("token:") and a[6:].isdigit()}
    if users:
        rows = await AppUser.select(AppUser.id, AppUser.display_name).where(AppUser.id.is_in(list(users)))
        names.update({f"user:{r['id']}": str(r["display_name"]) for r in rows})
    if tokens:
        rows = await ApiToken.select(ApiToken.id, ApiToken.name).where(ApiToken.id.is_in(list(tokens)))
        names.update({f"token:{r['id']}": f"{r['name']} (API token)" for r in rows})
    return names
