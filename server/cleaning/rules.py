"""Pure rules for room cleaning: schedules in the site's time zone, checklist checks, compliance.

Schedules:
- ``daily``: one occurrence per local calendar day, due by ``due_time`` (local); a log that ends
  between local midnight and the next local midnight counts for that day.
- ``weekly``: one occurrence per local week (Monday 00:00 to Monday 00:00), due by ``weekday`` at
  ``due_time``.
- ``between_patients`` and ``terminal``: on demand. A request (a patient left, additional
  precautions ended) makes the plan due until a log ends after it; with ``due_within_minutes`` it
  is overdue after that many minutes, without it it is never overdue.

Local days are turned into UTC instants with zoneinfo, so a DST day is 23 or 25 hours long.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Clock skew allowed for a phone's end time (an offline phone may be a little ahead).
CLOCK_SKEW = timedelta(minutes=5)
# A cleaning that takes longer than this was not entered as it happened.
MAX_DURATION = timedelta(hours=12)
DEFAULT_DAILY_DUE = time(18, 0)


class PlanKind(enum.StrEnum):
    BETWEEN_PATIENTS = "between_patients"
    DAILY = "daily"
    WEEKLY = "weekly"
    TERMINAL = "terminal"


ON_DEMAND = frozenset({PlanKind.BETWEEN_PATIENTS, PlanKind.TERMINAL})


class AuditMethod(enum.StrEnum):
    VISUAL = "visual"
    FLUORESCENT = "fluorescent"
    ATP = "atp"


class DueState(enum.StrEnum):
    DONE = "done"  # done in this period (or since the last request)
    DUE = "due"  # not yet done, not yet late
    OVERDUE = "overdue"  # past its deadline
    AVAILABLE = "available"  # on demand and not asked for: can be logged any time


class Outcome(enum.StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSED = "missed"


@dataclass(frozen=True)
class Schedule:
    kind: PlanKind
    due_time: time | None = None
    weekday: int | None = None  # 0 = Monday
    due_within_minutes: int | None = None


@dataclass(frozen=True)
class Due:
    state: DueState
    due_at: datetime | None = None  # UTC deadline of the current occurrence
    since: datetime | None = None  # UTC start of the current period, or the request time


@dataclass(frozen=True)
class Occurrence:
    start: datetime
    deadline: datetime | None
    end: datetime | None  # the next occurrence's start; None for the latest request


def parse_due_time(text: str) -> time | None:
    """ "HH:MM" (24 h) or "" for none; anything else is None."""
    if not text:
        return None
    hours, sep, minutes = text.partition(":")
    if not sep or len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isdigit():
        return None
    h, m = int(hours), int(minutes)
    return time(h, m) if h < 24 and m < 60 else None


def _local(d: date, t: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, t, tzinfo=tz).astimezone(UTC)


def _period_start_day(kind: PlanKind, day: date) -> date:
    return day - timedelta(days=day.weekday()) if kind is PlanKind.WEEKLY else day


def _period_days(kind: PlanKind) -> int:
    return 7 if kind is PlanKind.WEEKLY else 1


def _scheduled(schedule: Schedule, first_day: date, tz: ZoneInfo) -> Occurrence:
    due = schedule.due_time or DEFAULT_DAILY_DUE
    offset = (schedule.weekday or 0) if schedule.kind is PlanKind.WEEKLY else 0
    return Occurrence(
        start=_local(first_day, time(0), tz),
        deadline=_local(first_day + timedelta(days=offset), due, tz),
        end=_local(first_day + timedelta(days=_period_days(schedule.kind)), time(0), tz),
    )


def current_occurrence(schedule: Schedule, tz: ZoneInfo, now: datetime) -> Occurrence:
    """The daily or weekly occurrence that contains ``now`` (local calendar)."""
    first = _period_start_day(schedule.kind, now.astimezone(tz).date())
    return _scheduled(schedule, first, tz)


def due_status(
    schedule: Schedule,
    tz: ZoneInfo,
    now: datetime,
    *,
    last_done: datetime | None,
    last_request: datetime | None = None,
) -> Due:
    """Where a plan stands at ``now``, from the end of its latest log and its latest request."""
    if schedule.kind in ON_DEMAND:
        if last_request is None or (last_done is not None and last_done >= last_request):
            return Due(DueState.AVAILABLE)
        if schedule.due_within_minutes is None:
            return Due(DueState.DUE, None, last_request)
        due_at = last_request + timedelta(minutes=schedule.due_within_minutes)
        return Due(DueState.OVERDUE if now > due_at else DueState.DUE, due_at, last_request)
    occ = current_occurrence(schedule, tz, now)
    if last_done is not None and occ.start <= last_done and (occ.end is None or last_done < occ.end):
        return Due(DueState.DONE, occ.deadline, occ.start)
    state = DueState.OVERDUE if occ.deadline is not None and now > occ.deadline else DueState.DUE
    return Due(state, occ.deadline, occ.start)


def occurrences(
    schedule: Schedule,
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
    *,
    requests: Sequence[datetime] = (),
) -> list[Occurrence]:
    """Occurrences whose start falls in [start, end): local days or weeks, or the requests."""
    if schedule.kind in ON_DEMAND:
        times = sorted(requests)
        found = []
        for i, at in enumerate(times):
            if not start <= at < end:
                continue
            deadline = (
                None
                if schedule.due_within_minutes is None
                else at + timedelta(minutes=schedule.due_within_minutes)
            )
            found.append(Occurrence(at, deadline, times[i + 1] if i + 1 < len(times) else None))
        return found
    step = _period_days(schedule.kind)
    day = _period_start_day(schedule.kind, start.astimezone(tz).date())
    found = []
    while True:
        occ = _scheduled(schedule, day, tz)
        if occ.start >= end:
            return found
        if occ.start >= start:
            found.append(occ)
        day += timedelta(days=step)


def outcome(occ: Occurrence, done_times: Iterable[datetime], now: datetime) -> Outcome | None:
    """On time, late or missed; None while it can still be done on time."""
    period_end = occ.end
    hits = [t for t in done_times if t >= occ.start and (period_end is None or t < period_end)]
    if any(occ.deadline is None or t <= occ.deadline for t in hits):
        return Outcome.ON_TIME
    if hits:
        return Outcome.LATE
    closed = occ.end if occ.deadline is None else occ.deadline
    if closed is None or now <= closed:
        return None
    return Outcome.MISSED


def iso_week(at: datetime, tz: ZoneInfo) -> str:
    year, week, _ = at.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class PlanFacts:
    plan_id: int
    room_id: int
    schedule: Schedule
    done_times: Sequence[datetime] = ()
    requests: Sequence[datetime] = ()
    since: datetime | None = None  # the plan's creation: nothing is owed before it
    until: datetime | None = None  # when it was retired: nothing is owed after it


@dataclass
class ComplianceRow:
    room_id: int
    plan_id: int
    week: str
    expected: int = 0
    on_time: int = 0
    late: int = 0
    missed: int = 0
    on_time_percent: float | None = field(default=None)


def compliance(
    plans: Iterable[PlanFacts], tz: ZoneInfo, start: datetime, end: datetime, now: datetime
) -> list[ComplianceRow]:
    """On-time percentage per room, plan and ISO week (local), over occurrences already settled.

    An occurrence still open (its deadline not reached, nothing logged) is not counted yet, nor one
    whose deadline came before the plan existed or after it was retired.
    """
    rows: dict[tuple[int, int, str], ComplianceRow] = {}
    for plan in plans:
        for occ in occurrences(plan.schedule, tz, start, end, requests=plan.requests):
            owed_at = occ.deadline or occ.start
            if (plan.since is not None and owed_at < plan.since) or (
                plan.until is not None and owed_at > plan.until
            ):
                continue
            result = outcome(occ, plan.done_times, now)
            if result is None:
                continue
            week = iso_week(occ.start, tz)
            row = rows.setdefault(
                (plan.room_id, plan.plan_id, week), ComplianceRow(plan.room_id, plan.plan_id, week)
            )
            row.expected += 1
            if result is Outcome.ON_TIME:
                row.on_time += 1
            elif result is Outcome.LATE:
                row.late += 1
            else:
                row.missed += 1
    for row in rows.values():
        row.on_time_percent = round(100 * row.on_time / row.expected, 1)
    return [rows[k] for k in sorted(rows)]


def overall(rows: Iterable[ComplianceRow]) -> dict[tuple[int, int], float | None]:
    """On-time percentage per (room, plan) over every week given."""
    sums: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        pair = sums[(row.room_id, row.plan_id)]
        pair[0] += row.on_time
        pair[1] += row.expected
    return {k: (round(100 * v[0] / v[1], 1) if v[1] else None) for k, v in sums.items()}


# --- checklists -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemResult:
    position: int
    done: bool
    skip_reason: str = ""


def checklist_problems(items: Sequence[str], results: Sequence[ItemResult]) -> list[dict[str, str]]:
    """Every item answered once, as done or skipped with a reason. One problem per bad item."""
    problems: list[dict[str, str]] = []
    seen: set[int] = set()
    for r in results:
        where = f"items[{r.position}]"
        if not 0 <= r.position < len(items):
            problems.append({"field": where, "message": "This checklist has no such item."})
        elif r.position in seen:
            problems.append({"field": where, "message": "This item is answered twice."})
        elif not r.done and not r.skip_reason.strip():
            problems.append(
                {"field": where, "message": f"Say why '{items[r.position]}' was skipped, or tick it."}
            )
        seen.add(r.position)
    for position, text in enumerate(items):
        if position not in seen:
            problems.append({"field": f"items[{position}]", "message": f"'{text}' is not ticked or skipped."})
    return problems


def may_correct(role: str | None, actor: str, logged_by: str) -> bool:
    """Who may correct a cleaning log: whoever logged it, or a manager or admin (never an inspector)."""
    if role in ("manager", "admin"):
        return True
    return role == "assistant" and actor == logged_by


def time_problems(started: datetime, ended: datetime, now: datetime) -> list[dict[str, str]]:
    problems = []
    if ended < started:
        problems.append({"field": "ended_at", "message": "The end is before the start."})
    elif ended - started > MAX_DURATION:
        problems.append({"field": "started_at", "message": "A cleaning cannot last more than 12 hours."})
    if ended > now + CLOCK_SKEW:
        problems.append({"field": "ended_at", "message": "The end is in the future."})
    return problems


# --- defaults (PIDAC clinical office practice, via the WDG Public Health procedure; RCDSO) -----------

BETWEEN_PATIENTS_ITEMS = (
    "Exam table",
    "Table paper replaced",
    "Chairs",
    "Counter and trolley",
    "BP cuff",
    "Stethoscope",
    "Otoscope and ophthalmoscope (light sheaths replaced)",
    "Reflex hammer and thermometer",
    "Keyboard, mouse and phone",
    "Disposable specula discarded",
)
DAILY_ITEMS = (
    "Exam table",
    "Counters and trolley",
    "Chairs",
    "Keyboard, mouse and phone",
    "Sink and taps",
    "Door handles and light switches",
)
TERMINAL_ITEMS = (*BETWEEN_PATIENTS_ITEMS, "Sink and taps", "Door handles and light switches")

DEFAULT_PLANS: tuple[tuple[PlanKind, str, tuple[str, ...]], ...] = (
    (PlanKind.BETWEEN_PATIENTS, "Between patients", BETWEEN_PATIENTS_ITEMS),
    (PlanKind.DAILY, "End of day", DAILY_ITEMS),
    (PlanKind.TERMINAL, "Terminal (after additional precautions)", TERMINAL_ITEMS),
)
