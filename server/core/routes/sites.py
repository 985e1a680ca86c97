from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.params import JSONBody, Parameter

from server.clock import utcnow
from server.core import service
from server.core.permissions import admin_site, manage_site, read_site, signed_in, superuser
from server.core.schemas import LocationCreate, LocationRead, LocationUpdate, SiteCreate, SiteRead, SiteUpdate
from server.http import Caller, IdempotencyKey, once
from server.schemas import PathId


class SiteController(Controller):
    path = "/api/sites"
    tags = ["sites"]

    @get(
        "/",
        guards=[signed_in],
        summary="My sites",
        description="Sites where the caller holds a role (all sites for a system administrator).",
    )
    async def list_sites(self, principal: Caller) -> list[SiteRead]:
        return await service.list_sites(principal)

    @post("/", guards=[superuser], summary="Create a site", description="System administrators only.")
    async def create_site(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        data: JSONBody[SiteCreate],
        idempotency_key: IdempotencyKey,
    ) -> SiteRead:
        return await once(
            request,
            idempotency_key,
            principal,
            SiteRead,
            lambda: service.create_site(principal, data, now=utcnow()),
        )

    @get("/{site_id:int}", guards=[read_site], summary="One site")
    async def get_site(self, site_id: PathId) -> SiteRead:
        return await service.get_site(site_id)

    @patch(
        "/{site_id:int}",
        guards=[admin_site],
        summary="Change a site",
        description="Name, province, time zone or active flag; site admins.",
    )
    async def update_site(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[SiteUpdate],
        idempotency_key: IdempotencyKey,
    ) -> SiteRead:
        return await once(
            request,
            idempotency_key,
            principal,
            SiteRead,
            lambda: service.update_site(principal, site_id, data, now=utcnow()),
        )


class LocationController(Controller):
    path = "/api/sites/{site_id:int}/locations"
    tags = ["locations"]

    @get(
        "/",
        guards=[read_site],
        summary="Locations of a site",
        description="Fridges, freezers, cabinets, rooms and supply rooms, with their label codes.",
    )
    async def list_locations(
        self,
        site_id: PathId,
        include_inactive: Annotated[bool, Parameter(description="Also list retired locations.")] = False,
    ) -> list[LocationRead]:
        return await service.list_locations(site_id, include_inactive=include_inactive)

    @post("/", guards=[manage_site], summary="Add a location", description="Managers and admins.")
    async def create_location(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[LocationCreate],
        idempotency_key: IdempotencyKey,
    ) -> LocationRead:
        return await once(
            request,
            idempotency_key,
            principal,
            LocationRead,
            lambda: service.create_location(principal, site_id, data, now=utcnow()),
        )

    @get("/{location_id:int}", guards=[read_site], summary="One location")
    async def get_location(self, site_id: PathId, location_id: PathId) -> LocationRead:
        return await service.get_location(site_id, location_id)

    @patch(
        "/{location_id:int}",
        guards=[manage_site],
        summary="Change a location",
        description="Rename, change its kind, or retire it (active=false); history is kept.",
    )
    async def update_location(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        location_id: PathId,
        data: JSONBody[LocationUpdate],
        idempotency_key: IdempotencyKey,
    ) -> LocationRead:
        return await once(
            request,
            idempotency_key,
            principal,
            LocationRead,
            lambda: service.update_location(principal, site_id, location_id, data, now=utcnow()),
        )
