"""The alerts inbox: what needs attention at a site, acknowledge, snooze."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody, Parameter

from server.alerts import preferences, service
from server.alerts.schemas import (
    AcknowledgeIn,
    AlertCounts,
    AlertRead,
    AlertSettingsIn,
    AlertSettingsRead,
    SnoozeIn,
    SubscriptionIn,
    SubscriptionRead,
    WebhookIn,
    WebhookRead,
)
from server.clock import utcnow
from server.core.permissions import manage_site, read_site, session_only, write_site
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


class AlertDeliveryController(Controller):
    path = "/api/sites/{site_id:int}/alert-delivery"
    tags = ["alerts"]

    @get("/subscription", guards=[read_site, session_only], summary="My alert mail at this site")
    async def my_subscription(self, principal: Caller, site_id: PathId) -> SubscriptionRead:
        return await preferences.subscription(principal, site_id)

    @post(
        "/subscription",
        guards=[read_site, session_only],
        summary="Choose my alert mail",
        description="An address, the daily digest and, for managers and admins, critical alerts at once. "
        "A channel the role does not allow is a 400 channel_not_allowed.",
    )
    async def subscribe(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[SubscriptionIn],
        idempotency_key: IdempotencyKey,
    ) -> SubscriptionRead:
        return await once(
            request,
            idempotency_key,
            principal,
            SubscriptionRead,
            lambda: preferences.subscribe(principal, site_id, data, now=utcnow()),
        )

    @get("/settings", guards=[read_site], summary="Quiet hours, escalation and the digest hour")
    async def settings(self, site_id: PathId) -> AlertSettingsRead:
        return await preferences.settings(site_id)

    @post("/settings", guards=[manage_site], summary="Set quiet hours, escalation and the digest hour")
    async def save_settings(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[AlertSettingsIn],
        idempotency_key: IdempotencyKey,
    ) -> AlertSettingsRead:
        return await once(
            request,
            idempotency_key,
            principal,
            AlertSettingsRead,
            lambda: preferences.save_settings(principal, site_id, data, now=utcnow()),
        )

    @get("/webhooks", guards=[manage_site], summary="Webhooks (their secrets are not shown again)")
    async def webhooks(self, site_id: PathId) -> list[WebhookRead]:
        return await preferences.webhooks(site_id)

    @post(
        "/webhooks",
        guards=[manage_site],
        summary="Add a webhook",
        description="Alerts at or above min_severity are POSTed as JSON with an X-Clinitrack-Signature "
        'header `t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>" with the secret>`. The secret is in '
        "this answer only.",
    )
    async def add_webhook(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[WebhookIn],
        idempotency_key: IdempotencyKey,
    ) -> WebhookRead:
        return await once(
            request,
            idempotency_key,
            principal,
            WebhookRead,
            lambda: preferences.add_webhook(principal, site_id, data, now=utcnow()),
            stored=lambda hook: msgspec.structs.replace(hook, secret=None),
        )

    @post("/webhooks/{webhook_id:int}/turn-off", guards=[manage_site], summary="Stop a webhook")
    async def remove_webhook(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        webhook_id: PathId,
        idempotency_key: IdempotencyKey,
    ) -> WebhookRead:
        return await once(
            request,
            idempotency_key,
            principal,
            WebhookRead,
            lambda: preferences.remove_webhook(principal, site_id, webhook_id, now=utcnow()),
        )


ROUTES = [AlertController, AlertDeliveryController]
