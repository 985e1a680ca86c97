"""The alerts inbox: what needs attention at a site, acknowledge, snooze."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, Parameter

from server.alerts import service
from server.alerts.schemas import AcknowledgeIn, AlertCounts, AlertRead, SnoozeIn
from server.clock import utcnow
from server.core.permissions import manage_site, read_site, write_site
from server.http import Caller, IdempotencyKey, once
from server.schemas import PathId


class AlertController(Controller):
    path = "/api/sites/{site_id:int}/alerts"
    tags = ["alerts"]

    @get(
        "/",
        guards=[read_site],
        summary="The inbox",
        description="Open alerts, critical first, then newest; snoozed ones are left out unless asked for. "
        "resolved=true lists the ones that cleared, newest first.",
    )
    async def inbox(
        self,
        site_id: PathId,
        include_snoozed: Annotated[bool, Parameter(description="Also the snoozed ones.")] = False,
        resolved: Annotated[bool, Parameter(description="The cleared ones instead.")] = False,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 200,
    ) -> list[AlertRead]:
        return await service.inbox(
            site_id, now=utcnow(), include_snoozed=include_snoozed, resolved=resolved, limit=limit
        )

    @get("/counts", guards=[read_site], summary="For the badge: open, critical, not yet acknowledged")
    async def counts(self, site_id: PathId) -> AlertCounts:
        return await service.counts(site_id, now=utcnow())

    @post("/{alert_id:int}/acknowledge", guards=[write_site], summary="Acknowledge, with a comment")
    async def acknowledge(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        alert_id: PathId,
        data: JSONBody[AcknowledgeIn],
        idempotency_key: IdempotencyKey,
    ) -> AlertRead:
        return await once(
            request,
            idempotency_key,
            principal,
            AlertRead,
            lambda: service.acknowledge(principal, site_id, alert_id, data, now=utcnow()),
        )

    @post("/{alert_id:int}/snooze", guards=[manage_site], summary="Hide it for some hours (managers)")
    async def snooze(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        alert_id: PathId,
        data: JSONBody[SnoozeIn],
        idempotency_key: IdempotencyKey,
    ) -> AlertRead:
        return await once(
            request,
            idempotency_key,
            principal,
            AlertRead,
            lambda: service.snooze(principal, site_id, alert_id, data, now=utcnow()),
        )


ROUTES = [AlertController]
