from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.cleaning.rules import (
    DueState,
    ItemResult,
    Outcome,
    PlanFacts,
    PlanKind,
    Schedule,
    checklist_problems,
    compliance,
    current_occurrence,
    due_status,
    occurrences,
    outcome,
    overall,
    parse_due_time,
    time_problems,
)

TORONTO = ZoneInfo("America/Toronto")
DAILY = Schedule(PlanKind.DAILY, due_time=time(18, 0))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- schedules ----------------------------------------------------------------------------------------


def test_daily_is_due_before_the_local_deadline_and_overdue_after_it() -> None:
    # 2026-06-10 17:59 EDT = 21:59 UTC
    due = due_status(DAILY, TORONTO, utc(2026, 6, 10, 21, 59), last_done=None)
    assert due.state is DueState.DUE
    assert due.due_at == utc(2026, 6, 10, 22, 0)
    late = due_status(DAILY, TORONTO, utc(2026, 6, 10, 22, 1), last_done=None)
    assert late.state is DueState.OVERDUE


def test_daily_done_late_in_the_evening_does_not_count_after_local_midnight() -> None:
    done_at = utc(2026, 6, 11, 3, 50)  # 23:50 EDT on June 10
    assert due_status(DAILY, TORONTO, utc(2026, 6, 11, 3, 55), last_done=done_at).state is DueState.DONE
    # 00:05 EDT on June 11 (04:05 UTC): a new local day, not done yet, due by 18:00 local.
    after_midnight = due_status(DAILY, TORONTO, utc(2026, 6, 11, 4, 5), last_done=done_at)
    assert after_midnight.state is DueState.DUE
    assert after_midnight.since == utc(2026, 6, 11, 4, 0)
    assert after_midnight.due_at == utc(2026, 6, 11, 22, 0)


def test_daily_uses_the_site_day_not_the_utc_day() -> None:
    # 21:00 EDT on June 10 is already June 11 in UTC; a clean at 20:30 EDT counts for June 10.
    done_at = utc(2026, 6, 11, 0, 30)
    assert due_status(DAILY, TORONTO, utc(2026, 6, 11, 1, 0), last_done=done_at).state is DueState.DONE
    vancouver = ZoneInfo("America/Vancouver")
    # The same instant is 17:30 on June 10 in Vancouver: the clean counts there too, before the deadline.
    assert due_status(DAILY, vancouver, utc(2026, 6, 11, 1, 0), last_done=done_at).state is DueState.DONE


def test_spring_forward_day_is_23_hours_and_keeps_the_local_deadline() -> None:
    occ = current_occurrence(DAILY, TORONTO, utc(2026, 3, 8, 12, 0))
    assert occ.start == utc(2026, 3, 8, 5, 0)  # midnight EST
    assert occ.end == utc(2026, 3, 9, 4, 0)  # midnight EDT
    assert occ.end - occ.start == timedelta(hours=23)
    assert occ.deadline == utc(2026, 3, 8, 22, 0)  # 18:00 EDT


def test_fall_back_day_is_25_hours_and_keeps_the_local_deadline() -> None:
    occ = current_occurrence(DAILY, TORONTO, utc(2026, 11, 1, 12, 0))
    assert occ.end is not None and occ.end - occ.start == timedelta(hours=25)
    assert occ.deadline == utc(2026, 11, 1, 23, 0)  # 18:00 EST
    # 23:30 EST on Nov 1 is 04:30 UTC on Nov 2: still Nov 1 locally, so still overdue, not a new day.
    late = due_status(DAILY, TORONTO, utc(2026, 11, 2, 4, 30), last_done=None)
    assert late.state is DueState.OVERDUE
    assert late.since == utc(2026, 11, 1, 4, 0)


def test_weekly_runs_monday_to_monday_with_its_deadline_on_the_weekday() -> None:
    weekly = Schedule(PlanKind.WEEKLY, due_time=time(17, 0), weekday=4)  # Friday 17:00
    wed = utc(2026, 6, 10, 15, 0)  # Wednesday
    due = due_status(weekly, TORONTO, wed, last_done=None)
    assert due.state is DueState.DUE
    assert due.since == utc(2026, 6, 8, 4, 0)  # Monday 00:00 EDT
    assert due.due_at == utc(2026, 6, 12, 21, 0)  # Friday 17:00 EDT
    assert due_status(weekly, TORONTO, utc(2026, 6, 13, 15, 0), last_done=None).state is DueState.OVERDUE
    done = due_status(weekly, TORONTO, utc(2026, 6, 13, 15, 0), last_done=utc(2026, 6, 8, 14, 0))
    assert done.state is DueState.DONE
    # Last week's clean does not count for this week.
    assert due_status(weekly, TORONTO, wed, last_done=utc(2026, 6, 5, 14, 0)).state is DueState.DUE


def test_on_demand_is_due_only_when_asked_for() -> None:
    plan = Schedule(PlanKind.BETWEEN_PATIENTS, due_within_minutes=30)
    now = utc(2026, 6, 10, 15, 0)
    assert due_status(plan, TORONTO, now, last_done=None).state is DueState.AVAILABLE
    asked = utc(2026, 6, 10, 14, 45)
    due = due_status(plan, TORONTO, now, last_done=None, last_request=asked)
    assert due.state is DueState.DUE
    assert due.due_at == utc(2026, 6, 10, 15, 15)
    assert due_status(plan, TORONTO, utc(2026, 6, 10, 15, 16), last_done=None, last_request=asked).state is (
        DueState.OVERDUE
    )
    # A clean before the request does not answer it; one after it does.
    assert (
        due_status(plan, TORONTO, now, last_done=utc(2026, 6, 10, 14, 0), last_request=asked).state
        is DueState.DUE
    )
    assert (
        due_status(plan, TORONTO, now, last_done=utc(2026, 6, 10, 14, 50), last_request=asked).state
        is DueState.AVAILABLE
    )


def test_terminal_without_a_time_limit_is_due_but_never_overdue() -> None:
    plan = Schedule(PlanKind.TERMINAL)
    due = due_status(plan, TORONTO, utc(2026, 6, 20), last_done=None, last_request=utc(2026, 6, 10))
    assert due.state is DueState.DUE
    assert due.due_at is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18:00", time(18, 0)),
        ("07:05", time(7, 5)),
        ("", None),
        ("24:00", None),
        ("7:05", None),
        ("ab:cd", None),
    ],
)
def test_parse_due_time(text: str, expected: time | None) -> None:
    assert parse_due_time(text) == expected


# --- checklists ---------------------------------------------------------------------------------------

ITEMS = ["Exam table", "Chairs", "BP cuff"]


def test_a_complete_checklist_has_no_problems() -> None:
    results = [ItemResult(0, True), ItemResult(1, False, "Chairs removed for repair"), ItemResult(2, True)]
    assert checklist_problems(ITEMS, results) == []


def test_every_skipped_item_needs_a_reason() -> None:
    results = [ItemResult(0, True), ItemResult(1, False, "  "), ItemResult(2, False)]
    problems = checklist_problems(ITEMS, results)
    assert [p["field"] for p in problems] == ["items[1]", "items[2]"]
    assert "Chairs" in problems[0]["message"]


def test_missing_unknown_and_repeated_items_are_refused() -> None:
    problems = checklist_problems(ITEMS, [ItemResult(0, True), ItemResult(0, True), ItemResult(7, True)])
    assert {p["field"] for p in problems} == {"items[0]", "items[7]", "items[1]", "items[2]"}


def test_times_must_be_in_order_and_not_in_the_future() -> None:
    now = utc(2026, 6, 10, 12, 0)
    assert time_problems(now - timedelta(minutes=5), now, now) == []
    assert time_problems(now, now - timedelta(minutes=1), now)[0]["field"] == "ended_at"
    assert time_problems(now, now + timedelta(minutes=30), now)[0]["field"] == "ended_at"
    assert time_problems(now - timedelta(hours=13), now, now)[0]["field"] == "started_at"


# --- compliance on a known data set -------------------------------------------------------------------


def test_outcome_on_time_late_missed_and_open() -> None:
    occ = current_occurrence(DAILY, TORONTO, utc(2026, 6, 10, 12, 0))
    assert outcome(occ, [utc(2026, 6, 10, 21, 0)], utc(2026, 6, 12)) is Outcome.ON_TIME
    assert outcome(occ, [utc(2026, 6, 10, 23, 0)], utc(2026, 6, 12)) is Outcome.LATE
    assert outcome(occ, [], utc(2026, 6, 12)) is Outcome.MISSED
    assert outcome(occ, [], utc(2026, 6, 10, 21, 0)) is None


def test_compliance_per_room_plan_and_week() -> None:
    # Week of Mon June 8 to Sun June 14 2026 (EDT) and Monday June 15; now = Tuesday June 16, 12:00 EDT.
    now = utc(2026, 6, 16, 16, 0)
    daily_done = [
        utc(2026, 6, 8, 21, 0),  # Mon 17:00 on time
        utc(2026, 6, 9, 23, 30),  # Tue 19:30 late
        # Wed missed
        utc(2026, 6, 11, 20, 0),  # Thu on time
        utc(2026, 6, 12, 21, 59),  # Fri 17:59 on time
        utc(2026, 6, 13, 22, 0),  # Sat 18:00 on time (the deadline itself counts)
        utc(2026, 6, 15, 3, 0),  # Sun 23:00 late
        utc(2026, 6, 15, 20, 0),  # Mon June 15 on time (next week)
        # Tue June 16: still open at noon, not counted
    ]
    on_demand = Schedule(PlanKind.BETWEEN_PATIENTS, due_within_minutes=30)
    requests = [utc(2026, 6, 9, 14, 0), utc(2026, 6, 9, 16, 0), utc(2026, 6, 10, 14, 0)]
    bp_done = [utc(2026, 6, 9, 14, 20), utc(2026, 6, 9, 17, 0)]  # on time, late, third missed
    rows = compliance(
        [
            PlanFacts(1, 10, DAILY, done_times=daily_done),
            PlanFacts(2, 10, on_demand, done_times=bp_done, requests=requests),
        ],
        TORONTO,
        utc(2026, 6, 8, 4, 0),
        utc(2026, 6, 17, 4, 0),
        now,
    )
    got = [
        (r.room_id, r.plan_id, r.week, r.expected, r.on_time, r.late, r.missed, r.on_time_percent)
        for r in rows
    ]
    assert got == [
        (10, 1, "2026-W24", 7, 4, 2, 1, 57.1),
        (10, 1, "2026-W25", 1, 1, 0, 0, 100.0),
        (10, 2, "2026-W24", 3, 1, 1, 1, 33.3),
    ]
    assert overall(rows) == {(10, 1): 62.5, (10, 2): 33.3}


def test_weekly_occurrences_cover_only_the_range() -> None:
    weekly = Schedule(PlanKind.WEEKLY, due_time=time(17, 0), weekday=0)
    occs = occurrences(weekly, TORONTO, utc(2026, 6, 1, 4, 0), utc(2026, 6, 29, 4, 0))
    assert [o.start.astimezone(TORONTO).date().isoformat() for o in occs] == [
        "2026-06-01",
        "2026-06-08",
        "2026-06-15",
        "2026-06-22",
    ]


def test_nothing_is_owed_before_the_plan_existed() -> None:
    # Created Wednesday June 10 at 19:00 EDT, after that day's 18:00 deadline: Thursday is the first.
    facts = PlanFacts(1, 10, DAILY, done_times=[utc(2026, 6, 11, 21, 0)], since=utc(2026, 6, 10, 23, 0))
    rows = compliance(
        [facts], TORONTO, utc(2026, 6, 8, 4, 0), utc(2026, 6, 13, 4, 0), utc(2026, 6, 13, 12, 0)
    )
    assert [(r.expected, r.on_time, r.missed) for r in rows] == [(2, 1, 1)]  # Thursday on time, Friday missed


def test_nothing_is_owed_after_the_plan_was_retired() -> None:
    facts = PlanFacts(1, 10, DAILY, done_times=[utc(2026, 6, 8, 21, 0)], until=utc(2026, 6, 9, 16, 0))
    rows = compliance(
        [facts], TORONTO, utc(2026, 6, 8, 4, 0), utc(2026, 6, 13, 4, 0), utc(2026, 6, 13, 12, 0)
    )
    assert [(r.expected, r.on_time, r.missed) for r in rows] == [(1, 1, 0)]  # only Monday was owed
