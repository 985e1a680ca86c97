"""Cleaning plans: create, edit (a new version, never a rewrite), defaults per room, requests."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import msgspec

from server.cleaning import rules
from server.cleaning.rules import ON_DEMAND, PlanKind
from server.cleaning.schemas import (
    DefaultsIn,
    DefaultsResult,
    PlanCreate,
    PlanRead,
    PlanUpdate,
    RequestIn,
    RequestRead,
)
from server.cleaning.tables import CleaningPlan, CleaningPlanVersion, CleaningRequest
from server.core import audit
from server.core.auth import Principal
from server.core.rules import LocationKind
from server.core.tables import Location
from server.db import write_transaction
from server.errors import InvalidInput, NotFound

_PLAN_COLUMNS = (*CleaningPlan.all_columns(), CleaningPlan.room.name)
_VERSIONED = ("items", "product", "din", "contact_seconds")


async def room_row(site_id: int, room_id: int) -> dict[str, Any]:
    row = await (
        Location.select(Location.id, Location.name, Location.kind, Location.active)
        .where((Location.id == room_id) & (Location.site == site_id))
        .first()
    )
    if row is None:
        raise NotFound("This room does not exist at this site.", code="room_not_found")
    if row["kind"] != LocationKind.ROOM.value:
        raise InvalidInput(
            "Cleaning plans are kept for rooms; this place is not a room.",
            code="not_a_room",
            fields=[{"field": "room_id", "message": "Pick a room."}],
        )
    return row


def _plan(row: dict[str, Any], version: dict[str, Any]) -> PlanRead:
    return PlanRead(
        id=row["id"],
        room_id=row["room"],
        room_name=row["room.name"],
        kind=PlanKind(row["kind"]),
        name=row["name"],
        due_time=row["due_time"],
        weekday=row["weekday"],
        due_within_minutes=row["due_within_minutes"],
        active=bool(row["active"]),
        version=version["version"],
        version_id=version["id"],
        items=json.loads(version["items"]),
        product=version["product"],
        din=version["din"],
        contact_seconds=version["contact_seconds"],
        created_at=row["created_at"],
        retired_at=row["retired_at"],
    )


async def _with_versions(rows: list[dict[str, Any]]) -> list[PlanRead]:
    if not rows:
        return []
    versions = await CleaningPlanVersion.select().where(
        CleaningPlanVersion.plan.is_in([r["id"] for r in rows])
    )
    current = {(v["plan"], v["version"]): v for v in versions}
    return [_plan(r, current[(r["id"], r["version"])]) for r in rows]


async def list_plans(
    site_id: int, *, room_id: int | None = None, include_inactive: bool = False
) -> list[PlanRead]:
    where: Any = CleaningPlan.site == site_id
    if room_id is not None:
        where &= CleaningPlan.room == room_id
    if not include_inactive:
        where &= CleaningPlan.active.eq(True)
    rows = await (
        CleaningPlan.select(*_PLAN_COLUMNS)
        .where(where)
        .order_by(CleaningPlan.room.name)
        .order_by(CleaningPlan.id)
    )
    return await _with_versions(rows)


async def get_plan(site_id: int, plan_id: int) -> PlanRead:
    rows = await CleaningPlan.select(*_PLAN_COLUMNS).where(
        (CleaningPlan.id == plan_id) & (CleaningPlan.site == site_id)
    )
    if not rows:
        raise NotFound("This cleaning plan does not exist at this site.", code="plan_not_found")
    return (await _with_versions(rows))[0]


def _check_schedule(kind: PlanKind, due_time: str, weekday: int | None) -> None:
    if kind is PlanKind.WEEKLY and weekday is None:
        raise InvalidInput(
            "A weekly plan needs the day of the week it is due.",
            code="weekday_required",
            fields=[{"field": "weekday", "message": "Pick a day (0 = Monday)."}],
        )
    if kind not in ON_DEMAND and rules.parse_due_time(due_time) is None:
        raise InvalidInput(
            "A daily or weekly plan needs the local time it is due by.",
            code="due_time_required",
            fields=[{"field": "due_time", "message": "Give a time such as 18:00."}],
        )


async def _add_version(
    principal: Principal, site_id: int, plan_id: int, number: int, values: dict[str, Any], now: datetime
) -> None:
    await CleaningPlanVersion.insert(
        CleaningPlanVersion(
            site=site_id,
            plan=plan_id,
            version=number,
            items=json.dumps([t.strip() for t in values["items"]], ensure_ascii=False),
            product=values["product"].strip(),
            din=values["din"],
            contact_seconds=values["contact_seconds"],
            created_by=principal.actor,
            created_at=now,
        )
    )


async def create_plan(principal: Principal, site_id: int, data: PlanCreate, *, now: datetime) -> PlanRead:
    due_time = data.due_time or ("" if data.kind in ON_DEMAND else rules.DEFAULT_DAILY_DUE.strftime("%H:%M"))
    _check_schedule(data.kind, due_time, data.weekday)
    async with write_transaction():
        await room_row(site_id, data.room_id)
        rows = await CleaningPlan.insert(
            CleaningPlan(
                site=site_id,
                room=data.room_id,
                kind=data.kind.value,
                name=data.name.strip(),
                due_time=due_time,
                weekday=data.weekday if data.kind is PlanKind.WEEKLY else None,
                due_within_minutes=data.due_within_minutes if data.kind in ON_DEMAND else None,
                version=1,
                created_at=now,
            )
        ).returning(CleaningPlan.id)
        plan_id = int(rows[0]["id"])
        await _add_version(principal, site_id, plan_id, 1, msgspec.structs.asdict(data), now)
        plan = await get_plan(site_id, plan_id)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="cleaning_plan.create",
            entity="cleaning_plan",
            entity_id=plan_id,
            payload=msgspec.to_builtins(plan),
            now=now,
        )
    return plan


async def update_plan(
    principal: Principal, site_id: int, plan_id: int, data: PlanUpdate, *, now: datetime
) -> PlanRead:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    if not changes:
        raise InvalidInput("Nothing to change.", code="nothing_to_change")
    async with write_transaction():
        before = await get_plan(site_id, plan_id)
        merged = msgspec.structs.asdict(before) | changes
        _check_schedule(before.kind, merged["due_time"], merged["weekday"])
        plan_values: dict[Any, Any] = {
            k: (v.strip() if isinstance(v, str) else v)
            for k, v in changes.items()
            if k in ("name", "due_time", "weekday", "due_within_minutes", "active")
        }
        if "active" in changes and changes["active"] != before.active:
            plan_values["retired_at"] = None if changes["active"] else now
        if any(k in changes and changes[k] != getattr(before, k) for k in _VERSIONED):
            number = before.version + 1
            await _add_version(principal, site_id, plan_id, number, merged, now)
            plan_values["version"] = number
        if plan_values:
            await CleaningPlan.update(plan_values).where(CleaningPlan.id == plan_id)
        plan = await get_plan(site_id, plan_id)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="cleaning_plan.update",
            entity="cleaning_plan",
            entity_id=plan_id,
            payload={"changes": changes, "version": plan.version},
            now=now,
        )
    return plan


async def create_defaults(
    principal: Principal, site_id: int, data: DefaultsIn, *, now: datetime
) -> DefaultsResult:
    """The default plans for every active room that has no plan yet (safe to run again)."""
    created: list[PlanRead] = []
    async with write_transaction():
        rooms = (
            await Location.select(Location.id)
            .where(
                (Location.site == site_id)
                & (Location.kind == LocationKind.ROOM.value)
                & Location.active.eq(True)
            )
            .order_by(Location.name)
        )
        planned = {
            r["room"]
            for r in await CleaningPlan.select(CleaningPlan.room).where(CleaningPlan.site == site_id)
        }
        for room in rooms:
            if room["id"] in planned:
                continue
            for kind, name, items in rules.DEFAULT_PLANS:
                spec = PlanCreate(
                    room_id=room["id"],
                    kind=kind,
                    name=name,
                    items=list(items),
                    product=data.product,
                    din=data.din,
                    contact_seconds=data.contact_seconds,
                )
                created.append(await create_plan(principal, site_id, spec, now=now))
    return DefaultsResult(created=created)


async def request_cleaning(
    principal: Principal, site_id: int, plan_id: int, data: RequestIn, *, now: datetime
) -> RequestRead:
    async with write_transaction():
        plan = await get_plan(site_id, plan_id)
        if plan.kind not in ON_DEMAND or not plan.active:
            raise InvalidInput(
                "Only an active between-patients or terminal plan can be asked for; "
                "daily and weekly plans fall due on their own.",
                code="not_on_demand",
            )
        rows = await CleaningRequest.insert(
            CleaningRequest(
                site=site_id, plan=plan_id, requested_at=now, requested_by=principal.actor, note=data.note
            )
        ).returning(CleaningRequest.id)
        result = RequestRead(
            id=rows[0]["id"], plan_id=plan_id, requested_at=now, requested_by=principal.actor
        )
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="cleaning.request",
            entity="cleaning_plan",
            entity_id=plan_id,
            payload={"request_id": result.id, "note": data.note},
            now=now,
        )
    return result
