"""Request and response shapes for equipment reprocessing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from server.reprocessing.rules import (
    BiResult,
    CleanMethod,
    DeviceKind,
    InspectResult,
    LoadStatus,
    Process,
    Spaulding,
    Status,
    StepKind,
    SterilizerKind,
)
from server.schemas import Id, Name, Read, Request

Note = Annotated[str, msgspec.Meta(max_length=1000)]
Ref = Annotated[str, msgspec.Meta(max_length=500)]
Initials = Annotated[str, msgspec.Meta(min_length=1, max_length=8, pattern=r"^[A-Za-z.\-]+$")]
LabelCode = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
CycleType = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[a-z0-9_ -]+$")]
CycleTypes = Annotated[list[CycleType], msgspec.Meta(min_length=1, max_length=10)]
Measure = Annotated[str, msgspec.Meta(max_length=16)]
BiLot = Annotated[str, msgspec.Meta(max_length=40)]
Codes = Annotated[list[LabelCode], msgspec.Meta(max_length=200)]
# Opaque: the clinic's own visit or chart reference, never a name or health number.
VisitCode = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
CiResult = Annotated[str, msgspec.Meta(pattern=r"^(pass|fail)$")]
ReadResult = Annotated[str, msgspec.Meta(pattern=r"^(negative|positive)$")]
LogKind = Annotated[str, msgspec.Meta(pattern=r"^(maintenance|repair)$")]


class SettingsIn(Request):
    bi_first_load_per_cycle_type: bool | None = None
    bowie_dick_daily: bool | None = None
    release_before_bi: bool | None = None


class SettingsRead(Read):
    bi_first_load_per_cycle_type: bool = True
    bowie_dick_daily: bool = True
    release_before_bi: bool = True


class DeviceCreate(Request):
    name: Name
    spaulding: Spaulding
    kind: DeviceKind = DeviceKind.DEVICE
    single_use: bool = False
    mifu: Ref = ""


class DeviceRead(Read):
    id: int
    name: str
    kind: DeviceKind
    spaulding: Spaulding
    required_process: Process
    single_use: bool
    mifu: str
    status: Status
    next_step: StepKind | None
    label_code: str


class StepIn(Request):
    """A step by scan: the device's or the pack's label code, and what was done."""

    code: LabelCode
    step: StepKind
    method: CleanMethod | None = None  # cleaning
    result: InspectResult | None = None  # inspection and function check
    process: Process | None = None  # disinfection: hld or lld
    initials: Initials | None = None  # packaging: printed on the pack label
    visit_code: VisitCode | None = None  # use at a visit
    solution_id: Id | None = None  # high-level disinfection
    soak_minutes: Annotated[int, msgspec.Meta(ge=1, le=600)] | None = None
    temperature_c: Measure | None = None
    note: Note = ""


class StepRead(Read):
    id: int
    device_id: int
    pack_id: int | None
    load_id: int | None
    step: StepKind
    from_status: Status
    to_status: Status
    method: str
    note: str
    actor: str
    actor_name: str
    at: datetime
    device_name: str = ""
    corrects: int | None = None  # this row corrects that step
    reason: str = ""  # why (a correction)
    corrected_by: int | None = None  # the correction of this step, when there is one


class StepPage(Read):
    steps: list[StepRead]
    next_cursor: str | None = None  # pass it back as cursor for the next page


Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=1000)]


class StepCorrectionIn(Request):
    """What a step record said wrongly: the cleaning method, the visit code or the note. The step's
    outcome (the item's status) is not changed by a correction: record the right step instead."""

    reason: Reason
    method: CleanMethod | None = None
    visit_code: VisitCode | None = None
    note: Note | None = None


class PackRead(Read):
    id: int
    device_id: int
    device_name: str
    load_id: int | None
    label_code: str
    status: str
    initials: str
    packaged_at: datetime


class StepResult(Read):
    device: DeviceRead
    step: StepRead
    pack: PackRead | None = None


class DeviceDetail(Read):
    device: DeviceRead
    steps: list[StepRead]
    packs: list[PackRead]


class ScanRead(Read):
    kind: str  # device | pack | sterilizer | unknown
    device: DeviceRead | None = None
    pack: PackRead | None = None
    sterilizer_id: int | None = None
    next_step: StepKind | None = None
    message: str = ""


class SterilizerCreate(Request):
    name: Name
    model: Name
    serial: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    kind: SterilizerKind
    cycle_types: CycleTypes
    licence: Annotated[str, msgspec.Meta(max_length=40)] = ""


class SterilizerRead(Read):
    id: int
    name: str
    model: str
    serial: str
    kind: SterilizerKind
    cycle_types: list[str]
    licence: str
    in_service: bool
    out_since: datetime | None
    label_code: str


class LogEntryIn(Request):
    kind: LogKind
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class ServiceChange(Request):
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class LogEntryRead(Read):
    id: int
    kind: str
    note: str
    actor: str
    actor_name: str
    at: datetime


class BowieDickIn(Request):
    passed: bool
    initials: Initials


class BowieDickRead(Read):
    id: int
    sterilizer_id: int
    day: date
    passed: bool
    initials: str
    actor_name: str
    at: datetime


class SterilizerDetail(Read):
    sterilizer: SterilizerRead
    log: list[LogEntryRead]
    bowie_dick: list[BowieDickRead]


class LoadCreate(Request):
    sterilizer_id: Id
    cycle_type: CycleType
    initials: Initials
    implant: bool = False
    purpose: Annotated[str, msgspec.Meta(pattern=r"^(load|bi_test)$")] = "load"
    packs: Codes = msgspec.field(default_factory=list)
    comment: Note = ""


class PacksIn(Request):
    packs: Annotated[list[LabelCode], msgspec.Meta(min_length=1, max_length=200)]


class ResultsIn(Request):
    """The end of the cycle: physical parameters (met, and values where the printout gives them),
    chemical indicators, and the BI placed (its lot) if one was."""

    physical_met: bool
    external_ci: CiResult
    internal_ci: CiResult
    temperature_c: Measure = ""
    minutes: Measure = ""
    pressure_kpa: Measure = ""
    printout: Ref = ""
    bi_lot: BiLot = ""
    comment: Note = ""


class BiIn(Request):
    result: ReadResult
    read_at: datetime | None = None


class LoadRead(Read):
    id: int
    sterilizer_id: int
    sterilizer_name: str
    day: date
    load_number: int
    started_at: datetime
    cycle_type: str
    purpose: str
    implant: bool
    bi_required: bool
    status: LoadStatus
    physical_met: bool | None
    temperature_c: str
    minutes: str
    pressure_kpa: str
    printout: str
    external_ci: str
    internal_ci: str
    bi_lot: str
    bi_result: BiResult
    bi_read_at: datetime | None
    operator_name: str
    operator_initials: str
    releaser_name: str
    released_at: datetime | None
    comment: str
    pack_count: int = 0
    release_problems: list[str] = msgspec.field(default_factory=list)
    corrections: int = 0  # how many corrections its results have had


class LoadPage(Read):
    loads: list[LoadRead]
    next_cursor: str | None = None  # pass it back as cursor for the next page


class LoadCorrectionIn(Request):
    """The load's results as they should have been recorded, and why. The load rules run again:
    a "no" or "fail" takes the failure path; a correction never un-fails a failed load."""

    reason: Reason
    physical_met: bool
    external_ci: CiResult
    internal_ci: CiResult
    temperature_c: Measure = ""
    minutes: Measure = ""
    pressure_kpa: Measure = ""
    printout: Ref = ""
    bi_lot: BiLot = ""
    bi_result: Annotated[str, msgspec.Meta(pattern=r"^(pending|negative|positive)$")] | None = None


class LoadCorrectionRead(Read):
    id: int
    load_id: int
    before: dict[str, object]
    after: dict[str, object]
    status_before: LoadStatus
    status_after: LoadStatus
    failures: list[str]
    reason: str
    actor_name: str
    at: datetime


class UseRead(Read):
    id: int
    device_id: int
    pack_id: int | None
    load_id: int | None
    visit_code: str
    at: datetime
    corrects: int | None = None
    corrected: bool = False  # a later use corrected this one's visit code


class LoadDetail(Read):
    load: LoadRead
    packs: list[PackRead]
    uses: list[UseRead]
    failure_id: int | None = None
    corrections: list[LoadCorrectionRead] = msgspec.field(default_factory=list)


class RecalledPack(Read):
    pack_id: int
    label_code: str
    device_id: int
    device_name: str
    load_id: int
    load_number: int
    load_day: date
    status_before: str
    visits: list[str]


class FailureRead(Read):
    id: int
    sterilizer_id: int
    load_id: int | None
    kind: str
    detail: str
    opened_at: datetime
    phu_notified_at: datetime | None
    phu_contact: str
    closed_at: datetime | None
    report: str


class FailureDetail(Read):
    failure: FailureRead
    loads: list[int]
    packs: list[RecalledPack]


class PhuIn(Request):
    contact: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    notified_at: datetime | None = None


class CloseIn(Request):
    report: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


class MissingItem(Read):
    code: str  # no_bi | no_bowie_dick | unreleased_load | bi_unread
    sterilizer_id: int
    sterilizer_name: str
    load_id: int | None = None
    message: str = ""


class MissingRead(Read):
    day: date
    items: list[MissingItem]


class VisitRead(Read):
    visit_code: str
    uses: list[UseRead]
    loads: list[LoadRead]


class SolutionCreate(Request):
    product: Name
    lot: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    activated_on: date
    reuse_life_days: Annotated[int, msgspec.Meta(ge=1, le=365)]


class SolutionRead(Read):
    id: int
    product: str
    lot: str
    activated_on: date
    expires_on: date
    discarded_at: datetime | None


class MecTestIn(Request):
    passed: bool
    strip_lot: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    strip_expires_on: date


class MecTestRead(Read):
    id: int
    solution_id: int
    passed: bool
    strip_lot: str
    strip_expires_on: date
    actor_name: str
    tested_at: datetime


class HldRecordRead(Read):
    id: int
    device_id: int
    device_name: str
    solution_id: int
    product: str
    lot: str
    expires_on: date
    mec_passed: bool
    strip_lot: str
    strip_expires_on: date
    soak_minutes: int
    temperature_c: str
    operator: str
    at: datetime


class HldPage(Read):
    records: list[HldRecordRead]
    next_cursor: str | None = None  # pass it back as cursor for the next page


class LogEntryRow(Read):
    """A log book entry in the review list (every sterilizer of the site)."""

    id: int
    sterilizer_id: int
    sterilizer_name: str
    kind: str
    note: str
    actor_name: str
    at: datetime


class LogPage(Read):
    entries: list[LogEntryRow]
    next_cursor: str | None = None  # pass it back as cursor for the next page


class BowieDickPage(Read):
    tests: list[BowieDickRead]
    next_cursor: str | None = None  # pass it back as cursor for the next page
