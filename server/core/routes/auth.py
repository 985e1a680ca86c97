from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException
from litestar.params import JSONBody

from server.clock import utcnow
from server.config import Settings
from server.core import auth
from server.core.permissions import PUBLIC_OPT, SESSION_COOKIE, session_only, signed_in
from server.core.schemas import Done, LoginRequest, MembershipRead, MeRead, PasswordChange
from server.core.tables import Site
from server.http import Caller


async def me_read(principal: Caller) -> MeRead:
    sites = {
        int(r["id"]): r
        for r in await Site.select(Site.id, Site.name, Site.timezone).where(
            Site.id.is_in(list(principal.roles) or [0])
        )
    }
    memberships = [
        MembershipRead(
            site_id=site_id,
            site_name=str(sites[site_id]["name"]),
            timezone=str(sites[site_id]["timezone"]),
            role=role,
        )
        for site_id, role in sorted(principal.roles.items(), key=lambda kv: str(sites[kv[0]]["name"]))
        if site_id in sites
    ]
    return MeRead(
        user_id=principal.user_id,
        username=principal.username,
        display_name=principal.display_name,
        is_superuser=principal.is_superuser,
        memberships=memberships,
        csrf_token=principal.csrf_token,
        via_token=principal.token_id is not None,
    )


def _client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def _secure(request: Request[Any, Any, Any], settings: Settings) -> bool:
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return request.url.scheme == "https"


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    @post(
        "/login",
        opt={PUBLIC_OPT: True},
        summary="Sign in",
        status_code=200,
        description="Checks the username and password, sets the session cookie and returns the "
        "person with the CSRF token to send as X-CSRF-Token on writes. 5 failures a minute per "
        "account or address answer 429 with Retry-After.",
    )
    async def login(self, request: Request[Any, Any, Any], data: JSONBody[LoginRequest]) -> Response[MeRead]:
        if request.content_type[0] != "application/json":
            # A cross-site form can post text/plain with no preflight; read as JSON, it would sign
            # the victim's browser in to the attacker's account (login CSRF).
            raise HTTPException(status_code=415, detail="Send the sign-in as application/json.")
        settings: Settings = request.app.state.settings
        now = utcnow()
        token, principal = await auth.login(
            data.username,
            data.password,
            ip=_client_ip(request),
            secret_key=settings.secret_key,
            session_hours=settings.session_hours,
            now=now,
        )
        # Signing in over a live session (a shared tablet) ends it: its id never outlives the switch.
        previous = request.cookies.get(SESSION_COOKIE)
        if previous:
            old = await auth.resolve_session(previous, secret_key=settings.secret_key, now=now)
            if old is not None:
                await auth.logout(old, now=now)
        cookie = Cookie(
            key=SESSION_COOKIE,
            value=token,
            httponly=True,
            samesite="lax",
            path="/",
            secure=_secure(request, settings),
            max_age=settings.session_hours * 3600,
        )
        return Response(await me_read(principal), cookies=[cookie])

    @post(
        "/logout",
        guards=[signed_in],
        summary="Sign out",
        status_code=200,
        description="Ends this session and clears the cookie.",
    )
    async def logout(self, principal: Caller) -> Response[Done]:
        await auth.logout(principal, now=utcnow())
        return Response(
            Done(),
            cookies=[
                Cookie(key=SESSION_COOKIE, value="", path="/", max_age=0, httponly=True, samesite="lax")
            ],
        )

    @post(
        "/password",
        guards=[session_only],
        summary="Change my password",
        status_code=200,
        description="Needs the current password; other signed-in devices are signed out.",
    )
    async def change_password(self, principal: Caller, data: JSONBody[PasswordChange]) -> Done:
        await auth.change_password(principal, data.current_password, data.new_password, now=utcnow())
        return Done()


class MeController(Controller):
    path = "/api/me"
    tags = ["auth"]

    @get(
        "/",
        guards=[signed_in],
        summary="Who am I",
        description="The signed-in person (or API token), their sites and roles, and the CSRF token.",
    )
    async def me(self, principal: Caller) -> MeRead:
        return await me_read(principal)
