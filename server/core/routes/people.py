from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import JSONBody

from server.clock import utcnow
from server.config import Settings
from server.core import service
from server.core.permissions import admin_site, manage_site, superuser
from server.core.schemas import (
    MemberAdd,
    MemberRead,
    MemberSet,
    PasswordReset,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from server.http import Caller, IdempotencyKey, once
from server.schemas import PathId

# A replayed token creation never repeats the secret: it was shown once and is not stored.
TOKEN_SHOWN_ONCE = "(shown once; revoke this token and create a new one if it was lost)"  # noqa: S105


class UserController(Controller):
    path = "/api/users"
    tags = ["people"]
    guards = [superuser]

    @get("/", summary="All accounts", description="System administrators only.")
    async def list_users(self) -> list[UserRead]:
        return await service.list_users()

    @post("/", summary="Create an account", description="System administrators only.")
    async def create_user(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        data: JSONBody[UserCreate],
        idempotency_key: IdempotencyKey,
    ) -> UserRead:
        return await once(
            request,
            idempotency_key,
            principal,
            UserRead,
            lambda: service.create_user(principal, data, now=utcnow()),
        )

    @patch(
        "/{user_id:int}",
        summary="Change an account",
        description="Display name, or deactivate (signs the person out everywhere).",
    )
    async def update_user(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        user_id: PathId,
        data: JSONBody[UserUpdate],
        idempotency_key: IdempotencyKey,
    ) -> UserRead:
        return await once(
            request,
            idempotency_key,
            principal,
            UserRead,
            lambda: service.update_user(principal, user_id, data, now=utcnow()),
        )


class MemberController(Controller):
    path = "/api/sites/{site_id:int}/members"
    tags = ["people"]

    @get("/", guards=[manage_site], summary="People at a site", description="Managers and admins.")
    async def list_members(self, site_id: PathId) -> list[MemberRead]:
        return await service.list_members(site_id)

    @post(
        "/",
        guards=[admin_site],
        summary="Add a person to a site",
        description="An existing username, or a new account when display_name and password are given.",
    )
    async def add_member(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[MemberAdd],
        idempotency_key: IdempotencyKey,
    ) -> MemberRead:
        return await once(
            request,
            idempotency_key,
            principal,
            MemberRead,
            lambda: service.add_member(principal, site_id, data, now=utcnow()),
        )

    @put("/{user_id:int}", guards=[admin_site], summary="Set a person's role at a site")
    async def set_role(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        user_id: PathId,
        data: JSONBody[MemberSet],
        idempotency_key: IdempotencyKey,
    ) -> MemberRead:
        return await once(
            request,
            idempotency_key,
            principal,
            MemberRead,
            lambda: service.set_member_role(principal, site_id, user_id, data.role, now=utcnow()),
        )

    @delete(
        "/{user_id:int}",
        guards=[admin_site],
        summary="Remove a person from a site",
        status_code=200,
        description="Their past records stay; a site keeps at least one admin.",
    )
    async def remove_member(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        user_id: PathId,
        idempotency_key: IdempotencyKey,
    ) -> MemberRead:
        return await once(
            request,
            idempotency_key,
            principal,
            MemberRead,
            lambda: service.remove_member(principal, site_id, user_id, now=utcnow()),
        )

    @post(
        "/{user_id:int}/password",
        guards=[admin_site],
        summary="Reset a person's password",
        status_code=200,
        description="Signs them out everywhere.",
    )
    async def reset_password(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        user_id: PathId,
        data: JSONBody[PasswordReset],
        idempotency_key: IdempotencyKey,
    ) -> MemberRead:
        return await once(
            request,
            idempotency_key,
            principal,
            MemberRead,
            lambda: service.reset_password(principal, site_id, user_id, data.new_password, now=utcnow()),
        )


class TokenController(Controller):
    path = "/api/sites/{site_id:int}/tokens"
    tags = ["people"]
    guards = [admin_site]

    @get("/", summary="API tokens of a site")
    async def list_tokens(self, site_id: PathId) -> list[TokenRead]:
        return await service.list_tokens(site_id)

    @post(
        "/",
        summary="Create an API token",
        description="The token is shown once; only its hash is stored. It acts at this site with this role.",
    )
    async def create_token(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[TokenCreate],
        idempotency_key: IdempotencyKey,
    ) -> TokenCreated:
        settings: Settings = request.app.state.settings
        return await once(
            request,
            idempotency_key,
            principal,
            TokenCreated,
            lambda: service.create_token(
                principal, site_id, data, secret_key=settings.secret_key, now=utcnow()
            ),
            stored=lambda created: msgspec.structs.replace(created, token=TOKEN_SHOWN_ONCE),
        )

    @delete("/{token_id:int}", summary="Revoke an API token", status_code=200)
    async def revoke_token(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        token_id: PathId,
        idempotency_key: IdempotencyKey,
    ) -> TokenRead:
        return await once(
            request,
            idempotency_key,
            principal,
            TokenRead,
            lambda: service.revoke_token(principal, site_id, token_id, now=utcnow()),
        )
