"""Reading the inbox, acknowledging and snoozing alerts (audited, exactly-once through the routes)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from server.alerts.schemas import AcknowledgeIn, AlertCounts, AlertRead, Severity, SnoozeIn
from server.alerts.tables import Alert, AlertSighting
from server.core import audit
from server.core.auth import Principal, actor_names
from server.db import write_transaction
from server.errors import NotFound, RuleViolation

SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


async def sightings(site_id: int) -> dict[str, datetime]:
    """When each rule last read the site (server/alerts/sweep.py)."""
    rows = await AlertSighting.select(AlertSighting.rule, AlertSighting.at).where(
        AlertSighting.site == site_id
    )
    return {r["rule"]: r["at"] for r in rows}


def last_seen(row: dict[str, Any], sighted: dict[str, datetime]) -> datetime:
    """An open alert was seen whenever its rule last read the site; the sweep writes the row itself
    only when the alert changes. A resolved alert keeps the sighting it was resolved with."""
    seen: datetime = row["last_seen"]
    if row["resolved_at"] is None and row["rule"] in sighted:
        return max(seen, sighted[row["rule"]])
    return seen


def _read(row: dict[str, Any], sighted: dict[str, datetime]) -> AlertRead:
    return AlertRead(
        id=row["id"],
        rule=row["rule"],
        subject=row["subject"],
        severity=Severity(row["severity"]),
        title=row["title"],
        subject_name=row["subject_name"],
        quantity=row["quantity"],
        due=row["due"],
        first_seen=row["first_seen"],
        last_seen=last_seen(row, sighted),
        resolved_at=row["resolved_at"],
        acknowledged_at=row["acknowledged_at"],
        acknowledged_by=row["acknowledged_by"],
        ack_comment=row["ack_comment"],
        snoozed_until=row["snoozed_until"],
    )


def _showing(now: datetime) -> Any:
    """Open and not snoozed right now."""
    return Alert.resolved_at.is_null() & (Alert.snoozed_until.is_null() | (Alert.snoozed_until <= now))


async def inbox(
    site_id: int, *, now: datetime, include_snoozed: bool = False, resolved: bool = False, limit: int = 200
) -> list[AlertRead]:
    """Open alerts, critical first then newest; or the recently resolved ones."""
    query = Alert.select().where(Alert.site == site_id)
    if resolved:
        query = query.where(Alert.resolved_at.is_not_null()).order_by(Alert.resolved_at, ascending=False)
        return [_read(r, {}) for r in await query.limit(limit)]
    query = query.where(Alert.resolved_at.is_null() if include_snoozed else _showing(now))
    sighted = await sightings(site_id)
    rows = [_read(r, sighted) for r in await query.order_by(Alert.first_seen, ascending=False).limit(limit)]
    names = await actor_names(a.acknowledged_by for a in rows if a.acknowledged_by)
    rows = [msgspec.structs.replace(a, acknowledged_by_name=names.get(a.acknowledged_by, "")) for a in rows]
    return sorted(rows, key=lambda a: SEVERITY_ORDER[a.severity])  # stable: newest first within


async def counts(site_id: int, *, now: datetime) -> AlertCounts:
    rows = await Alert.select(Alert.severity, Alert.acknowledged_at).where(
        (Alert.site == site_id) & _showing(now)
    )
    return AlertCounts(
        open=len(rows),
        critical=sum(1 for r in rows if r["severity"] == Severity.CRITICAL),
        unacknowledged=sum(1 for r in rows if r["acknowledged_at"] is None),
    )


async def _open_alert(site_id: int, alert_id: int) -> dict[str, Any]:
    row = await Alert.select().where((Alert.id == alert_id) & (Alert.site == site_id)).first()
    if row is None:
        raise NotFound("This alert does not exist at this site.", code="alert_not_found")
    if row["resolved_at"] is not None:
        raise RuleViolation("This alert has already cleared; nothing to do.", code="alert_resolved")
    return dict(row)


async def acknowledge(
    principal: Principal, site_id: int, alert_id: int, data: AcknowledgeIn, *, now: datetime
) -> AlertRead:
    async with write_transaction():
        row = await _open_alert(site_id, alert_id)
        comment = data.comment.strip()
        changes: dict[Any, Any] = {
            Alert.acknowledged_at: now,
            Alert.acknowledged_by: principal.actor,
            Alert.ack_comment: comment,
        }
        await Alert.update(changes).where(Alert.id == alert_id)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="alert.acknowledge",
            entity="alert",
            entity_id=alert_id,
            payload={"rule": row["rule"], "subject": row["subject"], "comment": comment},
            now=now,
        )
        row.update(acknowledged_at=now, acknowledged_by=principal.actor, ack_comment=comment)
        return _read(row, await sightings(site_id))


async def snooze(
    principal: Principal, site_id: int, alert_id: int, data: SnoozeIn, *, now: datetime
) -> AlertRead:
    async with write_transaction():
        row = await _open_alert(site_id, alert_id)
        until = now + timedelta(hours=data.hours)
        await Alert.update({Alert.snoozed_until: until}).where(Alert.id == alert_id)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="alert.snooze",
            entity="alert",
            entity_id=alert_id,
            payload={"rule": row["rule"], "subject": row["subject"], "until": until.isoformat()},
            now=now,
        )
        row["snoozed_until"] = until
        return _read(row, await sightings(site_id))
