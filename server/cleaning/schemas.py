"""Request and response shapes for room cleaning."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from server.cleaning.rules import AuditMethod, DueState, PlanKind
from server.schemas import Id, Name, Read, Request

ItemText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Items = Annotated[list[ItemText], msgspec.Meta(min_length=1, max_length=60)]
Product = Annotated[str, msgspec.Meta(max_length=200)]
Din = Annotated[str, msgspec.Meta(max_length=16, pattern=r"^[0-9]{0,16}$")]
ContactSeconds = Annotated[int, msgspec.Meta(ge=1, le=3600)]
DueTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Weekday = Annotated[int, msgspec.Meta(ge=0, le=6)]
Minutes = Annotated[int, msgspec.Meta(ge=1, le=10_080)]
Reason = Annotated[str, msgspec.Meta(max_length=500)]
Note = Annotated[str, msgspec.Meta(max_length=1000)]
# Opaque: the clinic's own visit or chart reference, never a name or health number.
VisitCode = Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[A-Za-z0-9._-]*$")]


class PlanCreate(Request):
    room_id: Id
    kind: PlanKind
    name: Name
    items: Items
    product: Product = ""
    din: Din = ""
    contact_seconds: ContactSeconds | None = None
    due_time: DueTime | None = None
    weekday: Weekday | None = None
    due_within_minutes: Minutes | None = None


class PlanUpdate(Request):
    """Omitted fields stay. Items, product, DIN or contact time make a new version."""

    name: Name | None = None
    items: Items | None = None
    product: Product | None = None
    din: Din | None = None
    contact_seconds: ContactSeconds | None = None
    due_time: DueTime | None = None
    weekday: Weekday | None = None
    due_within_minutes: Minutes | None = None
    active: bool | None = None


class PlanRead(Read):
    id: int
    room_id: int
    room_name: str
    kind: PlanKind
    name: str
    due_time: str
    weekday: int | None
    due_within_minutes: int | None
    active: bool
    version: int
    version_id: int
    items: list[str]
    product: str
    din: str
    contact_seconds: int | None
    created_at: datetime
    retired_at: datetime | None = None


class TemplateRead(Read):
    """A default checklist (PIDAC clinical office list) a new plan of this kind can start from."""

    kind: PlanKind
    name: str
    items: list[str]


class DefaultsIn(Request):
    """The disinfectant for the new plans (from its label); managers can change it per plan later."""

    product: Product = ""
    din: Din = ""
    contact_seconds: ContactSeconds | None = None


class DefaultsResult(Read):
    created: list[PlanRead]


class RequestIn(Request):
    note: Note = ""


class RequestRead(Read):
    id: int
    plan_id: int
    requested_at: datetime
    requested_by: str


class PlanStatus(Read):
    plan: PlanRead
    state: DueState
    due_at: datetime | None
    since: datetime | None
    last_done_at: datetime | None


class RoomChecklist(Read):
    room_id: int
    room_name: str
    plans: list[PlanStatus]


class TaskRead(Read):
    plan_id: int
    plan_name: str
    kind: PlanKind
    room_id: int
    room_name: str
    state: DueState
    due_at: datetime | None
    since: datetime | None


class ItemIn(Request):
    position: Annotated[int, msgspec.Meta(ge=0, le=59)]
    done: bool
    skip_reason: Reason = ""


class LogCreate(Request):
    plan_id: Id
    # The version the checklist was shown from (an offline phone may hold an older one).
    version: Annotated[int, msgspec.Meta(ge=1)]
    started_at: datetime
    ended_at: datetime
    items: Annotated[list[ItemIn], msgspec.Meta(max_length=60)]
    product: Product | None = None
    din: Din | None = None
    visit_code: VisitCode = ""
    note: Note = ""


class LogCorrection(Request):
    """The cleaning as it really was, against the same checklist version, and why it is corrected;
    or, with ``void``, that it should not have been logged (not done, wrong room or plan)."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    void: bool = False
    # Omitted: as in the original log.
    started_at: datetime | None = None
    ended_at: datetime | None = None
    items: Annotated[list[ItemIn], msgspec.Meta(max_length=60)] | None = None
    product: Product | None = None
    din: Din | None = None
    visit_code: VisitCode | None = None
    note: Note | None = None


class LogItemRead(Read):
    position: int
    text: str
    done: bool
    skip_reason: str


class LogRead(Read):
    id: int
    room_id: int
    room_name: str
    plan_id: int
    plan_name: str
    kind: PlanKind
    version: int
    product: str
    din: str
    contact_seconds: int | None
    started_at: datetime
    ended_at: datetime
    actor: str
    actor_name: str
    visit_code: str
    note: str
    items_done: int
    items_skipped: int
    items: list[LogItemRead] = []
    corrects: int | None = None  # the log this one corrects
    reason: str = ""  # why (corrections)
    corrected_by: int | None = None  # the later log that corrects this one (then this one no longer counts)
    void: bool = False  # a correction that withdraws the log it corrects (it counts as nothing)


class LogPage(Read):
    logs: list[LogRead]
    next_cursor: str | None = None


class AuditCreate(Request):
    room_id: Id
    method: AuditMethod
    passed: bool
    audited_at: datetime
    plan_id: Id | None = None
    # Percent for a visual or fluorescent check, RLU for ATP: whatever the clinic's method scores.
    score: Annotated[int, msgspec.Meta(ge=0, le=100_000)] | None = None
    comments: Note = ""


class AuditRead(Read):
    id: int
    room_id: int
    room_name: str
    plan_id: int | None
    method: AuditMethod
    passed: bool
    score: int | None
    comments: str
    audited_at: datetime
    actor: str
    actor_name: str


class ComplianceRead(Read):
    room_id: int
    room_name: str
    plan_id: int
    plan_name: str
    kind: PlanKind
    week: str
    expected: int
    on_time: int
    late: int
    missed: int
    on_time_percent: float | None
