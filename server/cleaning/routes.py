"""HTTP routes for room cleaning: plans (managers), scan-to-log (assistants), reports (inspectors)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import JSONBody, Parameter

from server.cleaning import plans, reports, rules, service
from server.cleaning.reports import LogFilter
from server.cleaning.schemas import (
    AuditCreate,
    AuditRead,
    ComplianceRead,
    DefaultsIn,
    DefaultsResult,
    LogCorrection,
    LogCreate,
    LogPage,
    LogRead,
    PlanCreate,
    PlanRead,
    PlanUpdate,
    RequestIn,
    RequestRead,
    RoomChecklist,
    TaskRead,
    TemplateRead,
)
from server.clock import utcnow
from server.core.permissions import manage_site, read_site, write_site
from server.core.service import site_zone
from server.errors import InvalidInput
from server.http import Caller, IdempotencyKey, once
from server.schemas import MAX_ID, PathId

RoomId = Annotated[int | None, Parameter(ge=1, le=MAX_ID, description="Only this room.")]
PlanId = Annotated[int | None, Parameter(ge=1, le=MAX_ID, description="Only this plan.")]
Start = Annotated[datetime | None, Parameter(description="From this time (ISO 8601 with offset).")]
End = Annotated[datetime | None, Parameter(description="Before this time (ISO 8601 with offset).")]
FromDate = Annotated[
    date | None, Parameter(description="From this local day at the site (instead of start).")
]
ToDate = Annotated[
    date | None, Parameter(description="To this local day at the site, inclusive (instead of end).")
]


async def _filter(
    site_id: int,
    room_id: int | None,
    plan_id: int | None,
    start: datetime | None,
    end: datetime | None,
    from_date: date | None = None,
    to_date: date | None = None,
) -> LogFilter:
    """Times need their offset; days (from_date, to_date inclusive) are the site's local days."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(
                "Give times with their offset, such as 2026-06-01T00:00:00-04:00.",
                code="time_without_offset",
                fields=[{"field": name, "message": "Add the UTC offset."}],
            )
    if from_date is not None or to_date is not None:
        tz = await site_zone(site_id)
        if from_date is not None:
            start = datetime.combine(from_date, time(0), tzinfo=tz)
        if to_date is not None:
            end = datetime.combine(to_date + timedelta(days=1), time(0), tzinfo=tz)
    return LogFilter(room_id=room_id, plan_id=plan_id, start=start, end=end)


def _attachment(name: str, site_id: int) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="cleaning-site-{site_id}-{name}"'}


class PlanController(Controller):
    path = "/api/sites/{site_id:int}/cleaning/plans"
    tags = ["cleaning"]

    @get("/", guards=[read_site], summary="Cleaning plans", description="With their current checklist.")
    async def list_plans(
        self,
        site_id: PathId,
        room_id: RoomId = None,
        include_inactive: Annotated[bool, Parameter(description="Also retired plans.")] = False,
    ) -> list[PlanRead]:
        return await plans.list_plans(site_id, room_id=room_id, include_inactive=include_inactive)

    @post("/", guards=[manage_site], summary="Add a cleaning plan to a room")
    async def create_plan(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[PlanCreate],
        idempotency_key: IdempotencyKey,
    ) -> PlanRead:
        return await once(
            request,
            idempotency_key,
            principal,
            PlanRead,
            lambda: plans.create_plan(principal, site_id, data, now=utcnow()),
        )

    @get(
        "/templates",
        guards=[read_site],
        summary="Default checklists",
        description="Between patients, end of day and terminal, from the PIDAC clinical office list: "
        "what a new plan of that kind starts from.",
    )
    async def templates(self, site_id: PathId) -> list[TemplateRead]:  # noqa: ARG002  (the guard reads it)
        return [TemplateRead(kind=k, name=n, items=list(items)) for k, n, items in rules.DEFAULT_PLANS]

    @post(
        "/defaults",
        guards=[manage_site],
        summary="Default plans for rooms without one",
        description="Between patients, end of day and terminal, from the PIDAC clinical office list, "
        "with the disinfectant given (product, DIN, contact time from its label).",
    )
    async def create_defaults(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[DefaultsIn],
        idempotency_key: IdempotencyKey,
    ) -> DefaultsResult:
        return await once(
            request,
            idempotency_key,
            principal,
            DefaultsResult,
            lambda: plans.create_defaults(principal, site_id, data, now=utcnow()),
        )

    @get("/{plan_id:int}", guards=[read_site], summary="One cleaning plan")
    async def get_plan(self, site_id: PathId, plan_id: PathId) -> PlanRead:
        return await plans.get_plan(site_id, plan_id)

    @patch(
        "/{plan_id:int}",
        guards=[manage_site],
        summary="Change a cleaning plan",
        description="A new checklist, product, DIN or contact time makes a new version; "
        "past logs keep theirs.",
    )
    async def update_plan(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        plan_id: PathId,
        data: JSONBody[PlanUpdate],
        idempotency_key: IdempotencyKey,
    ) -> PlanRead:
        return await once(
            request,
            idempotency_key,
            principal,
            PlanRead,
            lambda: plans.update_plan(principal, site_id, plan_id, data, now=utcnow()),
        )

    @post(
        "/{plan_id:int}/requests",
        guards=[write_site],
        summary="Ask for an on-demand cleaning",
        description="A between-patients or terminal plan becomes due until a log follows.",
    )
    async def request_cleaning(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        plan_id: PathId,
        data: JSONBody[RequestIn],
        idempotency_key: IdempotencyKey,
    ) -> RequestRead:
        return await once(
            request,
            idempotency_key,
            principal,
            RequestRead,
            lambda: plans.request_cleaning(principal, site_id, plan_id, data, now=utcnow()),
        )


class CleaningController(Controller):
    path = "/api/sites/{site_id:int}/cleaning"
    tags = ["cleaning"]

    @get(
        "/rooms/{room_id:int}",
        guards=[read_site],
        summary="A room's checklists",
        description="What scanning the room's door label opens: its plans, overdue and due first.",
    )
    async def room(self, site_id: PathId, room_id: PathId) -> RoomChecklist:
        return await service.room_checklist(site_id, room_id, now=utcnow())

    @get("/tasks", guards=[read_site], summary="Due and overdue cleaning", description="Overdue first.")
    async def tasks(self, site_id: PathId) -> list[TaskRead]:
        return await service.tasks(site_id, now=utcnow())

    @post(
        "/logs",
        guards=[write_site],
        summary="Complete a checklist",
        description="Once per Idempotency-Key: an offline completion sent again is recorded once.",
    )
    async def complete(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[LogCreate],
        idempotency_key: IdempotencyKey,
    ) -> LogRead:
        return await once(
            request,
            idempotency_key,
            principal,
            LogRead,
            lambda: service.complete(principal, site_id, data, now=utcnow()),
        )

    @get("/logs/{log_id:int}", guards=[read_site], summary="One cleaning log", description="With its items.")
    async def get_log(self, site_id: PathId, log_id: PathId) -> LogRead:
        return await reports.get_log(site_id, log_id)

    @post(
        "/logs/{log_id:int}/correct",
        guards=[write_site],
        summary="Correct a cleaning log",
        description="A new log of the same plan and checklist version that names the one it corrects, "
        "with a reason; the original stays in the records, marked as corrected, and no longer counts. "
        "By whoever logged it or a manager; once per log (a later fix corrects the correction).",
    )
    async def correct(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        log_id: PathId,
        data: JSONBody[LogCorrection],
        idempotency_key: IdempotencyKey,
    ) -> LogRead:
        return await once(
            request,
            idempotency_key,
            principal,
            LogRead,
            lambda: service.correct(principal, site_id, log_id, data, now=utcnow()),
        )

    @get(
        "/logs",
        guards=[read_site],
        summary="Cleaning logs",
        description="Newest first, by room, plan, dates.",
    )
    async def list_logs(
        self,
        site_id: PathId,
        room_id: RoomId = None,
        plan_id: PlanId = None,
        start: Start = None,
        end: End = None,
        from_date: FromDate = None,
        to_date: ToDate = None,
        cursor: Annotated[str, Parameter(max_length=200, description="next_cursor of the last page.")] = "",
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    ) -> LogPage:
        f = await _filter(site_id, room_id, plan_id, start, end, from_date, to_date)
        return await reports.list_logs(site_id, f, cursor=cursor, limit=limit)

    @get("/logs/export.csv", guards=[read_site], summary="Cleaning logs as CSV", media_type="text/csv")
    async def export_csv(
        self,
        site_id: PathId,
        room_id: RoomId = None,
        plan_id: PlanId = None,
        start: Start = None,
        end: End = None,
        from_date: FromDate = None,
        to_date: ToDate = None,
    ) -> Response[str]:
        body = await reports.export_csv(
            site_id, await _filter(site_id, room_id, plan_id, start, end, from_date, to_date)
        )
        return Response(body, media_type="text/csv", headers=_attachment("logs.csv", site_id))

    @get("/logs/export.pdf", guards=[read_site], summary="Cleaning logs as PDF", media_type="application/pdf")
    async def export_pdf(
        self,
        site_id: PathId,
        room_id: RoomId = None,
        plan_id: PlanId = None,
        start: Start = None,
        end: End = None,
        from_date: FromDate = None,
        to_date: ToDate = None,
    ) -> Response[bytes]:
        body = await reports.export_pdf(
            site_id, await _filter(site_id, room_id, plan_id, start, end, from_date, to_date)
        )
        return Response(body, media_type="application/pdf", headers=_attachment("logs.pdf", site_id))

    @get(
        "/compliance",
        guards=[read_site],
        summary="On-time cleaning per room, plan and week",
        description="Local ISO weeks; default the last 28 days. Open occurrences are not counted yet.",
    )
    async def compliance(
        self,
        site_id: PathId,
        room_id: RoomId = None,
        plan_id: PlanId = None,
        start: Start = None,
        end: End = None,
        from_date: FromDate = None,
        to_date: ToDate = None,
    ) -> list[ComplianceRead]:
        return await reports.compliance(
            site_id, await _filter(site_id, room_id, plan_id, start, end, from_date, to_date), now=utcnow()
        )

    @post(
        "/audits",
        guards=[manage_site],
        summary="Record a cleaning audit",
        description="Visual, fluorescent, ATP.",
    )
    async def record_audit(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[AuditCreate],
        idempotency_key: IdempotencyKey,
    ) -> AuditRead:
        return await once(
            request,
            idempotency_key,
            principal,
            AuditRead,
            lambda: reports.record_audit(principal, site_id, data, now=utcnow()),
        )

    @get("/audits", guards=[read_site], summary="Cleaning audits", description="Newest first.")
    async def list_audits(
        self,
        site_id: PathId,
        room_id: RoomId = None,
        plan_id: PlanId = None,
        start: Start = None,
        end: End = None,
        from_date: FromDate = None,
        to_date: ToDate = None,
    ) -> list[AuditRead]:
        return await reports.list_audits(
            site_id, await _filter(site_id, room_id, plan_id, start, end, from_date, to_date)
        )


ROUTES = [PlanController, CleaningController]
