"""Delivering alerts: plan what to send (immediate, escalation, daily digest), then send what is due.

Planning writes `delivery` rows whose unique key makes every plan idempotent (the same alert never
mails the same person twice; one digest per person and local day). Sending takes the due rows,
holds non-critical ones during the site's quiet hours, and retries failures with backoff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server import sql
from server.alerts import channels
from server.alerts.channels import MailSettings, SendError
from server.alerts.delivery_rules import (
    DigestLine,
    allowed,
    digest_text,
    in_quiet_hours,
    next_attempt,
    quiet_until,
    severe_enough,
)
from server.alerts.rules import THRESHOLDS
from server.alerts.tables import Alert, AlertSettings, Delivery, Subscription, Webhook
from server.core.rules import Role
from server.core.service import site_zone
from server.core.tables import Membership, Site
from server.db import write_transaction

log = logging.getLogger("clinitrack.alerts")

DEFAULTS = {
    "quiet_start": None,
    "quiet_end": None,
    "escalate_after_minutes": 60,
    "digest_hour": 7,
    **THRESHOLDS,
}


@dataclass(frozen=True)
class Outcome:
    planned: int
    sent: int
    failed: int
    held: int


async def site_settings(site_id: int) -> dict[str, Any]:
    row = await AlertSettings.select().where(AlertSettings.site == site_id).first()
    return {**DEFAULTS, **(row or {})}


async def _enqueue(
    key: str,
    site: int,
    channel: str,
    target: str,
    subject: str,
    body: str,
    *,
    critical: bool,
    now: datetime,
    webhook: int | None = None,
) -> bool:
    rows = await sql.fetch(
        "INSERT INTO delivery (key, site, channel, critical, target, subject, body, webhook, status, "
        "attempts, next_attempt_at, last_error, created_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, 'pending', 0, {}, '', {}) "
        "ON CONFLICT (key) DO NOTHING RETURNING id",
        key,
        site,
        channel,
        critical,
        target,
        subject,
        body,
        webhook,
        now,
        now,
    )
    return bool(rows)


async def _recipients(
    site_id: int, channel: str, *, roles: frozenset[Role] | None = None
) -> list[dict[str, Any]]:
    """People at the site who asked for ``channel`` (or, for escalations, every subscribed manager
    and admin) and whose role allows it."""
    rows = await Subscription.select(
        Subscription.user, Subscription.email, Subscription.digest, Subscription.immediate
    ).where(Subscription.site == site_id)
    members = {
        int(m["user"]): Role(m["role"])
        for m in await Membership.select(Membership.user, Membership.role).where(Membership.site == site_id)
    }
    chosen = []
    for row in rows:
        role = members.get(int(row["user"]))
        if role is None or not row["email"]:
            continue
        if roles is not None:
            if role in roles:
                chosen.append({**row, "role": role})
        elif row[channel] and allowed(role, channel):
            chosen.append({**row, "role": role})
    return chosen


async def plan(now: datetime) -> int:
    planned = 0
    async with write_transaction():
        fresh = await Alert.select().where(Alert.resolved_at.is_null() & Alert.notified_at.is_null())
        for alert in fresh:
            planned += await _plan_new(alert, now)
        if fresh:
            await Alert.update({Alert.notified_at: now}).where(Alert.id.is_in([a["id"] for a in fresh]))
        planned += await _plan_escalations(now)
        planned += await _plan_digests(now)
    return planned


async def _plan_new(alert: dict[str, Any], now: datetime) -> int:
    planned = 0
    site = int(alert["site"])
    if alert["severity"] == "critical":
        for person in await _recipients(site, "immediate"):
            planned += await _enqueue(
                f"alert:{alert['id']}:user:{person['user']}",
                site,
                "email",
                person["email"],
                f"URGENT: {alert['title']}",
                f"{alert['title']}\n\nFirst seen {alert['first_seen']:%Y-%m-%d %H:%M} UTC. "
                "Open clinitrack to acknowledge it.",
                critical=True,
                now=now,
            )
    hooks = await Webhook.select().where((Webhook.site == site) & (Webhook.active == True))  # noqa: E712
    for hook in hooks:
        if severe_enough(alert["severity"], hook["min_severity"]):
            body = channels.webhook_body("alert.opened", _public(alert))
            planned += await _enqueue(
                f"alert:{alert['id']}:hook:{hook['id']}",
                site,
                "webhook",
                hook["url"],
                alert["title"],
                body,
                critical=alert["severity"] == "critical",
                now=now,
                webhook=int(hook["id"]),
            )
    return planned


def _public(alert: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "id",
        "site",
        "rule",
        "subject",
        "severity",
        "title",
        "subject_name",
        "quantity",
        "due",
        "first_seen",
    )
    return {k: alert[k] for k in keys}


async def _plan_escalations(now: datetime) -> int:
    planned = 0
    waiting = await Alert.select().where(
        Alert.resolved_at.is_null()
        & Alert.acknowledged_at.is_null()
        & Alert.escalated_at.is_null()
        & (Alert.severity == "critical")
    )
    for alert in waiting:
        settings = await site_settings(int(alert["site"]))
        if alert["first_seen"] > now - timedelta(minutes=int(settings["escalate_after_minutes"])):
            continue
        for person in await _recipients(
            int(alert["site"]), "immediate", roles=frozenset({Role.MANAGER, Role.ADMIN})
        ):
            planned += await _enqueue(
                f"escalate:{alert['id']}:user:{person['user']}",
                int(alert["site"]),
                "email",
                person["email"],
                f"Not yet acknowledged: {alert['title']}",
                f"{alert['title']}\n\nNobody has acknowledged this since "
                f"{alert['first_seen']:%Y-%m-%d %H:%M} UTC. Please check on it.",
                critical=True,
                now=now,
            )
        await Alert.update({Alert.escalated_at: now}).where(Alert.id == alert["id"])
    return planned


async def _plan_digests(now: datetime) -> int:
    planned = 0
    for site in await Site.select(Site.id, Site.name, Site.timezone).where(Site.active == True):  # noqa: E712
        settings = await site_settings(int(site["id"]))
        local = now.astimezone(ZoneInfo(site["timezone"]))
        if local.hour < int(settings["digest_hour"]):
            continue
        people = await _recipients(int(site["id"]), "digest")
        if not people:
            continue
        open_alerts = await Alert.select(Alert.rule, Alert.severity, Alert.title).where(
            (Alert.site == site["id"])
            & Alert.resolved_at.is_null()
            & (Alert.snoozed_until.is_null() | (Alert.snoozed_until <= now))
        )
        lines = [DigestLine(a["rule"], a["severity"], a["title"]) for a in open_alerts]
        for person in people:
            text = digest_text(site["name"], person["role"], lines)
            if text is None:  # nothing for this person today: no mail
                continue
            planned += await _enqueue(
                f"digest:{site['id']}:user:{person['user']}:{local.date().isoformat()}",
                int(site["id"]),
                "email",
                person["email"],
                text[0],
                text[1],
                critical=False,
                now=now,
            )
    return planned


async def send_due(now: datetime, mail: MailSettings | None) -> Outcome:
    sent = failed = held = 0
    due = await Delivery.select().where((Delivery.status == "pending") & (Delivery.next_attempt_at <= now))
    settings_of: dict[int, dict[str, Any]] = {}  # one lookup per site, not per delivery
    for item in due:
        site_id = int(item["site"])
        if site_id not in settings_of:
            settings_of[site_id] = await site_settings(site_id)
        settings = settings_of[site_id]
        if not item["critical"] and settings["quiet_start"] is not None and settings["quiet_end"] is not None:
            local = now.astimezone(await site_zone(site_id))
            if in_quiet_hours(local.time(), settings["quiet_start"], settings["quiet_end"]):
                later = quiet_until(local, settings["quiet_end"])
                await Delivery.update({Delivery.next_attempt_at: later}).where(Delivery.id == item["id"])
                held += 1
                continue
        try:
            await _send(item, mail)
        except SendError as exc:
            attempts = int(item["attempts"]) + 1
            retry = next_attempt(attempts, now)
            changes: dict[Any, Any] = {Delivery.attempts: attempts, Delivery.last_error: str(exc)[:1000]}
            if retry is None:
                changes[Delivery.status] = "failed"
                failed += 1
                log.error(
                    "alerts: giving up on delivery %s after %d attempts: %s", item["key"], attempts, exc
                )
            else:
                changes[Delivery.next_attempt_at] = retry
            await Delivery.update(changes).where(Delivery.id == item["id"])
            continue
        await Delivery.update(
            {Delivery.status: "sent", Delivery.sent_at: now, Delivery.attempts: int(item["attempts"]) + 1}
        ).where(Delivery.id == item["id"])
        sent += 1
    return Outcome(0, sent, failed, held)


async def _send(item: dict[str, Any], mail: MailSettings | None) -> None:
    if item["channel"] == "email":
        if mail is None:
            raise SendError("no mail server is set (CLINITRACK_SMTP_URL)")
        await channels.send_mail(mail, item["target"], item["subject"], item["body"])
        return
    hook = await Webhook.select(Webhook.secret, Webhook.active).where(Webhook.id == item["webhook"]).first()
    if hook is None or not hook["active"]:
        raise SendError("the webhook was removed or turned off")
    await channels.call_webhook(item["target"], hook["secret"], item["body"])


async def deliver(now: datetime, mail: MailSettings | None) -> Outcome:
    planned = await plan(now)
    outcome = await send_due(now, mail)
    return Outcome(planned, outcome.sent, outcome.failed, outcome.held)
