"""Pure cold chain rules: ranges, the twice-daily schedule in the site's time zone, missing readings,
excursion extremes and the data-logger CSV. No I/O.

Temperatures are whole tenths of a degree Celsius (5.3 °C = 53), the log's resolution (domain §3).
"""

from __future__ import annotations

import csv
import enum
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# +2.0 to +8.0 °C for vaccine fridges (Ontario PHUs, domain §3). Freezers store frozen vaccines at
# -50 to -15 °C (varicella-type products); set each freezer's own range when it differs.
FRIDGE_RANGE = (20, 80)
FREEZER_RANGE = (-500, -150)
# Plausible thermometer values; anything else is a typing or sensor error, not a reading.
LOWEST_TENTHS = -900
HIGHEST_TENTHS = 600
DEFAULT_TIMES = (time(9, 0), time(16, 0))
DEFAULT_GRACE = timedelta(minutes=60)
DEFAULT_GAP = timedelta(minutes=30)  # data loggers record every 5-30 min (domain §3)


class SlotStatus(enum.StrEnum):
    DONE = "done"
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    CLOSED = "closed"


class Decision(enum.StrEnum):
    RELEASED = "released"
    DISCARDED = "discarded"
    RETURNED = "returned"


def default_range(kind: str) -> tuple[int, int]:
    return FREEZER_RANGE if kind == "freezer" else FRIDGE_RANGE


def to_tenths(value: float | str) -> int:
    """5.3 -> 53; refuses more than one decimal (the log's resolution) and impossible values."""
    text = str(value).strip().replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a temperature") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a temperature")
    tenths = round(number * 10)
    if abs(number * 10 - tenths) > 1e-6:
        raise ValueError(f"{value!r}: give temperatures to 0.1 °C")
    if not LOWEST_TENTHS <= tenths <= HIGHEST_TENTHS:
        raise ValueError(f"{value!r} °C is not a possible fridge temperature")
    return tenths


def celsius(tenths: int | None) -> float | None:
    return None if tenths is None else tenths / 10


def out_of_range(current: int, minimum: int | None, maximum: int | None, low: int, high: int) -> list[str]:
    """Which of current, min and max are outside [low, high]; both ends are in range (2.0 and 8.0 are)."""
    return [
        name
        for name, value in (("current", current), ("min", minimum), ("max", maximum))
        if value is not None and not low <= value <= high
    ]


def extremes(values: Iterable[int | None]) -> tuple[int, int]:
    """The lowest and highest of the readings' values (min/max included)."""
    known = [v for v in values if v is not None]
    if not known:
        raise ValueError("no values")
    return min(known), max(known)


def parse_times(text: str) -> list[time]:
    """ "09:00, 16:00" -> sorted reading times; at least one, no duplicates."""
    times = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            hours, minutes = part.split(":")
            times.append(time(int(hours), int(minutes)))
        except ValueError:
            raise ValueError(f"{part!r} is not a time like 09:00") from None
    if not times:
        raise ValueError("give at least one reading time")
    if len(set(times)) != len(times):
        raise ValueError("the same time is given twice")
    return sorted(times)


def format_times(times: Sequence[time]) -> str:
    return ",".join(t.strftime("%H:%M") for t in times)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time on a local day, in UTC. A time skipped by the spring change (02:30) is
    read with the offset before the change, i.e. one hour later on the new clock."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Slot:
    day: date
    at: time
    due_at: datetime  # UTC
    window_start: datetime  # a reading in [window_start, window_end) counts for this slot
    window_end: datetime


def day_slots(day: date, times: Sequence[time], zone: ZoneInfo) -> list[Slot]:
    """The day's reading slots. Each reading counts for the nearest slot: windows meet halfway
    between slots and at local midnight, so a 23- or 25-hour DST day still has exactly its slots."""
    start = local_instant(day, time(0), zone)
    end = local_instant(day + timedelta(days=1), time(0), zone)
    dues = [local_instant(day, t, zone) for t in sorted(times)]
    slots = []
    for i, due in enumerate(dues):
        lo = start if i == 0 else dues[i - 1] + (due - dues[i - 1]) / 2
        hi = end if i == len(dues) - 1 else due + (dues[i + 1] - due) / 2
        slots.append(Slot(day, sorted(times)[i], due, lo, hi))
    return slots


def slot_status(
    slot: Slot, taken: Sequence[datetime], now: datetime, grace: timedelta, closed: bool
) -> SlotStatus:
    if any(slot.window_start <= t < slot.window_end for t in taken):
        return SlotStatus.DONE
    if closed:
        return SlotStatus.CLOSED
    if now < slot.due_at:
        return SlotStatus.UPCOMING
    if now < slot.due_at + grace:
        return SlotStatus.DUE
    return SlotStatus.OVERDUE


@dataclass(frozen=True)
class SlotState:
    slot: Slot
    status: SlotStatus


def schedule(
    days: Iterable[date],
    times: Sequence[time],
    zone: ZoneInfo,
    taken: Sequence[datetime],
    now: datetime,
    grace: timedelta,
    closed_days: Iterable[date] = (),
) -> list[SlotState]:
    """Every slot of the given local days with its status; closed days owe no reading."""
    closed = set(closed_days)
    return [
        SlotState(s, slot_status(s, taken, now, grace, s.day in closed))
        for d in days
        for s in day_slots(d, times, zone)
    ]


def missing(states: Iterable[SlotState]) -> list[SlotState]:
    """Readings still owed: due now, or overdue past the grace period."""
    return [s for s in states if s.status in (SlotStatus.DUE, SlotStatus.OVERDUE)]


# --- data-logger CSV ---------------------------------------------------------------------------------

TIME_HEADERS = {"timestamp", "time", "date_time", "datetime", "horodatage"}
TEMP_HEADERS = {"temperature", "temperature_c", "temp", "temp_c", "température", "temperature (°c)"}


class BadHeader(ValueError):
    pass


@dataclass(frozen=True)
class LoggerRow:
    row: int
    taken_at: datetime
    tenths: int


@dataclass
class LoggerFile:
    rows: list[LoggerRow] = field(default_factory=list)
    errors: list[dict[str, object]] = field(default_factory=list)
    duplicates: list[dict[str, object]] = field(default_factory=list)
    gaps: list[dict[str, object]] = field(default_factory=list)


def _columns(header: list[str]) -> tuple[int, int]:
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    time_at = [i for i, n in enumerate(names) if n in TIME_HEADERS]
    temp_at = [i for i, n in enumerate(names) if n in TEMP_HEADERS]
    if len(time_at) != 1 or len(temp_at) != 1:
        raise BadHeader(
            "The first line must name the columns: timestamp and temperature "
            f"(found: {', '.join(h.strip() for h in header) or 'nothing'})."
        )
    return time_at[0], temp_at[0]


def _timestamp(text: str, zone: ZoneInfo) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("/", "-"))
    if value.tzinfo is None:  # a logger's local clock: the site's time zone
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def parse_logger_csv(text: str, zone: ZoneInfo, gap: timedelta = DEFAULT_GAP) -> LoggerFile:
    """Rows by time; bad rows, repeated timestamps and gaps longer than ``gap`` are reported.
    A header without timestamp and temperature columns raises BadHeader (nothing is imported)."""
    lines = text.splitlines()
    first = lines[0] if lines else ""
    delimiter = ";" if first.count(";") > first.count(",") else ("\t" if "\t" in first else ",")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, [])
    t_col, v_col = _columns(header)
    result = LoggerFile()
    seen: dict[datetime, LoggerRow] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        try:
            if len(cells) <= max(t_col, v_col):
                raise ValueError("missing a value")
            try:
                taken_at = _timestamp(cells[t_col], zone)
            except ValueError:
                raise ValueError(f"{cells[t_col].strip()!r} is not a date and time") from None
            row = LoggerRow(number, taken_at, to_tenths(cells[v_col]))
        except ValueError as error:
            result.errors.append({"row": number, "message": str(error)})
            continue
        if taken_at in seen:
            result.duplicates.append(
                {"row": number, "first_row": seen[taken_at].row, "taken_at": taken_at.isoformat()}
            )
            continue
        seen[taken_at] = row
    result.rows = sorted(seen.values(), key=lambda r: r.taken_at)
    for before, after in zip(result.rows, result.rows[1:], strict=False):
        if after.taken_at - before.taken_at > gap:
            result.gaps.append(
                {
                    "from": before.taken_at.isoformat(),
                    "to": after.taken_at.isoformat(),
                    "minutes": int((after.taken_at - before.taken_at).total_seconds() // 60),
                }
            )
    return result
