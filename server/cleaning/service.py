"""Cleaning logs: what is due (per room, "My tasks", the overdue sweep) and completing a checklist."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Max

from server import sql
from server.cleaning import rules
from server.cleaning.plans import get_plan, list_plans, room_row
from server.cleaning.rules import DueState, ItemResult, PlanKind, Schedule
from server.cleaning.schemas import (
    ItemIn,
    LogCorrection,
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
from server.db import is_sqlite, write_transaction
from server.errors import Conflict, Forbidden, InvalidInput, NotFound


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
        .where(counted(site_id))
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


# Every active plan at every active site with its latest log (a corrected log is replaced by its
# correction; a void correction stands for nothing) and request: the overdue sweep's input in one
# query, however many sites (design §6: sweeps are set-based, not a loop per site).
_SWEEP_INPUT = """
SELECT p.id, p.site, p.kind, p.name, p.due_time, p.weekday, p.due_within_minutes, p.room,
       r.name AS room_name, s.timezone,
       (SELECT l.ended_at FROM cleaning_log l WHERE l.plan = p.id
          AND l.void = {} AND NOT EXISTS (SELECT 1 FROM cleaning_log c WHERE c.corrects = l.id)
        ORDER BY l.ended_at DESC LIMIT 1) AS last_done,
       (SELECT q.requested_at FROM cleaning_request q WHERE q.plan = p.id
        ORDER BY q.requested_at DESC LIMIT 1) AS last_request
FROM cleaning_plan p
JOIN location r ON r.id = p.room
JOIN site s ON s.id = p.site
WHERE p.active = {} AND s.active = {}
ORDER BY p.site, p.id
"""


async def overdue_sweep(*, now: datetime) -> dict[int, list[TaskRead]]:
    """Overdue cleaning at every active site: what the Alerts feature raises. Safe to re-run.
    One query; each plan's state then comes from the pure schedule rules in its site's time zone
    (local midnights and DST are not something both engines can compute in SQL)."""
    zones: dict[str, ZoneInfo] = {}
    found: dict[int, list[TaskRead]] = {}
    for r in await sql.fetch(_SWEEP_INPUT, False, True, True):
        kind = PlanKind(r["kind"])
        schedule = Schedule(
            kind=kind,
            due_time=rules.parse_due_time(r["due_time"]),
            weekday=r["weekday"],
            due_within_minutes=r["due_within_minutes"],
        )
        tz = zones.setdefault(r["timezone"], ZoneInfo(r["timezone"]))
        last_done, last_request = as_datetime(r["last_done"]), as_datetime(r["last_request"])
        due = rules.due_status(schedule, tz, now, last_done=last_done, last_request=last_request)
        if due.state is not DueState.OVERDUE:
            continue
        found.setdefault(int(r["site"]), []).append(
            TaskRead(
                plan_id=int(r["id"]),
                plan_name=r["name"],
                kind=kind,
                room_id=int(r["room"]),
                room_name=r["room_name"],
                state=due.state,
                due_at=due.due_at,
                since=due.since,
            )
        )
    for late in found.values():
        late.sort(key=lambda t: (t.due_at or now, t.room_name, t.plan_id))
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


def counted(site_id: int) -> Any:
    """Logs that count: those no later log corrects (a correction replaces what it corrects), and
    not a void correction (it withdraws what it corrects and stands for nothing)."""
    corrected = CleaningLog.select(CleaningLog.corrects).where(
        (CleaningLog.site == site_id) & CleaningLog.corrects.is_not_null()
    )
    return (CleaningLog.site == site_id) & CleaningLog.id.not_in(corrected) & CleaningLog.void.eq(False)


def _checked(items: list[str], data: LogCreate, now: datetime) -> list[ItemResult]:
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
    return results


async def _insert(
    principal: Principal,
    site_id: int,
    plan: PlanRead,
    version: dict[str, Any],
    data: LogCreate,
    answers: tuple[list[ItemResult], str, str, str, str],
    *,
    corrects: int | None = None,
    reason: str = "",
    void: bool = False,
    now: datetime,
) -> LogRead:
    """Write one log, its items and its audit event (inside the caller's transaction)."""
    results, product, din, visit_code, note = answers
    items: list[str] = json.loads(version["items"])
    done = sum(1 for r in results if r.done)
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
            visit_code=visit_code,
            note=note,
            items_done=done,
            items_skipped=len(results) - done,
            recorded_at=now,
            corrects=corrects,
            reason=reason,
            void=void,
        )
    ).returning(CleaningLog.id)
    log_id = int(rows[0]["id"])
    answered = [(r, "" if r.done else r.skip_reason) for r in sorted(results, key=lambda r: r.position)]
    if answered:
        await CleaningLogItem.insert(
            *[
                CleaningLogItem(
                    site=site_id,
                    log=log_id,
                    position=r.position,
                    text=items[r.position],
                    done=r.done,
                    skip_reason=reason_,
                )
                for r, reason_ in answered
            ]
        )
    log = LogRead(
        id=log_id,
        room_id=plan.room_id,
        room_name=plan.room_name,
        plan_id=plan.id,
        plan_name=plan.name,
        kind=PlanKind(plan.kind),
        version=int(version["version"]),
        product=product,
        din=din,
        contact_seconds=version["contact_seconds"],
        started_at=data.started_at,
        ended_at=data.ended_at,
        actor=principal.actor,
        actor_name=principal.display_name,
        visit_code=visit_code,
        note=note,
        items_done=done,
        items_skipped=len(results) - done,
        items=[
            LogItemRead(position=r.position, text=items[r.position], done=r.done, skip_reason=reason_)
            for r, reason_ in answered
        ],
        corrects=corrects,
        reason=reason,
        void=void,
    )
    payload: dict[str, Any] = {
        "plan_id": plan.id,
        "version": log.version,
        "room_id": plan.room_id,
        "started_at": data.started_at.isoformat(),
        "ended_at": data.ended_at.isoformat(),
        "product": product,
        "din": din,
        "items_done": done,
        "items_skipped": len(results) - done,
        "visit_code": visit_code,
    }
    if corrects is not None:
        payload |= {"corrects": corrects, "reason": reason, "void": void}
    await audit.append(
        actor=principal.actor,
        site_id=site_id,
        action="cleaning.log" if corrects is None else "cleaning.correction",
        entity="cleaning_log",
        entity_id=log_id,
        payload=payload,
        now=now,
    )
    return log


async def complete(principal: Principal, site_id: int, data: LogCreate, *, now: datetime) -> LogRead:
    """Record one cleaning against the checklist version it was shown from (maybe offline, earlier)."""
    async with write_transaction():
        plan = await get_plan(site_id, data.plan_id)
        version = await _version(plan.id, data.version)
        results = _checked(json.loads(version["items"]), data, now)
        product = version["product"] if data.product is None else data.product.strip()
        din = version["din"] if data.din is None else data.din
        answers = (results, product, din, data.visit_code, data.note)
        return await _insert(principal, site_id, plan, version, data, answers, now=now)


async def correct(
    principal: Principal, site_id: int, log_id: int, data: LogCorrection, *, now: datetime
) -> LogRead:
    """A correction is a new log of the same plan and checklist version that names the log it
    corrects, with a reason; the original stays in the records, marked as corrected, and no longer
    counts (due state, compliance). Omitted times and answers are the original's. A ``void``
    correction withdraws the log (not done, wrong room or plan) and itself counts as nothing.
    Whoever logged it, or a manager, may correct it, once: a later fix corrects the correction."""
    if not data.reason.strip():
        raise InvalidInput(
            "Say why this record is corrected.",
            code="correction_reason_required",
            fields=[{"field": "reason", "message": "Give the reason for the correction."}],
        )
    async with write_transaction():
        query = CleaningLog.select().where((CleaningLog.id == log_id) & (CleaningLog.site == site_id))
        if not is_sqlite():
            # Two corrections racing for one log queue here; the second then sees the first (409).
            # NO KEY UPDATE leaves the correction's own foreign key to this row free.
            query = query.lock_rows("NO KEY UPDATE")
        original = await query.first()
        if original is None:
            raise NotFound("This cleaning log does not exist at this site.", code="log_not_found")
        if not rules.may_correct(principal.role_at(site_id), principal.actor, original["actor"]):
            raise Forbidden(
                "Only the person who logged this cleaning, or a manager, can correct it.",
                code="not_your_log",
            )
        if await CleaningLog.exists().where(CleaningLog.corrects == log_id):
            raise Conflict(
                "This record is already corrected: correct the correction.", code="log_already_corrected"
            )
        plan = await get_plan(site_id, int(original["plan"]))
        version = await (
            CleaningPlanVersion.select().where(CleaningPlanVersion.id == original["plan_version"]).first()
        )
        if version is None:
            raise NotFound("This checklist version does not exist.", code="version_not_found")
        if data.void:  # withdrawn: when and what as logged, no checklist; it counts as nothing
            redone, results = _as_logged(original, []), []
        else:
            logged = [
                ItemIn(position=r["position"], done=r["done"], skip_reason=r["skip_reason"])
                for r in await CleaningLogItem.select().where(CleaningLogItem.log == log_id)
            ]
            redone = _as_logged(original, logged if data.items is None else data.items, data)
            results = _checked(json.loads(version["items"]), redone, now)
        answers = (
            results,
            original["product"] if data.product is None else data.product.strip(),
            original["din"] if data.din is None else data.din,
            original["visit_code"] if data.visit_code is None else data.visit_code,
            original["note"] if data.note is None else data.note,
        )
        return await _insert(
            principal,
            site_id,
            plan,
            version,
            redone,
            answers,
            corrects=log_id,
            reason=data.reason.strip(),
            void=data.void,
            now=now,
        )


def _as_logged(original: dict[str, Any], items: list[ItemIn], data: LogCorrection | None = None) -> LogCreate:
    """The corrected cleaning as a log to check and write: times omitted are the original's."""
    started = data.started_at if data is not None and data.started_at is not None else original["started_at"]
    ended = data.ended_at if data is not None and data.ended_at is not None else original["ended_at"]
    return LogCreate(
        plan_id=int(original["plan"]),
        version=1,  # not read: the version is the original's
        started_at=started,
        ended_at=ended,
        items=items,
    )
