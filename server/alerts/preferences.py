"""Who gets alert mail and how: a person's subscription, a site's quiet hours and escalation, webhooks."""

from __future__ import annotations

import secrets
from datetime import datetime, time
from typing import Any

from server.alerts.delivery import DEFAULTS
from server.alerts.delivery_rules import ROLE_CHANNELS, allowed
from server.alerts.rules import THRESHOLDS
from server.alerts.schemas import (
    AlertSettingsIn,
    AlertSettingsRead,
    Severity,
    SubscriptionIn,
    SubscriptionRead,
    WebhookIn,
    WebhookRead,
)
from server.alerts.tables import AlertSettings, Subscription, Webhook
from server.core import audit
from server.core.auth import Principal
from server.db import write_transaction
from server.errors import InvalidInput, NotFound


def _role(principal: Principal, site_id: int) -> Any:
    role = principal.role_at(site_id)
    if role is None:  # the guard already checked membership; a superuser without a role lands here
        raise InvalidInput("You have no role at this site, so no alert mail.", code="no_role_here")
    return role


async def subscription(principal: Principal, site_id: int) -> SubscriptionRead:
    role = _role(principal, site_id)
    row = (
        await Subscription.select()
        .where((Subscription.user == principal.user_id) & (Subscription.site == site_id))
        .first()
    )
    return SubscriptionRead(
        email=row["email"] if row else None,
        digest=bool(row["digest"]) if row else False,
        immediate=bool(row["immediate"]) if row else False,
        allowed=sorted(ROLE_CHANNELS.get(role, frozenset())),
    )


async def subscribe(
    principal: Principal, site_id: int, data: SubscriptionIn, *, now: datetime
) -> SubscriptionRead:
    role = _role(principal, site_id)
    refused = [c for c in ("digest", "immediate") if getattr(data, c) and not allowed(role, c)]
    if refused:
        raise InvalidInput(
            f"Your role here ({role.value}) cannot get {' or '.join(refused)} alert mail.",
            code="channel_not_allowed",
            fields=[{"field": c, "message": "is not allowed for your role"} for c in refused],
        )
    async with write_transaction():
        values: dict[str, Any] = {
            "email": data.email.strip(),
            "digest": data.digest,
            "immediate": data.immediate,
        }
        found = (
            await Subscription.select(Subscription.id)
            .where((Subscription.user == principal.user_id) & (Subscription.site == site_id))
            .first()
        )
        if found:
            await Subscription.update(
                {
                    Subscription.email: values["email"],
                    Subscription.digest: data.digest,
                    Subscription.immediate: data.immediate,
                }
            ).where(Subscription.id == found["id"])
        else:
            await Subscription.insert(Subscription(user=principal.user_id, site=site_id, **values))
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="alert.subscription",
            entity="user",
            entity_id=principal.user_id,
            payload=values,
            now=now,
        )
    return await subscription(principal, site_id)


def _clock(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


async def settings(site_id: int) -> AlertSettingsRead:
    row = await AlertSettings.select().where(AlertSettings.site == site_id).first()
    values = {**DEFAULTS, **(row or {})}
    return AlertSettingsRead(
        quiet_start=_clock(values["quiet_start"]),
        quiet_end=_clock(values["quiet_end"]),
        escalate_after_minutes=int(values["escalate_after_minutes"]),
        digest_hour=int(values["digest_hour"]),
        **{name: int(values[name]) for name in THRESHOLDS},
    )


async def save_settings(
    principal: Principal, site_id: int, data: AlertSettingsIn, *, now: datetime
) -> AlertSettingsRead:
    if (data.quiet_start is None) != (data.quiet_end is None):
        raise InvalidInput(
            "Give both ends of the quiet hours, or neither.",
            code="quiet_hours_incomplete",
            fields=[{"field": "quiet_end" if data.quiet_start else "quiet_start", "message": "is missing"}],
        )
    start = time.fromisoformat(data.quiet_start) if data.quiet_start else None
    end = time.fromisoformat(data.quiet_end) if data.quiet_end else None
    thresholds = {name: getattr(data, name) for name in THRESHOLDS if getattr(data, name) is not None}
    async with write_transaction():
        values: dict[Any, Any] = {
            AlertSettings.quiet_start: start,
            AlertSettings.quiet_end: end,
            AlertSettings.escalate_after_minutes: data.escalate_after_minutes,
            AlertSettings.digest_hour: data.digest_hour,
            **{getattr(AlertSettings, name): value for name, value in thresholds.items()},
        }
        found = await AlertSettings.select(AlertSettings.id).where(AlertSettings.site == site_id).first()
        if found:
            await AlertSettings.update(values).where(AlertSettings.id == found["id"])
        else:
            await AlertSettings.insert(
                AlertSettings(
                    site=site_id,
                    quiet_start=start,
                    quiet_end=end,
                    escalate_after_minutes=data.escalate_after_minutes,
                    digest_hour=data.digest_hour,
                    **{**THRESHOLDS, **thresholds},
                )
            )
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="alert.settings",
            entity="site",
            entity_id=site_id,
            payload={
                "quiet_start": data.quiet_start,
                "quiet_end": data.quiet_end,
                "escalate_after_minutes": data.escalate_after_minutes,
                "digest_hour": data.digest_hour,
                **thresholds,
            },
            now=now,
        )
    return await settings(site_id)


def _hook(row: dict[str, Any], secret: str | None = None) -> WebhookRead:
    return WebhookRead(
        id=row["id"],
        url=row["url"],
        min_severity=Severity(row["min_severity"]),
        active=bool(row["active"]),
        secret=secret,
    )


async def webhooks(site_id: int) -> list[WebhookRead]:
    rows = await Webhook.select().where(Webhook.site == site_id).order_by(Webhook.id)
    return [_hook(r) for r in rows]


async def add_webhook(principal: Principal, site_id: int, data: WebhookIn, *, now: datetime) -> WebhookRead:
    secret = "whsec_" + secrets.token_urlsafe(24)
    async with write_transaction():
        rows = await Webhook.insert(
            Webhook(
                site=site_id,
                url=data.url,
                secret=secret,
                min_severity=data.min_severity.value,
                active=True,
                created_at=now,
            )
        ).returning(*Webhook.all_columns())
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="alert.webhook_add",
            entity="webhook",
            entity_id=rows[0]["id"],
            payload={"url": data.url, "min_severity": data.min_severity.value},
            now=now,
        )
    return _hook(rows[0], secret)


async def remove_webhook(
    principal: Principal, site_id: int, webhook_id: int, *, now: datetime
) -> WebhookRead:
    async with write_transaction():
        row = await Webhook.select().where((Webhook.id == webhook_id) & (Webhook.site == site_id)).first()
        if row is None:
            raise NotFound("This webhook does not exist at this site.", code="webhook_not_found")
        await Webhook.update({Webhook.active: False}).where(Webhook.id == webhook_id)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="alert.webhook_off",
            entity="webhook",
            entity_id=webhook_id,
            payload={"url": row["url"]},
            now=now,
        )
    return _hook({**row, "active": False})
