"""Cleaning logs: what is due (per room, "My tasks", the overdue sweep) and completing a checklist."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from piccolo.query.functions.aggregate import Max

from server.cleaning import rules
from server.cleaning.plans import get_plan, list_plans, room_row
from server.cleaning.rules import DueState, ItemResult, PlanKind, Schedule
from server.cleaning.schemas import (
    LogCreate,
    LogItemRead,
    LogRead,
    PlanRead,
    PlanStatus,
    RoomChecklist,
    TaskRead,
)
from server.cleaning.tables import CleaningLog, CleaningLogItem, CleaningPlanVersion, CleaningRequest
from server.core import audit
from server.core.auth import Principal
from server.core.service import site_zone
from server.core.tables import Site
from server.db import write_transaction
from server.errors import InvalidInput


def as_datetime(value: Any) -> datetime | None:
    # Aggregates come back as text on SQLite.
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def schedule_of(plan: PlanRead) -> Schedule:
    return Schedule(
        kind=plan.kind,
        due_time=rules.parse_due_time(plan.due_time),
        weekday=plan.weekday,
        due_within_minutes=plan.due_within_minutes,
    )


async def _latest(site_id: int) -> tuple[dict[int, datetime], dict[int, datetime]]:
    """The end of each plan's latest log and the time of its latest request (two queries)."""
    done = await (
        CleaningLog.select(CleaningLog.plan, Max(CleaningLog.ended_at, alias="at"))
        .where(CleaningLog.site == site_id)
        .group_by(CleaningLog.plan)
    )
    asked = await (
        CleaningRequest.select(CleaningRequest.plan, Max(CleaningRequest.requested_at, alias="at"))
        .where(CleaningRequest.site == site_id)
        .group_by(CleaningRequest.plan)
    )
    return (
        {int(r["plan"]): d for r in done if (d := as_datetime(r["at"]))},
        {int(r["plan"]): d for r in asked if (d := as_datetime(r["at"]))},
    )


async def statuses(site_id: int, *, now: datetime, room_id: int | None = None) -> list[PlanStatus]:
    tz = await site_zone(site_id)
    plans = await list_plans(site_id, room_id=room_id)
    done, asked = await _latest(site_id)
    found = []
    for plan in plans:
        due = rules.due_status(
            schedule_of(plan), tz, now, last_done=done.get(plan.id), last_request=asked.get(plan.id)
        )
        found.append(
            PlanStatus(
                plan=plan, state=due.state, due_at=due.due_at, since=due.since, last_done_at=done.get(plan.id)
            )
        )
    return found


async def room_checklist(site_id: int, room_id: int, *, now: datetime) -> RoomChecklist:
    """What a scan of the room's door label opens: its plans, the due ones first."""
    room = await room_row(site_id, room_id)
    order = {DueState.OVERDUE: 0, DueState.DUE: 1, DueState.AVAILABLE: 2, DueState.DONE: 3}
    found = await statuses(site_id, now=now, room_id=room_id)
    found.sort(key=lambda s: (order[s.state], s.plan.id))
    return RoomChecklist(room_id=room_id, room_name=room["name"], plans=found)


async def tasks(site_id: int, *, now: datetime) -> list[TaskRead]:
    """Due and overdue plans at the site ("My tasks"), overdue first, then by deadline."""
    found = [
        TaskRead(
            plan_id=s.plan.id,
            plan_name=s.plan.name,
            kind=s.plan.kind,
            room_id=s.plan.room_id,
            room_name=s.plan.room_name,
            state=s.state,
            due_at=s.due_at,
            since=s.since,
        )
        for s in await statuses(site_id, now=now)
        if s.state in (DueState.DUE, DueState.OVERDUE)
    ]
    found.sort(key=lambda t: (t.state is not DueState.OVERDUE, t.due_at or now, t.room_name, t.plan_id))
    return found


async def overdue_sweep(*, now: datetime) -> dict[int, list[TaskRead]]:
    """Overdue cleaning at every active site: what the Alerts feature raises. Safe to re-run."""
    sites = await Site.select(Site.id).where(Site.active.eq(True)).order_by(Site.id)
    found: dict[int, list[TaskRead]] = {}
    for site in sites:
        late = [t for t in await tasks(int(site["id"]), now=now) if t.state is DueState.OVERDUE]
        if late:
            found[int(site["id"])] = late
    return found


# --- completing a checklist ---------------------------------------------------------------------------


async def _version(plan_id: int, number: int) -> dict[str, Any]:
    row = await (
        CleaningPlanVersion.select()
        .where((CleaningPlanVersion.plan == plan_id) & (CleaningPlanVersion.version == number))
        .first()
    )
    if row is None:
        raise InvalidInput(
            "This checklist version does not exist. Scan the room again.",
            code="version_not_found",
            fields=[{"field": "version", "message": "Unknown version."}],
        )
    return row


async def complete(principal: Principal, site_id: int, data: LogCreate, *, now: datetime) -> LogRead:
    """Record one cleaning against the checklist version it was shown from (maybe offline, earlier)."""
    async with write_transaction():
        plan = await get_plan(site_id, data.plan_id)
        version = await _version(plan.id, data.version)
        items: list[str] = json.loads(version["items"])
        results = [ItemResult(i.position, i.done, i.skip_reason.strip()) for i in data.items]
        problems = rules.checklist_problems(items, results) + rules.time_problems(
            data.started_at, data.ended_at, now
        )
        if problems:
            raise InvalidInput(
                "The checklist is not complete: tick each item or say why it was skipped.",
                code="checklist_invalid",
                fields=problems,
            )
        done = sum(1 for r in results if r.done)
        product = version["product"] if data.product is None else data.product.strip()
        din = version["din"] if data.din is None else data.din
        rows = await CleaningLog.insert(
            CleaningLog(
                site=site_id,
                room=plan.room_id,
                plan=plan.id,
                plan_version=version["id"],
                kind=plan.kind.value,
                product=product,
                din=din,
                contact_seconds=version["contact_seconds"],
                started_at=data.started_at,
                ended_at=data.ended_at,
                actor=principal.actor,
                actor_name=principal.display_name,
                visit_code=data.visit_code,
                note=data.note,
                items_done=done,
                items_skipped=len(results) - done,
                recorded_at=now,
            )
        ).returning(CleaningLog.id)
        log_id = int(rows[0]["id"])
        answered = [(r, "" if r.done else r.skip_reason) for r in sorted(results, key=lambda r: r.position)]
        await CleaningLogItem.insert(
            *[
                CleaningLogItem(
                    site=site_id,
                    log=log_id,
                    position=r.position,
                    text=items[r.position],
                    done=r.done,
                    skip_reason=reason,
                )
                for r, reason in answered
            ]
        )
        log = LogRead(
            id=log_id,
            room_id=plan.room_id,
            room_name=plan.room_name,
            plan_id=plan.id,
            plan_name=plan.name,
            kind=PlanKind(plan.kind),
            version=data.version,
            product=product,
            din=din,
            contact_seconds=version["contact_seconds"],
            started_at=data.started_at,
            ended_at=data.ended_at,
            actor=principal.actor,
            actor_name=principal.display_name,
            visit_code=data.visit_code,
            note=data.note,
            items_done=done,
            items_skipped=len(results) - done,
            items=[
                LogItemRead(position=r.position, text=items[r.position], done=r.done, skip_reason=reason)
                for r, reason in answered
            ],
        )
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="cleaning.log",
            entity="cleaning_log",
            entity_id=log_id,
            payload={
                "plan_id": plan.id,
                "version": data.version,
                "room_id": plan.room_id,
                "started_at": data.started_at.isoformat(),
                "ended_at": data.ended_at.isoformat(),
                "product": product,
                "din": din,
                "items_done": done,
                "items_skipped": len(results) - done,
                "visit_code": data.visit_code,
            },
            now=now,
        )
    return log
