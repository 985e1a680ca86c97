"""Overdue cleaning raises an alert, per site time zone, and clears when the room is cleaned."""

from __future__ import annotations

from server.alerts.rules import CLEANING_OVERDUE
from server.alerts.sweep import sweep
from server.alerts.tables import Alert
from server.cleaning.rules import PlanKind
from tests.cleaning.test_service import _log, _plan, utc
from tests.factories import make_location, make_site


async def test_overdue_cleaning_opens_and_clears_an_alert() -> None:
    toronto = await make_site("Toronto Clinic", "America/Toronto")
    vancouver = await make_site("Vancouver Clinic", "America/Vancouver")
    t_daily = await _plan(
        toronto, await make_location(toronto, "Exam Room 1"), PlanKind.DAILY, due_time="18:00"
    )
    await _plan(vancouver, await make_location(vancouver, "Exam Room 2"), PlanKind.DAILY, due_time="18:00")
    evening = utc(2026, 6, 10, 23, 0)  # 19:00 in Toronto (late), 16:00 in Vancouver (not yet)
    await sweep(evening, [CLEANING_OVERDUE])
    rows = await Alert.select().where(Alert.resolved_at.is_null())
    assert [(r["site"], r["rule"], r["subject"], r["severity"]) for r in rows] == [
        (toronto, "cleaning_overdue", f"plan:{t_daily.id}", "warning")
    ]
    assert rows[0]["title"].startswith("Cleaning overdue: Exam Room 1, daily")
    assert rows[0]["subject_name"] == "Exam Room 1 · daily"
    await sweep(utc(2026, 6, 10, 23, 30), [CLEANING_OVERDUE])  # same state: same one alert
    assert await Alert.count() == 1
    await _log(toronto, t_daily, utc(2026, 6, 11, 3, 30))  # done late that evening
    later = utc(2026, 6, 11, 3, 45)  # 20:45 in Vancouver: now that one is late
    await sweep(later, [CLEANING_OVERDUE])
    open_now = await Alert.select(Alert.site).where(Alert.resolved_at.is_null())
    assert [r["site"] for r in open_now] == [vancouver]
    cleared = await Alert.select().where(Alert.resolved_at.is_not_null())
    assert [(r["site"], r["resolved_at"]) for r in cleared] == [(toronto, later)]
