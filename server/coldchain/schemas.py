"""Request and response shapes for the cold chain. Temperatures are °C with one decimal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from server.coldchain.rules import Decision, SlotStatus
from server.schemas import Id, Read, Request

Temperature = Annotated[float, msgspec.Meta(ge=-90, le=60, description="°C, to 0.1")]
When = Annotated[datetime, msgspec.Meta(tz=True)]
Note = Annotated[str, msgspec.Meta(max_length=1000)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class ReadingIn(Request):
    current: Temperature
    min: Temperature
    max: Temperature
    reset: bool = True  # the min/max memory was cleared after this reading (domain §3: at each reading)
    taken_at: When | None = None  # now, unless a paper log is being entered afterwards
    initials: Annotated[str, msgspec.Meta(max_length=8)] = ""
    note: Note = ""


class ReadingRead(Read):
    id: int
    location_id: int
    taken_at: datetime
    current: float
    min: float | None
    max: float | None
    reset: bool
    source: str
    taken_by: str
    initials: str
    note: str
    incident_id: int | None
    corrects: int | None  # the reading this one corrects
    reason: str  # why (corrections)
    out_of_range: list[str]
    corrected: bool = False  # a later reading corrects this one (listed, but not charted or on the sheet)


class CorrectionIn(Request):
    current: Temperature
    min: Temperature
    max: Temperature
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    reset: bool = True
    initials: Annotated[str, msgspec.Meta(max_length=8)] = ""


class RangeIn(Request):
    low: Temperature
    high: Temperature


class FridgeRead(Read):
    location_id: int
    name: str
    kind: str
    label_code: str
    low: float
    high: float
    last_reading: ReadingRead | None
    open_incident_id: int | None


class ScheduleIn(Request):
    times: Annotated[str, msgspec.Meta(min_length=4, max_length=64, examples=["09:00,16:00"])]
    grace_minutes: Annotated[int, msgspec.Meta(ge=0, le=720)] = 60


class ScheduleRead(Read):
    times: list[str]
    grace_minutes: int
    timezone: str


class ClosedDayIn(Request):
    day: date
    note: Note = ""


class ClosedDayRead(Read):
    day: date
    note: str
    created_by: str


class SlotRead(Read):
    location_id: int
    location_name: str
    day: date
    time: str  # local wall-clock time, "09:00"
    due_at: datetime
    overdue_at: datetime
    status: SlotStatus


class IncidentLotRead(Read):
    lot_id: int
    item_name: str
    lot_number: str
    expiry: date | None
    quantity: int
    opened_vials: int
    status_before: str
    decision: str
    decided_by: str
    decided_at: datetime | None
    note: str


class IncidentRead(Read):
    id: int
    location_id: int
    location_name: str
    status: str
    since: datetime | None
    started_at: datetime
    ended_at: datetime | None
    lowest: float
    highest: float
    low: float
    high: float
    opened_by: str
    phu_notified_by: str
    phu_notified_at: datetime | None
    phu_contact: str
    logs_sent_by: str
    logs_sent_at: datetime | None
    closed_by: str
    closed_at: datetime | None
    summary: str
    lots: list[IncidentLotRead] = []


class ReadingResult(Read):
    reading: ReadingRead
    incident: IncidentRead | None
    message: str


class PhuNotifiedIn(Request):
    contact: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]  # who was called, case number
    at: When | None = None


class LogsSentIn(Request):
    note: Note = ""
    at: When | None = None


class DecisionIn(Request):
    lot_id: Id
    decision: Decision
    note: Note = ""


class CloseIn(Request):
    summary: Text


class LoggerImportIn(Request):
    csv: Annotated[str, msgspec.Meta(min_length=1, max_length=2_000_000)]
    dry_run: bool = True
    gap_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 30


class LoggerImportResult(Read):
    dry_run: bool
    rows: int
    imported: int
    already_recorded: int
    first: datetime | None
    last: datetime | None
    out_of_range: int
    incident_id: int | None
    errors: list[dict[str, object]]
    duplicates: list[dict[str, object]]
    gaps: list[dict[str, object]]
