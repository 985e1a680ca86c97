"""Fridges, their ranges and their temperature log: recording a reading (an out-of-range one opens
an incident in the same transaction), the reading schedule, closed days and what is due."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server import sql
from server.coldchain import incidents, rules
from server.coldchain.schemas import (
    ClosedDayIn,
    ClosedDayRead,
    CorrectionIn,
    FridgeRead,
    RangeIn,
    ReadingIn,
    ReadingRead,
    ReadingResult,
    ScheduleIn,
    ScheduleRead,
    SlotRead,
)
from server.coldchain.tables import (
    ClosedDay,
    ColdChainIncident,
    FridgeSetting,
    ReadingSchedule,
    TemperatureReading,
)
from server.core import audit
from server.core.auth import Principal
from server.core.service import site_zone
from server.core.tables import Location
from server.db import is_sqlite, write_transaction
from server.errors import Conflict, InvalidInput, NotFound, RuleViolation

FRIDGE_KINDS = ("fridge", "freezer")
FUTURE_SLACK = timedelta(minutes=5)  # phone clocks drift a little
MAX_PERIOD = timedelta(days=400)
# A logger every 5 min fills 100 days with ~29,000 rows: the cap keeps answers and charts bounded.
MAX_READINGS = 30_000


def invalid(field: str, message: str, code: str = "invalid_input") -> InvalidInput:
    return InvalidInput(f"{field}: {message}", code=code, fields=[{"field": field, "message": message}])


def tenths(field: str, value: float) -> int:
    try:
        return rules.to_tenths(value)
    except ValueError as error:
        raise invalid(field, str(error), "temperature_invalid") from None


# --- fridges ----------------------------------------------------------------------------------------


async def fridge_row(site_id: int, location_id: int, *, lock: bool = False) -> dict[str, Any]:
    """The place with its range (its own, or the default for its kind). ``lock`` (in a write, on
    PostgreSQL) serializes writes to one fridge's log, so two racing excursions open one incident.
    NO KEY UPDATE leaves stock movements into the fridge free (their foreign key takes KEY SHARE)."""
    query = Location.select(
        Location.id, Location.name, Location.kind, Location.label_code, Location.active
    ).where((Location.id == location_id) & (Location.site == site_id))
    if lock and not is_sqlite():
        query = query.lock_rows("NO KEY UPDATE")
    row = await query.first()
    if row is None:
        raise NotFound("This place does not exist at this site.", code="location_not_found")
    if row["kind"] not in FRIDGE_KINDS:
        raise RuleViolation("This place is not a fridge or a freezer.", code="not_a_fridge")
    setting = (
        await FridgeSetting.select(FridgeSetting.low_tenths, FridgeSetting.high_tenths)
        .where(FridgeSetting.location == location_id)
        .first()
    )
    low, high = (
        (setting["low_tenths"], setting["high_tenths"]) if setting else rules.default_range(row["kind"])
    )
    return {**row, "low": low, "high": high}


def reading_read(row: dict[str, Any], low: int, high: int) -> ReadingRead:
    return ReadingRead(
        id=row["id"],
        location_id=row["location"],
        taken_at=row["taken_at"],
        current=row["current_tenths"] / 10,
        min=rules.celsius(row["min_tenths"]),
        max=rules.celsius(row["max_tenths"]),
        reset=row["reset"],
        source=row["source"],
        taken_by=row["taken_by"],
        initials=row["initials"],
        note=row["note"],
        incident_id=row["incident"],
        corrects=row["corrects"],
        reason=row["reason"],
        out_of_range=rules.out_of_range(
            row["current_tenths"], row["min_tenths"], row["max_tenths"], low, high
        ),
    )


_LAST_READING_IDS = """
SELECT (SELECT r.id FROM temperature_reading r WHERE r.location = l.id
        ORDER BY r.taken_at DESC, r.id DESC LIMIT 1) AS id
FROM location l WHERE l.site = {} AND l.kind IN ('fridge', 'freezer')
"""


def _fridge_read(
    place: dict[str, Any], low: int, high: int, last: dict[str, Any] | None, incident_id: int | None
) -> FridgeRead:
    return FridgeRead(
        location_id=place["id"],
        name=place["name"],
        kind=place["kind"],
        label_code=place["label_code"],
        low=low / 10,
        high=high / 10,
        last_reading=reading_read(last, low, high) if last else None,
        open_incident_id=incident_id,
    )


async def list_fridges(site_id: int) -> list[FridgeRead]:
    """Every active unit with its range, last reading and open incident: four queries, any number
    of units (the last reading per unit comes from the (location, taken_at) index)."""
    places = (
        await Location.select(Location.id, Location.name, Location.kind, Location.label_code)
        .where(
            (Location.site == site_id) & Location.kind.is_in(list(FRIDGE_KINDS)) & Location.active.eq(True)
        )
        .order_by(Location.name)
    )
    if not places:
        return []
    ranges = {
        int(r["location"]): (int(r["low_tenths"]), int(r["high_tenths"]))
        for r in await FridgeSetting.select(
            FridgeSetting.location, FridgeSetting.low_tenths, FridgeSetting.high_tenths
        ).where(FridgeSetting.site == site_id)
    }
    ids = [int(r["id"]) for r in await sql.fetch(_LAST_READING_IDS, site_id) if r["id"] is not None]
    last = (
        {
            int(r["location"]): r
            for r in await TemperatureReading.select().where(TemperatureReading.id.is_in(ids))
        }
        if ids
        else {}
    )
    open_ = {
        int(r["location"]): int(r["id"])
        for r in await ColdChainIncident.select(ColdChainIncident.id, ColdChainIncident.location).where(
            (ColdChainIncident.site == site_id) & (ColdChainIncident.status == incidents.OPEN)
        )
    }
    result = []
    for place in places:
        low, high = ranges.get(int(place["id"]), rules.default_range(place["kind"]))
        result.append(_fridge_read(place, low, high, last.get(int(place["id"])), open_.get(int(place["id"]))))
    return result


async def fridge_status(site_id: int, location_id: int) -> FridgeRead:
    fridge = await fridge_row(site_id, location_id)
    last = (
        await TemperatureReading.select()
        .where(TemperatureReading.location == location_id)
        .order_by(TemperatureReading.taken_at, ascending=False)
        .order_by(TemperatureReading.id, ascending=False)
        .first()
    )
    incident = await incidents.open_incident(location_id)
    return _fridge_read(
        fridge, fridge["low"], fridge["high"], last, int(incident["id"]) if incident else None
    )


async def set_range(
    principal: Principal, site_id: int, location_id: int, data: RangeIn, *, now: datetime
) -> FridgeRead:
    low, high = tenths("low", data.low), tenths("high", data.high)
    if low >= high:
        raise invalid("high", "must be above the low end of the range", "range_invalid")
    async with write_transaction():
        await fridge_row(site_id, location_id)
        await FridgeSetting.insert(
            FridgeSetting(site=site_id, location=location_id, low_tenths=low, high_tenths=high)
        ).on_conflict(target=FridgeSetting.location, action="DO NOTHING")
        await FridgeSetting.update(
            {
                FridgeSetting.low_tenths: low,
                FridgeSetting.high_tenths: high,
                FridgeSetting.updated_by: principal.actor,
                FridgeSetting.updated_at: now,
            }
        ).where(FridgeSetting.location == location_id)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="coldchain.range",
            entity="location",
            entity_id=location_id,
            payload={"low": data.low, "high": data.high},
            now=now,
        )
        return await fridge_status(site_id, location_id)


# --- readings ---------------------------------------------------------------------------------------


def _check_values(current_c: float, min_c: float, max_c: float) -> tuple[int, int, int]:
    current, low, high = tenths("current", current_c), tenths("min", min_c), tenths("max", max_c)
    if not low <= current <= high:
        raise invalid("min", "min must be at or below current, and max at or above it", "min_max_order")
    return current, low, high


def _check_reading(data: ReadingIn, now: datetime) -> tuple[int, int, int, datetime]:
    current, low, high = _check_values(data.current, data.min, data.max)
    taken_at = data.taken_at or now
    if taken_at > now + FUTURE_SLACK:
        raise invalid("taken_at", "is in the future", "taken_at_future")
    return current, low, high, taken_at


async def _log(
    principal: Principal,
    site_id: int,
    location_id: int,
    values: tuple[int, int, int],
    taken_at: datetime,
    *,
    extra: dict[str, Any],
    action: str,
    now: datetime,
) -> ReadingResult:
    """Insert one manual reading (or a correction); out of range (current, min or max) opens or
    extends the fridge's incident and holds every lot in it, in this same transaction."""
    current, minimum, maximum = values
    fridge = await fridge_row(site_id, location_id, lock=True)
    out = rules.out_of_range(current, minimum, maximum, fridge["low"], fridge["high"])
    incident_id = None
    if out:
        incident_id = await incidents.excursion(principal, site_id, fridge, [*values], taken_at, now=now)
    else:
        await incidents.back_in_range(location_id, taken_at)
    inserted = await TemperatureReading.insert(
        TemperatureReading(
            site=site_id,
            location=location_id,
            taken_at=taken_at,
            current_tenths=current,
            min_tenths=minimum,
            max_tenths=maximum,
            source="manual",
            taken_by=principal.actor,
            incident=incident_id,
            recorded_at=now,
            **extra,
        )
    ).returning(*TemperatureReading.all_columns())
    reading = reading_read(inserted[0], fridge["low"], fridge["high"])
    await audit.append(
        actor=principal.actor,
        site_id=site_id,
        action=action,
        entity="temperature_reading",
        entity_id=reading.id,
        payload={
            "location_id": location_id,
            "taken_at": taken_at.isoformat(),
            "current": reading.current,
            "min": reading.min,
            "max": reading.max,
            "reset": reading.reset,
            "out_of_range": out,
            "incident_id": incident_id,
            "corrects": reading.corrects,
            "reason": reading.reason,
        },
        now=now,
    )
    incident = await incidents.get_incident(site_id, incident_id) if incident_id else None
    if incident is None:
        message = "Reading recorded. The fridge is in range."
    else:
        message = (
            f"Out of range ({', '.join(out)}). {len(incident.lots)} lot(s) in this fridge are now on hold: "
            "DO NOT USE. Keep them at 2-8 °C and call the public health unit now."
        )
    return ReadingResult(reading=reading, incident=incident, message=message)


async def record_reading(
    principal: Principal, site_id: int, location_id: int, data: ReadingIn, *, now: datetime
) -> ReadingResult:
    current, minimum, maximum, taken_at = _check_reading(data, now)
    extra = {"reset": data.reset, "initials": data.initials.strip(), "note": data.note}
    async with write_transaction():
        return await _log(
            principal,
            site_id,
            location_id,
            (current, minimum, maximum),
            taken_at,
            extra=extra,
            action="coldchain.reading",
            now=now,
        )


async def correct_reading(
    principal: Principal,
    site_id: int,
    location_id: int,
    reading_id: int,
    data: CorrectionIn,
    *,
    now: datetime,
) -> ReadingResult:
    """A correction is a new reading for the same time that names the one it corrects, with a
    reason; the original stays (append-only). An out-of-range correction holds the stock as any
    reading does; an in-range one does not release what the original held (the incident decides)."""
    values = _check_values(data.current, data.min, data.max)
    async with write_transaction():
        original = (
            await TemperatureReading.select(
                TemperatureReading.id, TemperatureReading.taken_at, TemperatureReading.source
            )
            .where(
                (TemperatureReading.id == reading_id)
                & (TemperatureReading.location == location_id)
                & (TemperatureReading.site == site_id)
            )
            .first()
        )
        if original is None:
            raise NotFound("This reading is not in this fridge's log.", code="reading_not_found")
        if original["source"] != "manual":
            raise RuleViolation(
                "Data logger readings are kept as the logger recorded them.", code="logger_reading"
            )
        if await TemperatureReading.exists().where(TemperatureReading.corrects == reading_id):
            raise Conflict(
                "This reading is already corrected: correct the correction.", code="already_corrected"
            )
        extra = {
            "reset": data.reset,
            "initials": data.initials.strip(),
            "note": "",
            "corrects": reading_id,
            "reason": data.reason,
        }
        return await _log(
            principal,
            site_id,
            location_id,
            values,
            original["taken_at"],
            extra=extra,
            action="coldchain.correction",
            now=now,
        )


def check_period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise invalid("to", "must be after from", "period_invalid")
    if end - start > MAX_PERIOD:
        raise invalid("to", "the period is longer than 400 days", "period_too_long")


async def readings_between(
    site_id: int, location_id: int, start: datetime, end: datetime
) -> list[ReadingRead]:
    check_period(start, end)
    fridge = await fridge_row(site_id, location_id)
    rows = (
        await TemperatureReading.select()
        .where(
            (TemperatureReading.location == location_id)
            & (TemperatureReading.taken_at >= start)
            & (TemperatureReading.taken_at < end)
        )
        .order_by(TemperatureReading.taken_at)
        .order_by(TemperatureReading.id)
        .limit(MAX_READINGS + 1)
    )
    if len(rows) > MAX_READINGS:
        raise invalid(
            "to", f"more than {MAX_READINGS} readings in this period: choose a shorter one", "period_too_long"
        )
    corrected = {r["corrects"] for r in rows if r["corrects"] is not None}
    result = [reading_read(r, fridge["low"], fridge["high"]) for r in rows]
    for reading in result:
        reading.corrected = reading.id in corrected
    return result


# --- schedule, closed days, due readings ------------------------------------------------------------


async def get_schedule(site_id: int) -> ScheduleRead:
    zone = await site_zone(site_id)
    row = await ReadingSchedule.select().where(ReadingSchedule.site == site_id).first()
    times = rules.parse_times(row["times"]) if row else list(rules.DEFAULT_TIMES)
    grace = int(row["grace_minutes"]) if row else int(rules.DEFAULT_GRACE.total_seconds() // 60)
    return ScheduleRead(times=[t.strftime("%H:%M") for t in times], grace_minutes=grace, timezone=zone.key)


async def set_schedule(
    principal: Principal, site_id: int, data: ScheduleIn, *, now: datetime
) -> ScheduleRead:
    try:
        times = rules.format_times(rules.parse_times(data.times))
    except ValueError as error:
        raise invalid("times", str(error), "times_invalid") from None
    async with write_transaction():
        await ReadingSchedule.insert(ReadingSchedule(site=site_id)).on_conflict(
            target=ReadingSchedule.site, action="DO NOTHING"
        )
        await ReadingSchedule.update(
            {
                ReadingSchedule.times: times,
                ReadingSchedule.grace_minutes: data.grace_minutes,
                ReadingSchedule.updated_by: principal.actor,
                ReadingSchedule.updated_at: now,
            }
        ).where(ReadingSchedule.site == site_id)
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="coldchain.schedule",
            entity="site",
            entity_id=site_id,
            payload={"times": times, "grace_minutes": data.grace_minutes},
            now=now,
        )
    return await get_schedule(site_id)


async def mark_closed(
    principal: Principal, site_id: int, data: ClosedDayIn, *, now: datetime
) -> ClosedDayRead:
    async with write_transaction():
        exists = await ClosedDay.exists().where((ClosedDay.site == site_id) & (ClosedDay.day == data.day))
        if exists:
            raise Conflict("This day is already marked closed.", code="already_closed")
        await ClosedDay.insert(
            ClosedDay(site=site_id, day=data.day, note=data.note, created_by=principal.actor, created_at=now)
        )
        await audit.append(
            actor=principal.actor,
            site_id=site_id,
            action="coldchain.closed_day",
            entity="site",
            entity_id=site_id,
            payload={"day": data.day.isoformat(), "note": data.note},
            now=now,
        )
    return ClosedDayRead(day=data.day, note=data.note, created_by=principal.actor)


async def closed_days(site_id: int, start: date, end: date) -> list[ClosedDayRead]:
    rows = (
        await ClosedDay.select()
        .where((ClosedDay.site == site_id) & (ClosedDay.day >= start) & (ClosedDay.day <= end))
        .order_by(ClosedDay.day)
    )
    return [ClosedDayRead(day=r["day"], note=r["note"], created_by=r["created_by"]) for r in rows]


async def due_readings(
    site_id: int, day: date | None, *, now: datetime, only_missing: bool
) -> list[SlotRead]:
    """Every fridge's reading slots of the site's local day (today by default), with their status."""
    zone = await site_zone(site_id)
    sched = await get_schedule(site_id)
    times = rules.parse_times(",".join(sched.times))
    grace = timedelta(minutes=sched.grace_minutes)
    day = day or now.astimezone(zone).date()
    closed = [c.day for c in await closed_days(site_id, day, day)]
    window = rules.day_slots(day, times, zone)
    taken_at: dict[int, list[datetime]] = {}
    for r in await TemperatureReading.select(TemperatureReading.location, TemperatureReading.taken_at).where(
        (TemperatureReading.site == site_id)
        & (TemperatureReading.source == "manual")
        & (TemperatureReading.taken_at >= window[0].window_start)
        & (TemperatureReading.taken_at < window[-1].window_end)
    ):
        taken_at.setdefault(int(r["location"]), []).append(r["taken_at"])
    result: list[SlotRead] = []
    for fridge in await list_fridges(site_id):
        taken = taken_at.get(fridge.location_id, [])
        states = rules.schedule([day], times, zone, taken, now, grace, closed)
        if only_missing:
            states = rules.missing(states)
        result.extend(_slot_read(fridge.location_id, fridge.name, s, grace) for s in states)
    return result


def _slot_read(location_id: int, name: str, state: rules.SlotState, grace: timedelta) -> SlotRead:
    return SlotRead(
        location_id=location_id,
        location_name=name,
        day=state.slot.day,
        time=state.slot.at.strftime("%H:%M"),
        due_at=state.slot.due_at,
        overdue_at=state.slot.due_at + grace,
        status=state.status,
    )


# Every active fridge at every active site, with its site's zone and reading schedule: what the
# missed-reading sweep starts from, one query however many sites.
_SWEEP_FRIDGES = """
SELECT loc.id, loc.name, loc.site, s.timezone, rs.times, rs.grace_minutes
FROM location loc
JOIN site s ON s.id = loc.site
LEFT JOIN reading_schedule rs ON rs.site = loc.site
WHERE loc.active = {} AND s.active = {} AND loc.kind IN ('fridge', 'freezer')
ORDER BY loc.site, loc.name
"""


async def overdue_everywhere(*, now: datetime) -> list[tuple[int, SlotRead]]:
    """Overdue manual readings of today (each site's local day) at every site: the alert sweep's
    input in three queries; the slots then come from the pure schedule rules in each site's zone."""
    fridges = await sql.fetch(_SWEEP_FRIDGES, True, True)
    if not fridges:
        return []
    zones: dict[str, ZoneInfo] = {}
    plan: list[tuple[dict[str, Any], ZoneInfo, date, list[time], list[rules.Slot]]] = []
    for f in fridges:
        zone = zones.setdefault(f["timezone"], ZoneInfo(f["timezone"]))
        times = rules.parse_times(f["times"]) if f["times"] else list(rules.DEFAULT_TIMES)
        day = now.astimezone(zone).date()
        plan.append((f, zone, day, times, rules.day_slots(day, times, zone)))
    start = min(p[4][0].window_start for p in plan)
    end = max(p[4][-1].window_end for p in plan)
    taken: dict[int, list[datetime]] = {}
    # By fridge: each is one range of the (location, taken_at) index, however many logger rows.
    for r in await TemperatureReading.select(TemperatureReading.location, TemperatureReading.taken_at).where(
        TemperatureReading.location.is_in([int(f["id"]) for f in fridges])
        & (TemperatureReading.source == "manual")
        & (TemperatureReading.taken_at >= start)
        & (TemperatureReading.taken_at < end)
    ):
        taken.setdefault(int(r["location"]), []).append(r["taken_at"])
    days = sorted({p[2] for p in plan})
    closed = {
        (int(r["site"]), r["day"])
        for r in await ClosedDay.select(ClosedDay.site, ClosedDay.day).where(ClosedDay.day.is_in(days))
    }
    found: list[tuple[int, SlotRead]] = []
    for f, zone, day, times, _slots in plan:
        site_id = int(f["site"])
        minutes = f["grace_minutes"]
        grace = rules.DEFAULT_GRACE if minutes is None else timedelta(minutes=int(minutes))
        shut = [day] if (site_id, day) in closed else []
        states = rules.schedule([day], times, zone, taken.get(int(f["id"]), []), now, grace, shut)
        found.extend(
            (site_id, _slot_read(int(f["id"]), f["name"], s, grace))
            for s in states
            if s.status is rules.SlotStatus.OVERDUE
        )
    return found
