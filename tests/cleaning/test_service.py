"""Room cleaning services with a moved clock: tasks and the overdue sweep per site time zone,
compliance on a known data set read back from the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.cleaning import plans, reports, service
from server.cleaning.reports import LogFilter
from server.cleaning.rules import DueState, PlanKind
from server.cleaning.schemas import ItemIn, LogCreate, PlanCreate, PlanRead, PlanUpdate, RequestIn
from server.core.auth import SYSTEM
from tests.factories import make_location, make_site


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def _plan(site: int, room: int, kind: PlanKind, **extra: object) -> PlanRead:
    spec = PlanCreate(room_id=room, kind=kind, name=kind.value, items=["Exam table", "Chairs"], **extra)  # type: ignore[arg-type]
    return await plans.create_plan(SYSTEM, site, spec, now=utc(2026, 6, 1))


async def _log(site: int, plan: PlanRead, ended: datetime) -> None:
    data = LogCreate(
        plan_id=plan.id,
        version=plan.version,
        started_at=ended - timedelta(minutes=5),
        ended_at=ended,
        items=[ItemIn(position=0, done=True), ItemIn(position=1, done=True)],
    )
    await service.complete(SYSTEM, site, data, now=ended + timedelta(minutes=1))


async def test_tasks_and_the_overdue_sweep_follow_each_sites_time_zone() -> None:
    toronto = await make_site("Toronto Clinic", "America/Toronto")
    vancouver = await make_site("Vancouver Clinic", "America/Vancouver")
    t_room = await make_location(toronto, "Room T")
    v_room = await make_location(vancouver, "Room V")
    t_daily = await _plan(toronto, t_room, PlanKind.DAILY, due_time="18:00")
    v_daily = await _plan(vancouver, v_room, PlanKind.DAILY, due_time="18:00")
    now = utc(2026, 6, 10, 23, 0)  # 19:00 in Toronto, 16:00 in Vancouver
    sweep = await service.overdue_sweep(now=now)
    assert list(sweep) == [toronto]
    assert [(t.plan_id, t.state) for t in sweep[toronto]] == [(t_daily.id, DueState.OVERDUE)]
    v_tasks = await service.tasks(vancouver, now=now)
    assert [(t.plan_id, t.state, t.due_at) for t in v_tasks] == [
        (v_daily.id, DueState.DUE, utc(2026, 6, 11, 1, 0))
    ]
    # Done late in Toronto that evening: no longer overdue; after local midnight it is due again.
    await _log(toronto, t_daily, utc(2026, 6, 11, 3, 30))  # 23:30 EDT
    assert list(await service.overdue_sweep(now=utc(2026, 6, 11, 3, 45))) == [vancouver]  # 20:45 there
    assert [t.state for t in await service.tasks(toronto, now=utc(2026, 6, 11, 4, 30))] == [DueState.DUE]


async def test_an_on_demand_request_is_overdue_after_its_time_limit() -> None:
    site = await make_site()
    room = await make_location(site)
    plan = await _plan(site, room, PlanKind.BETWEEN_PATIENTS, due_within_minutes=20)
    assert await service.tasks(site, now=utc(2026, 6, 10, 15)) == []
    await plans.request_cleaning(SYSTEM, site, plan.id, RequestIn(), now=utc(2026, 6, 10, 15))
    assert [t.state for t in await service.tasks(site, now=utc(2026, 6, 10, 15, 10))] == [DueState.DUE]
    assert [t.state for t in await service.tasks(site, now=utc(2026, 6, 10, 15, 21))] == [DueState.OVERDUE]
    await _log(site, plan, utc(2026, 6, 10, 15, 25))
    assert await service.tasks(site, now=utc(2026, 6, 10, 15, 30)) == []
    room_view = await service.room_checklist(site, room, now=utc(2026, 6, 10, 15, 30))
    assert room_view.plans[0].last_done_at == utc(2026, 6, 10, 15, 25)


async def test_compliance_on_a_known_data_set() -> None:
    site = await make_site()
    room1 = await make_location(site, "Room 1")
    room2 = await make_location(site, "Room 2")
    daily1 = await _plan(site, room1, PlanKind.DAILY, due_time="18:00")
    weekly2 = await _plan(site, room2, PlanKind.WEEKLY, due_time="17:00", weekday=4)
    # Room 1, week of June 8 (EDT): Mon on time, Tue late, Wed missed, Thu-Sun on time.
    for ended in (
        utc(2026, 6, 8, 21),
        utc(2026, 6, 9, 23, 30),
        utc(2026, 6, 11, 20),
        utc(2026, 6, 12, 20),
        utc(2026, 6, 13, 20),
        utc(2026, 6, 14, 20),
    ):
        await _log(site, daily1, ended)
    # Room 2: the week of June 8 on Thursday (on time); the week of June 15 missed.
    await _log(site, weekly2, utc(2026, 6, 11, 15))
    found = await reports.compliance(
        site, LogFilter(start=utc(2026, 6, 8, 4), end=utc(2026, 6, 22, 4)), now=utc(2026, 6, 22, 12)
    )
    got = [
        (r.room_name, r.kind, r.week, r.expected, r.on_time, r.late, r.missed, r.on_time_percent)
        for r in found
    ]
    assert got == [
        ("Room 1", PlanKind.DAILY, "2026-W24", 7, 5, 1, 1, 71.4),
        ("Room 1", PlanKind.DAILY, "2026-W25", 7, 0, 0, 7, 0.0),
        ("Room 2", PlanKind.WEEKLY, "2026-W24", 1, 1, 0, 0, 100.0),
        ("Room 2", PlanKind.WEEKLY, "2026-W25", 1, 0, 0, 1, 0.0),
    ]
    only_room2 = await reports.compliance(
        site,
        LogFilter(room_id=room2, start=utc(2026, 6, 8, 4), end=utc(2026, 6, 22, 4)),
        now=utc(2026, 6, 22, 12),
    )
    assert {r.plan_id for r in only_room2} == {weekly2.id}


async def test_a_retired_plan_leaves_tasks_and_compliance_from_then_on() -> None:
    site = await make_site()
    room = await make_location(site, "Room 1")
    daily = await _plan(site, room, PlanKind.DAILY, due_time="18:00")  # created June 1
    await _log(site, daily, utc(2026, 6, 1, 21))
    retired = await plans.update_plan(
        SYSTEM, site, daily.id, PlanUpdate(active=False), now=utc(2026, 6, 3, 12)
    )
    assert retired.retired_at == utc(2026, 6, 3, 12)
    assert await service.tasks(site, now=utc(2026, 6, 5, 23)) == []
    found = await reports.compliance(
        site, LogFilter(start=utc(2026, 6, 1, 4), end=utc(2026, 6, 8, 4)), now=utc(2026, 6, 8, 12)
    )
    assert [(r.expected, r.on_time, r.missed) for r in found] == [(2, 1, 1)]  # June 1 on time, June 2 missed
    back = await plans.update_plan(SYSTEM, site, daily.id, PlanUpdate(active=True), now=utc(2026, 6, 6, 12))
    assert back.retired_at is None and back.version == 1
