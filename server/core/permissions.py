"""Who may call what: authentication middleware, CSRF, and the guards every route declares.

Deny by default: `create_app` refuses to start when a route has neither
``opt={"public": True}`` nor one of the guards below.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from server.clock import utcnow
from server.config import Settings
from server.core.auth import TOKEN_PREFIX, Principal, resolve_session, resolve_token
from server.core.rules import READ_ROLES, WRITE_ROLES, Role
from server.errors import Forbidden

SESSION_COOKIE = "clinitrack_session"
CSRF_HEADER = "X-CSRF-Token"
PUBLIC_OPT = "public"
# A POST that changes nothing (resolving a scan): readers such as inspectors may call it.
READ_ONLY_OPT = "read_only"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]


class AuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        settings: Settings = connection.app.state.settings
        now = utcnow()
        header = connection.headers.get("authorization", "")
        if header:
            scheme, _, value = header.partition(" ")
            value = value.strip()
            if scheme.lower() != "bearer" or not value.startswith(TOKEN_PREFIX):
                raise NotAuthorizedException("Use 'Authorization: Bearer ctk_...' with an API token.")
            principal = await resolve_token(value, secret_key=settings.secret_key, now=now)
            if principal is None:
                raise NotAuthorizedException("This API token is not valid, expired or revoked.")
            return AuthenticationResult(user=principal, auth="token")
        cookie = connection.cookies.get(SESSION_COOKIE)
        if not cookie:
            raise NotAuthorizedException("Please sign in.")
        principal = await resolve_session(cookie, secret_key=settings.secret_key, now=now)
        if principal is None:
            raise NotAuthorizedException("Your session has ended. Please sign in again.")
        if connection.scope.get("method", "GET") not in SAFE_METHODS:
            sent = connection.headers.get(CSRF_HEADER.lower(), "")
            if not principal.csrf_token or not hmac.compare_digest(sent, principal.csrf_token):
                raise Forbidden(
                    "The security token is missing or old. Reload the page and try again.",
                    code="csrf_failed",
                )
        return AuthenticationResult(user=principal, auth="session")


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthorizedException("Please sign in.")
    return user


def _site_id(connection: ASGIConnection[Any, Any, Any, Any]) -> int:
    value = connection.path_params.get("site_id")
    if not isinstance(value, int):
        raise PermissionDeniedException("This route names no site.")
    return value


# Guards are coroutines: Litestar runs a plain function guard in a worker thread, which cost
# more than the check itself.
def site_roles(*roles: Role) -> Guard:
    """Allow the given roles at the site named by the ``{site_id}`` path parameter."""
    allowed = frozenset(roles)

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        role = principal.role_at(_site_id(connection))
        if role is None or role not in allowed:
            raise PermissionDeniedException("Your role at this site does not allow this.")

    guard.access = {"kind": "site", "roles": allowed}  # type: ignore[attr-defined]
    return guard


async def superuser(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal = principal_of(connection)
    if not principal.is_superuser or principal.token_id is not None:
        raise PermissionDeniedException("Only a system administrator can do this.")


async def signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal_of(connection)


async def session_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if principal_of(connection).session_id is None:
        raise PermissionDeniedException("Sign in as a person to do this; API tokens cannot.")


superuser.access = {"kind": "superuser"}  # type: ignore[attr-defined]
signed_in.access = {"kind": "signed_in"}  # type: ignore[attr-defined]
session_only.access = {"kind": "session"}  # type: ignore[attr-defined]

read_site = site_roles(*READ_ROLES)
write_site = site_roles(*WRITE_ROLES)
manage_site = site_roles(Role.MANAGER, Role.ADMIN)
admin_site = site_roles(Role.ADMIN)


def route_access(handler: BaseRouteHandler) -> list[dict[str, Any]]:
    """The access rules a handler declares (used at start-up and by the route-table test)."""
    guards = [g for layer in handler.ownership_layers for g in (layer.guards or [])]
    return [g.access for g in guards if hasattr(g, "access")]


def is_public(handler: BaseRouteHandler) -> bool:
    # Litestar's generated OPTIONS handlers answer preflights and carry no data.
    methods: set[str] = getattr(handler, "http_methods", set())
    return bool(handler.opt.get(PUBLIC_OPT)) or methods == {"OPTIONS"}
