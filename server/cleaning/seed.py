"""Demo cleaning data: the default plans for every room, one weekly plan and a few days of logs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from server.cleaning import plans, service
from server.cleaning.rules import PlanKind, parse_due_time
from server.cleaning.schemas import DefaultsIn, ItemIn, LogCreate, PlanCreate
from server.cleaning.tables import CleaningLog, CleaningPlan
from server.core.auth import SYSTEM
from server.core.service import site_zone
from server.core.tables import Location


async def load_cleaning(path: Path, site_id: int, *, now: datetime) -> int:
    """Plans for rooms that have none, then demo logs if the site has no log yet (reruns add nothing)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))  # noqa: ASYNC240  (small, read once by the CLI)
    made = await plans.create_defaults(SYSTEM, site_id, DefaultsIn(**data["disinfectant"]), now=now)
    added = len(made.created)
    rooms = {
        str(r["name"]): int(r["id"])
        for r in await Location.select(Location.id, Location.name).where(Location.site == site_id)
    }
    for spec in data.get("weekly", []):
        room_id = rooms[spec["room"]]
        if await CleaningPlan.exists().where(
            (CleaningPlan.room == room_id) & (CleaningPlan.name == spec["name"])
        ):
            continue
        await plans.create_plan(
            SYSTEM,
            site_id,
            PlanCreate(
                room_id=room_id,
                kind=PlanKind.WEEKLY,
                name=spec["name"],
                items=spec["items"],
                weekday=spec["weekday"],
                due_time=spec["due_time"],
                **data["disinfectant"],
            ),
            now=now,
        )
        added += 1
    if await CleaningLog.exists().where(CleaningLog.site == site_id):
        return added
    tz = await site_zone(site_id)
    by_room = {(p.room_id, p.kind.value): p for p in await plans.list_plans(site_id)}
    for spec in data.get("history", []):
        plan = by_room[(rooms[spec["room"]], spec["plan"])]
        at = parse_due_time(spec["local_time"])
        if at is None:
            raise ValueError(f"bad local_time in {path}: {spec['local_time']!r}")
        day = (now.astimezone(tz) - timedelta(days=spec["days_ago"])).date()
        ended = datetime.combine(day, at, tzinfo=tz)
        skip = {int(k): v for k, v in spec.get("skip", {}).items()}
        await service.complete(
            SYSTEM,
            site_id,
            LogCreate(
                plan_id=plan.id,
                version=plan.version,
                started_at=ended - timedelta(minutes=7),
                ended_at=ended,
                items=[
                    ItemIn(position=i, done=i not in skip, skip_reason=skip.get(i, ""))
                    for i in range(len(plan.items))
                ],
                visit_code=spec.get("visit_code", ""),
                note="Demo data",
            ),
            now=now,
        )
        added += 1
    return added
