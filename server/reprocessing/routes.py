"""HTTP routes for equipment reprocessing: assistants record steps, loads and results by scan;
managers manage devices and sterilizers and release loads; inspectors read and export."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.params import JSONBody, Parameter
from litestar.response import Stream

from server.clock import utcnow
from server.core.permissions import manage_site, read_site, write_site
from server.core.service import site_zone
from server.http import Caller, IdempotencyKey, once
from server.reprocessing import (
    corrections,
    devices,
    hld,
    loads,
    logbook,
    paging,
    printing,
    records,
    review,
    sterilizers,
)
from server.reprocessing.records import RecordFilter
from server.reprocessing.review import LoadFilter
from server.reprocessing.rules import LoadStatus, Status, StepKind
from server.reprocessing.schemas import (
    BiIn,
    BowieDickIn,
    BowieDickPage,
    BowieDickRead,
    CloseIn,
    DeviceCreate,
    DeviceDetail,
    DeviceRead,
    FailureDetail,
    FailureRead,
    HldPage,
    LoadCorrectionIn,
    LoadCreate,
    LoadDetail,
    LoadPage,
    LoadRead,
    LogEntryIn,
    LogEntryRead,
    LogPage,
    MecTestIn,
    MecTestRead,
    MissingRead,
    PacksIn,
    PhuIn,
    ResultsIn,
    ScanRead,
    ServiceChange,
    SettingsIn,
    SettingsRead,
    SolutionCreate,
    SolutionRead,
    StepCorrectionIn,
    StepIn,
    StepPage,
    StepRead,
    StepResult,
    SterilizerCreate,
    SterilizerDetail,
    SterilizerRead,
    VisitRead,
)
from server.schemas import MAX_ID, PathId

BASE = "/api/sites/{site_id:int}/reprocessing"
Req = Request[Any, Any, Any]
SterilizerFilter = Annotated[int | None, Parameter(ge=1, le=MAX_ID, description="Only this sterilizer.")]
FromDay = Annotated[date | None, Parameter(description="From this local day at the site.")]
ToDay = Annotated[date | None, Parameter(description="To this local day at the site, inclusive.")]
Cursor = Annotated[str, Parameter(max_length=200, description="next_cursor of the previous page.")]
Limit = Annotated[int, Parameter(ge=1, le=paging.MAX_LIMIT, description="Rows per page.")]
DeviceFilter = Annotated[int | None, Parameter(ge=1, le=MAX_ID, description="Only this device.")]


def _pdf(body: bytes, name: str) -> Response[bytes]:
    return Response(
        body, media_type="application/pdf", headers={"content-disposition": f'inline; filename="{name}"'}
    )


class SettingsController(Controller):
    path = f"{BASE}/settings"
    tags = ["reprocessing"]

    @get("/", guards=[read_site], summary="Reprocessing rules chosen by the site")
    async def get_settings(self, site_id: PathId) -> SettingsRead:
        return await devices.get_settings(site_id)

    @put(
        "/",
        guards=[manage_site],
        summary="Change the site's reprocessing rules",
        description="BI on the first load of each cycle type each day, daily Bowie-Dick, and release of "
        "non-implant loads on a passing internal CI before the BI reads: all on by default.",
    )
    async def put_settings(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        data: JSONBody[SettingsIn],
        idempotency_key: IdempotencyKey,
    ) -> SettingsRead:
        return await once(
            request,
            idempotency_key,
            principal,
            SettingsRead,
            lambda: devices.set_settings(principal, site_id, data, now=utcnow()),
        )


class DeviceController(Controller):
    path = f"{BASE}/devices"
    tags = ["reprocessing"]

    @get("/", guards=[read_site], summary="Devices and instrument sets")
    async def list_devices(
        self,
        site_id: PathId,
        status: Annotated[Status | None, Parameter(description="Only this status.")] = None,
    ) -> list[DeviceRead]:
        return await devices.list_devices(site_id, status)

    @post("/", guards=[manage_site], summary="Register a device or instrument set")
    async def create_device(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        data: JSONBody[DeviceCreate],
        idempotency_key: IdempotencyKey,
    ) -> DeviceRead:
        return await once(
            request,
            idempotency_key,
            principal,
            DeviceRead,
            lambda: devices.create_device(principal, site_id, data, now=utcnow()),
        )

    @get("/{device_id:int}", guards=[read_site], summary="A device with its steps and packs")
    async def get_device(self, site_id: PathId, device_id: PathId) -> DeviceDetail:
        return await devices.device_detail(site_id, device_id)

    @get(
        "/{device_id:int}/label.pdf",
        guards=[read_site],
        summary="The device's label",
        media_type="application/pdf",
    )
    async def device_label(self, site_id: PathId, device_id: PathId) -> Response[bytes]:
        return _pdf(await printing.device_label(site_id, device_id), f"device-{device_id}.pdf")


class StepController(Controller):
    path = BASE
    tags = ["reprocessing"]

    @get("/scan", guards=[read_site], summary="What a device, pack or sterilizer label is, and its next step")
    async def scan(self, site_id: PathId, code: Annotated[str, Parameter(max_length=200)]) -> ScanRead:
        return await devices.scan(site_id, code)

    @post(
        "/steps",
        guards=[write_site],
        summary="Record a reprocessing step by scan",
        description="Point-of-use clean, clean, inspect, package (makes a pack with its label code), "
        "disinfect, store, use at a visit (opaque visit code). Out of order is refused with the reason.",
    )
    async def record_step(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        data: JSONBody[StepIn],
        idempotency_key: IdempotencyKey,
    ) -> StepResult:
        return await once(
            request,
            idempotency_key,
            principal,
            StepResult,
            lambda: devices.record_step(principal, site_id, data, now=utcnow()),
        )

    @get(
        "/steps",
        guards=[read_site],
        summary="Reprocessing records: the steps done, by days, device, step and resulting status",
        description="Oldest first, keyset pages (next_cursor). A correction is its own row naming the "
        "step it corrects (corrects, reason); the corrected step names it (corrected_by).",
    )
    async def list_steps(
        self,
        site_id: PathId,
        from_date: FromDay = None,
        to_date: ToDay = None,
        device_id: DeviceFilter = None,
        step: Annotated[StepKind | None, Parameter(description="Only this step.")] = None,
        status: Annotated[Status | None, Parameter(description="Only steps that left this status.")] = None,
        cursor: Cursor = "",
        limit: Limit = paging.DEFAULT_LIMIT,
    ) -> StepPage:
        f = RecordFilter(from_date, to_date, device_id=device_id, step=step, status=status)
        return await records.steps(site_id, f, cursor=cursor, limit=limit)

    @post(
        "/steps/{step_id:int}/correct",
        guards=[write_site],
        summary="Correct a step record",
        description="A new step row naming the one it corrects, with a reason: the cleaning method, the "
        "visit code of a use or the note. By the person who recorded it or a manager; the status is "
        "not changed (record the right step for that).",
    )
    async def correct_step(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        step_id: PathId,
        data: JSONBody[StepCorrectionIn],
        idempotency_key: IdempotencyKey,
    ) -> StepRead:
        return await once(
            request,
            idempotency_key,
            principal,
            StepRead,
            lambda: corrections.correct_step(principal, site_id, step_id, data, now=utcnow()),
        )

    @get(
        "/packs/{pack_id:int}/label.pdf",
        guards=[read_site],
        summary="One pack's label",
        media_type="application/pdf",
    )
    async def pack_label(self, site_id: PathId, pack_id: PathId) -> Response[bytes]:
        return _pdf(await printing.pack_label(site_id, pack_id), f"pack-{pack_id}.pdf")

    @get("/missing", guards=[read_site], summary="What the day's reprocessing log is missing")
    async def missing(
        self, site_id: PathId, day: Annotated[date, Parameter(description="The site's local day.")]
    ) -> MissingRead:
        return await review.missing(site_id, day)

    @get("/visits", guards=[read_site], summary="Loads by visit", description="What was used at one visit.")
    async def visit(
        self, site_id: PathId, visit_code: Annotated[str, Parameter(min_length=1, max_length=64)]
    ) -> VisitRead:
        return await review.visit(site_id, visit_code)


class SterilizerController(Controller):
    path = f"{BASE}/sterilizers"
    tags = ["reprocessing"]

    @get("/", guards=[read_site], summary="Sterilizers")
    async def list_sterilizers(self, site_id: PathId) -> list[SterilizerRead]:
        return await sterilizers.list_sterilizers(site_id)

    @post("/", guards=[manage_site], summary="Register a sterilizer")
    async def create(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        data: JSONBody[SterilizerCreate],
        idempotency_key: IdempotencyKey,
    ) -> SterilizerRead:
        return await once(
            request,
            idempotency_key,
            principal,
            SterilizerRead,
            lambda: sterilizers.create_sterilizer(principal, site_id, data, now=utcnow()),
        )

    @get(
        "/log",
        guards=[read_site],
        summary="The sterilizers' log books (maintenance, repair, service), by sterilizer and days",
    )
    async def log_book(
        self,
        site_id: PathId,
        sterilizer_id: SterilizerFilter = None,
        from_date: FromDay = None,
        to_date: ToDay = None,
        cursor: Cursor = "",
        limit: Limit = paging.DEFAULT_LIMIT,
    ) -> LogPage:
        f = RecordFilter(from_date, to_date, sterilizer_id=sterilizer_id)
        return await records.log_book(site_id, f, cursor=cursor, limit=limit)

    @get("/bowie-dick", guards=[read_site], summary="Bowie-Dick tests, by sterilizer, days and result")
    async def bowie_dick_tests(
        self,
        site_id: PathId,
        sterilizer_id: SterilizerFilter = None,
        from_date: FromDay = None,
        to_date: ToDay = None,
        passed: Annotated[bool | None, Parameter(description="Only passed (true) or failed (false).")] = None,
        cursor: Cursor = "",
        limit: Limit = paging.DEFAULT_LIMIT,
    ) -> BowieDickPage:
        f = RecordFilter(from_date, to_date, sterilizer_id=sterilizer_id, passed=passed)
        return await records.bowie_dick(site_id, f, cursor=cursor, limit=limit)

    @get("/{sterilizer_id:int}", guards=[read_site], summary="A sterilizer's log book and Bowie-Dick tests")
    async def detail(self, site_id: PathId, sterilizer_id: PathId) -> SterilizerDetail:
        return await sterilizers.sterilizer_detail(site_id, sterilizer_id)

    @post(
        "/{sterilizer_id:int}/log", guards=[manage_site], summary="Add maintenance or repair to the log book"
    )
    async def add_log(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        sterilizer_id: PathId,
        data: JSONBody[LogEntryIn],
        idempotency_key: IdempotencyKey,
    ) -> LogEntryRead:
        return await once(
            request,
            idempotency_key,
            principal,
            LogEntryRead,
            lambda: sterilizers.add_log(principal, site_id, sterilizer_id, data, now=utcnow()),
        )

    @post(
        "/{sterilizer_id:int}/out-of-service",
        guards=[manage_site],
        summary="Take a sterilizer out of service",
    )
    async def out_of_service(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        sterilizer_id: PathId,
        data: JSONBody[ServiceChange],
        idempotency_key: IdempotencyKey,
    ) -> SterilizerRead:
        return await once(
            request,
            idempotency_key,
            principal,
            SterilizerRead,
            lambda: sterilizers.out_of_service(principal, site_id, sterilizer_id, data, now=utcnow()),
        )

    @post(
        "/{sterilizer_id:int}/in-service",
        guards=[manage_site],
        summary="Put a sterilizer back in service",
        description="After a positive BI: only once 3 consecutive BI test cycles read negative.",
    )
    async def in_service(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        sterilizer_id: PathId,
        data: JSONBody[ServiceChange],
        idempotency_key: IdempotencyKey,
    ) -> SterilizerRead:
        return await once(
            request,
            idempotency_key,
            principal,
            SterilizerRead,
            lambda: sterilizers.back_in_service(principal, site_id, sterilizer_id, data, now=utcnow()),
        )

    @post("/{sterilizer_id:int}/bowie-dick", guards=[write_site], summary="Record today's Bowie-Dick test")
    async def bowie_dick(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        sterilizer_id: PathId,
        data: JSONBody[BowieDickIn],
        idempotency_key: IdempotencyKey,
    ) -> BowieDickRead:
        return await once(
            request,
            idempotency_key,
            principal,
            BowieDickRead,
            lambda: sterilizers.record_bowie_dick(principal, site_id, sterilizer_id, data, now=utcnow()),
        )


class LoadController(Controller):
    path = f"{BASE}/loads"
    tags = ["reprocessing"]

    @get(
        "/",
        guards=[read_site],
        summary="The loads log, by sterilizer, days and status",
        description="Oldest first, keyset pages: pass next_cursor back as cursor for the next page.",
    )
    async def list_loads(
        self,
        site_id: PathId,
        sterilizer_id: SterilizerFilter = None,
        from_date: FromDay = None,
        to_date: ToDay = None,
        status: Annotated[LoadStatus | None, Parameter(description="Only this status.")] = None,
        cursor: Cursor = "",
        limit: Limit = paging.DEFAULT_LIMIT,
    ) -> LoadPage:
        f = LoadFilter(sterilizer_id, from_date, to_date, status)
        return await review.list_loads(site_id, f, cursor=cursor, limit=limit)

    @get(
        "/export.csv",
        guards=[read_site],
        summary="The loads log as CSV (PHO log columns)",
        media_type="text/csv",
    )
    async def export_csv(
        self,
        site_id: PathId,
        sterilizer_id: SterilizerFilter = None,
        from_date: FromDay = None,
        to_date: ToDay = None,
    ) -> Stream:
        return Stream(
            review.export_csv(site_id, LoadFilter(sterilizer_id, from_date, to_date)),
            media_type="text/csv",
            headers={"content-disposition": f'attachment; filename="sterilizer-loads-site-{site_id}.csv"'},
        )

    @get(
        "/export.pdf",
        guards=[read_site],
        summary="The sterilization monitoring log as PDF (PHO layout, with the audit-chain range)",
        media_type="application/pdf",
    )
    async def export_pdf(
        self,
        site_id: PathId,
        sterilizer_id: SterilizerFilter = None,
        from_date: FromDay = None,
        to_date: ToDay = None,
    ) -> Response[bytes]:
        body = await logbook.export_pdf(site_id, LoadFilter(sterilizer_id, from_date, to_date))
        return _pdf(body, f"sterilization-log-site-{site_id}.pdf")

    @post(
        "/",
        guards=[write_site],
        summary="Start a load",
        description="Checks the sterilizer is in service, today's Bowie-Dick test (pre-vacuum), and "
        "decides whether the load needs a BI. Packs are added by their label codes.",
    )
    async def create(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        data: JSONBody[LoadCreate],
        idempotency_key: IdempotencyKey,
    ) -> LoadRead:
        return await once(
            request,
            idempotency_key,
            principal,
            LoadRead,
            lambda: loads.create_load(principal, site_id, data, now=utcnow()),
        )

    @get("/{load_id:int}", guards=[read_site], summary="A load with its packs and the visits they went to")
    async def detail(self, site_id: PathId, load_id: PathId) -> LoadDetail:
        return await loads.load_detail(site_id, load_id)

    @get(
        "/{load_id:int}/labels.pdf",
        guards=[read_site],
        summary="The load's pack labels",
        media_type="application/pdf",
    )
    async def labels(self, site_id: PathId, load_id: PathId) -> Response[bytes]:
        return _pdf(await printing.load_labels(site_id, load_id), f"load-{load_id}-labels.pdf")

    @post("/{load_id:int}/packs", guards=[write_site], summary="Add scanned packs to a load")
    async def add_packs(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        load_id: PathId,
        data: JSONBody[PacksIn],
        idempotency_key: IdempotencyKey,
    ) -> LoadRead:
        return await once(
            request,
            idempotency_key,
            principal,
            LoadRead,
            lambda: loads.add_packs(principal, site_id, load_id, data, now=utcnow()),
        )

    @post(
        "/{load_id:int}/results",
        guards=[write_site],
        summary="Record the cycle's results",
        description="Physical parameters, external and internal CI, BI lot. Any 'no' or 'fail' opens a "
        "failure record and sends the packs back to be reprocessed.",
    )
    async def results(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        load_id: PathId,
        data: JSONBody[ResultsIn],
        idempotency_key: IdempotencyKey,
    ) -> LoadRead:
        return await once(
            request,
            idempotency_key,
            principal,
            LoadRead,
            lambda: loads.record_results(principal, site_id, load_id, data, now=utcnow()),
        )

    @post(
        "/{load_id:int}/bi",
        guards=[write_site],
        summary="Record the BI result",
        description="Positive: the sterilizer goes out of service and every load since its last negative BI "
        "is recalled, with the visits its packs went to.",
    )
    async def bi(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        load_id: PathId,
        data: JSONBody[BiIn],
        idempotency_key: IdempotencyKey,
    ) -> LoadRead:
        return await once(
            request,
            idempotency_key,
            principal,
            LoadRead,
            lambda: loads.record_bi(principal, site_id, load_id, data, now=utcnow()),
        )

    @post("/{load_id:int}/release", guards=[manage_site], summary="Release a load (its packs become usable)")
    async def release(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        load_id: PathId,
        idempotency_key: IdempotencyKey,
    ) -> LoadRead:
        return await once(
            request,
            idempotency_key,
            principal,
            LoadRead,
            lambda: loads.release(principal, site_id, load_id, now=utcnow()),
        )

    @post(
        "/{load_id:int}/correct",
        guards=[manage_site],
        summary="Correct a load's results",
        description="Managers: the physical parameters, chemical indicators, BI lot and result as they "
        "should have been recorded, and why. Kept with the values before; the load rules run again "
        "(a fail or a positive BI takes the failure path, recalling released packs); a failed load "
        "stays failed.",
    )
    async def correct(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        load_id: PathId,
        data: JSONBody[LoadCorrectionIn],
        idempotency_key: IdempotencyKey,
    ) -> LoadDetail:
        return await once(
            request,
            idempotency_key,
            principal,
            LoadDetail,
            lambda: corrections.correct_load(principal, site_id, load_id, data, now=utcnow()),
        )


class FailureController(Controller):
    path = f"{BASE}/failures"
    tags = ["reprocessing"]

    @get("/", guards=[read_site], summary="Failures and recalls, by sterilizer, days and open or closed")
    async def list_failures(
        self,
        site_id: PathId,
        sterilizer_id: SterilizerFilter = None,
        from_date: FromDay = None,
        to_date: ToDay = None,
        open_only: Annotated[
            bool | None, Parameter(description="Only open (true) or closed (false).")
        ] = None,
    ) -> list[FailureRead]:
        start, end = review.day_bounds(await site_zone(site_id), from_date, to_date)
        return await loads.list_failures(
            site_id, sterilizer_id=sterilizer_id, start=start, end=end, open_only=open_only
        )

    @get(
        "/{failure_id:int}", guards=[read_site], summary="A failure with its recalled packs and their visits"
    )
    async def detail(self, site_id: PathId, failure_id: PathId) -> FailureDetail:
        return await loads.failure_detail(site_id, failure_id)

    @get(
        "/{failure_id:int}/report.pdf",
        guards=[read_site],
        summary="The failure report: loads, packs and visits recalled, the PHU call, the repeat BI tests",
        media_type="application/pdf",
    )
    async def report(self, site_id: PathId, failure_id: PathId) -> Response[bytes]:
        return _pdf(await logbook.failure_pdf(site_id, failure_id), f"failure-{failure_id}.pdf")

    @post("/{failure_id:int}/phu", guards=[manage_site], summary="Record the call to the public health unit")
    async def phu(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        failure_id: PathId,
        data: JSONBody[PhuIn],
        idempotency_key: IdempotencyKey,
    ) -> FailureRead:
        return await once(
            request,
            idempotency_key,
            principal,
            FailureRead,
            lambda: loads.notify_phu(principal, site_id, failure_id, data, now=utcnow()),
        )

    @post("/{failure_id:int}/close", guards=[manage_site], summary="Close a failure with its written report")
    async def close(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        failure_id: PathId,
        data: JSONBody[CloseIn],
        idempotency_key: IdempotencyKey,
    ) -> FailureRead:
        return await once(
            request,
            idempotency_key,
            principal,
            FailureRead,
            lambda: loads.close_failure(principal, site_id, failure_id, data, now=utcnow()),
        )


class HldController(Controller):
    path = f"{BASE}/hld"
    tags = ["reprocessing"]

    @get("/solutions", guards=[read_site], summary="High-level disinfectant solutions")
    async def list_solutions(self, site_id: PathId) -> list[SolutionRead]:
        return await hld.list_solutions(site_id)

    @post(
        "/solutions", guards=[write_site], summary="Activate or open a solution (reuse life from its label)"
    )
    async def create_solution(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        data: JSONBody[SolutionCreate],
        idempotency_key: IdempotencyKey,
    ) -> SolutionRead:
        return await once(
            request,
            idempotency_key,
            principal,
            SolutionRead,
            lambda: hld.create_solution(principal, site_id, data, now=utcnow()),
        )

    @post("/solutions/{solution_id:int}/discard", guards=[write_site], summary="Discard a solution")
    async def discard(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        solution_id: PathId,
        idempotency_key: IdempotencyKey,
    ) -> SolutionRead:
        return await once(
            request,
            idempotency_key,
            principal,
            SolutionRead,
            lambda: hld.discard(principal, site_id, solution_id, now=utcnow()),
        )

    @post(
        "/solutions/{solution_id:int}/mec-tests",
        guards=[write_site],
        summary="Record a minimum effective concentration test (before each use)",
    )
    async def mec_test(
        self,
        request: Req,
        principal: Caller,
        site_id: PathId,
        solution_id: PathId,
        data: JSONBody[MecTestIn],
        idempotency_key: IdempotencyKey,
    ) -> MecTestRead:
        return await once(
            request,
            idempotency_key,
            principal,
            MecTestRead,
            lambda: hld.record_mec(principal, site_id, solution_id, data, now=utcnow()),
        )

    @get("/log", guards=[read_site], summary="The HLD log, by the site's local days and device")
    async def log(
        self,
        site_id: PathId,
        from_date: FromDay = None,
        to_date: ToDay = None,
        device_id: DeviceFilter = None,
        cursor: Cursor = "",
        limit: Limit = paging.DEFAULT_LIMIT,
    ) -> HldPage:
        f = RecordFilter(from_date, to_date, device_id=device_id)
        return await records.hld_log(site_id, f, cursor=cursor, limit=limit)


ROUTES = [
    HldController,
    SettingsController,
    DeviceController,
    StepController,
    SterilizerController,
    LoadController,
    FailureController,
]
