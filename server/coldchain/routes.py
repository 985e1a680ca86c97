"""Cold chain routes: assistants record readings; managers set ranges and schedules and run
incidents; everyone at the site (inspectors too) reads the logs."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post, put
from litestar.params import JSONBody, Parameter, QueryParameter

from server.clock import utcnow
from server.coldchain import chart, incidents, loggers, outputs, readings, sheet
from server.coldchain.schemas import (
    ClosedDayIn,
    ClosedDayRead,
    CloseIn,
    CorrectionIn,
    DecisionIn,
    FridgeRead,
    IncidentRead,
    LoggerImportIn,
    LoggerImportResult,
    LogsSentIn,
    PhuNotifiedIn,
    RangeIn,
    ReadingIn,
    ReadingRead,
    ReadingResult,
    ScheduleIn,
    ScheduleRead,
    SlotRead,
)
from server.core.permissions import manage_site, read_site, write_site
from server.core.service import site_zone
from server.errors import InvalidInput
from server.http import Caller, IdempotencyKey, once
from server.schemas import PathId

FromDay = Annotated[
    date | None, QueryParameter(name="from", description="First local day (default: 30 days ago).")
]
ToDay = Annotated[
    date | None, QueryParameter(name="to", description="Last local day, included (default: today).")
]


async def _period(site_id: int, start: date | None, end: date | None) -> tuple[datetime, datetime]:
    """Local days [from, to] as UTC instants in the site's time zone."""
    zone = await site_zone(site_id)
    today = utcnow().astimezone(zone).date()
    end = end or today
    start = start or end - timedelta(days=30)
    if end < start:
        raise InvalidInput(
            "to: must not be before from",
            code="period_invalid",
            fields=[{"field": "to", "message": "is before from"}],
        )
    lo = datetime.combine(start, time(0), tzinfo=zone)
    hi = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone)
    return lo, hi


class FridgeController(Controller):
    path = "/api/sites/{site_id:int}/coldchain/fridges"
    tags = ["cold chain"]

    @get(
        "/",
        guards=[read_site],
        summary="Fridges and freezers",
        description="Range, last reading, open incident.",
    )
    async def list_fridges(self, site_id: PathId) -> list[FridgeRead]:
        return await readings.list_fridges(site_id)

    @get("/{location_id:int}", guards=[read_site], summary="One fridge")
    async def get_fridge(self, site_id: PathId, location_id: PathId) -> FridgeRead:
        return await readings.fridge_status(site_id, location_id)

    @put(
        "/{location_id:int}/range",
        guards=[manage_site],
        summary="Set a fridge's range",
        description="Default +2.0 to +8.0 °C for fridges, -50.0 to -15.0 °C for freezers.",
    )
    async def set_range(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        location_id: PathId,
        data: JSONBody[RangeIn],
        idempotency_key: IdempotencyKey,
    ) -> FridgeRead:
        return await once(
            request,
            idempotency_key,
            principal,
            FridgeRead,
            lambda: readings.set_range(principal, site_id, location_id, data, now=utcnow()),
        )

    @post(
        "/{location_id:int}/readings",
        guards=[write_site],
        summary="Record a reading",
        description="Current, min and max to 0.1 °C. Outside the range (any of the three): an incident "
        "opens at once and every lot in the fridge is held as DO NOT USE, in the same transaction.",
    )
    async def record_reading(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        location_id: PathId,
        data: JSONBody[ReadingIn],
        idempotency_key: IdempotencyKey,
    ) -> ReadingResult:
        return await once(
            request,
            idempotency_key,
            principal,
            ReadingResult,
            lambda: readings.record_reading(principal, site_id, location_id, data, now=utcnow()),
        )

    @post(
        "/{location_id:int}/readings/{reading_id:int}/correct",
        guards=[write_site],
        summary="Correct a reading",
        description="A new reading for the same time that names the one it corrects, with a reason; the "
        "original stays in the log. Out of range, it holds the stock like any reading.",
    )
    async def correct_reading(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        location_id: PathId,
        reading_id: PathId,
        data: JSONBody[CorrectionIn],
        idempotency_key: IdempotencyKey,
    ) -> ReadingResult:
        return await once(
            request,
            idempotency_key,
            principal,
            ReadingResult,
            lambda: readings.correct_reading(principal, site_id, location_id, reading_id, data, now=utcnow()),
        )

    @get("/{location_id:int}/readings", guards=[read_site], summary="A fridge's readings for a period")
    async def list_readings(
        self, site_id: PathId, location_id: PathId, start: FromDay = None, end: ToDay = None
    ) -> list[ReadingRead]:
        lo, hi = await _period(site_id, start, end)
        return await readings.readings_between(site_id, location_id, lo, hi)

    @get(
        "/{location_id:int}/chart.svg",
        guards=[read_site],
        summary="Temperature chart (SVG)",
        description="Current, min and max over the period, the allowed band shaded, excursions in red.",
        media_type="image/svg+xml",
    )
    async def chart_svg(
        self, site_id: PathId, location_id: PathId, start: FromDay = None, end: ToDay = None
    ) -> Response[str]:
        lo, hi = await _period(site_id, start, end)
        fridge = await readings.fridge_status(site_id, location_id)
        rows = await readings.readings_between(site_id, location_id, lo, hi)
        zone = await site_zone(site_id)
        return Response(chart.render(fridge, rows, lo, hi, zone), media_type="image/svg+xml")

    @get(
        "/{location_id:int}/readings.csv",
        guards=[read_site],
        summary="Export a fridge's readings as CSV",
        media_type="text/csv",
    )
    async def export_readings(
        self, site_id: PathId, location_id: PathId, start: FromDay = None, end: ToDay = None
    ) -> Response[str]:
        lo, hi = await _period(site_id, start, end)
        rows = await readings.readings_between(site_id, location_id, lo, hi)
        name = f"temperatures-{location_id}-{lo.date()}-{(hi - timedelta(days=1)).date()}.csv"
        return Response(
            sheet.readings_csv(rows, await site_zone(site_id)),
            media_type="text/csv",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    @get(
        "/{location_id:int}/log-sheet.pdf",
        guards=[read_site],
        summary="Monthly temperature log sheet (PDF)",
        description="Like the paper form: a row per day; time, current, min, max and initials per reading "
        "time; closed days; out-of-range values in red with *; missing readings marked.",
        media_type="application/pdf",
    )
    async def log_sheet(
        self,
        site_id: PathId,
        location_id: PathId,
        month: Annotated[str, Parameter(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")],
    ) -> Response[bytes]:
        pdf = await outputs.month_sheet_pdf(site_id, location_id, month, now=utcnow())
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "content-disposition": f'attachment; filename="temperature-log-{location_id}-{month}.pdf"'
            },
        )

    @post(
        "/{location_id:int}/logger-import",
        guards=[write_site],
        summary="Import a data-logger CSV",
        description="Columns timestamp and temperature (°C); times without an offset are the site's local "
        "time. dry_run (default) only reports. Bad rows, duplicates and gaps are listed; a bad header "
        "imports nothing (400 csv_header_invalid). Out-of-range rows open an incident.",
    )
    async def import_logger(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        location_id: PathId,
        data: JSONBody[LoggerImportIn],
        idempotency_key: IdempotencyKey,
    ) -> LoggerImportResult:
        return await once(
            request,
            idempotency_key,
            principal,
            LoggerImportResult,
            lambda: loggers.import_logger(principal, site_id, location_id, data, now=utcnow()),
        )


class ScheduleController(Controller):
    path = "/api/sites/{site_id:int}/coldchain"
    tags = ["cold chain"]

    @get("/schedule", guards=[read_site], summary="Reading times and grace period")
    async def get_schedule(self, site_id: PathId) -> ScheduleRead:
        return await readings.get_schedule(site_id)

    @put(
        "/schedule",
        guards=[manage_site],
        summary="Set the reading times",
        description='Times in the site\'s time zone, e.g. "09:00,16:00"; past the grace period a missing '
        "reading is overdue.",
    )
    async def set_schedule(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[ScheduleIn],
        idempotency_key: IdempotencyKey,
    ) -> ScheduleRead:
        return await once(
            request,
            idempotency_key,
            principal,
            ScheduleRead,
            lambda: readings.set_schedule(principal, site_id, data, now=utcnow()),
        )

    @get("/closed-days", guards=[read_site], summary="Days marked closed")
    async def list_closed(
        self, site_id: PathId, start: FromDay = None, end: ToDay = None
    ) -> list[ClosedDayRead]:
        lo, hi = await _period(site_id, start, end)
        return await readings.closed_days(site_id, lo.date(), (hi - timedelta(days=1)).date())

    @post("/closed-days", guards=[manage_site], summary="Mark a day closed (no readings due)")
    async def mark_closed(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[ClosedDayIn],
        idempotency_key: IdempotencyKey,
    ) -> ClosedDayRead:
        return await once(
            request,
            idempotency_key,
            principal,
            ClosedDayRead,
            lambda: readings.mark_closed(principal, site_id, data, now=utcnow()),
        )

    @get(
        "/due",
        guards=[read_site],
        summary="Readings due today (My tasks)",
        description="Each fridge's reading slots of the site's local day: done, upcoming, due, overdue "
        "(past the grace period) or closed. missing=true lists only due and overdue ones.",
    )
    async def due(
        self,
        site_id: PathId,
        day: Annotated[date | None, Parameter(description="Local day (default: today).")] = None,
        missing: Annotated[bool, Parameter(description="Only due and overdue readings.")] = False,
    ) -> list[SlotRead]:
        return await readings.due_readings(site_id, day, now=utcnow(), only_missing=missing)


class IncidentController(Controller):
    path = "/api/sites/{site_id:int}/coldchain/incidents"
    tags = ["cold chain"]

    @get("/", guards=[read_site], summary="Cold chain incidents, newest first")
    async def list_incidents(
        self,
        site_id: PathId,
        status: Annotated[Literal["open", "closed"] | None, Parameter(description="open or closed.")] = None,
    ) -> list[IncidentRead]:
        return await incidents.list_incidents(site_id, status=status)

    @get("/{incident_id:int}", guards=[read_site], summary="One incident with its lots")
    async def get_incident(self, site_id: PathId, incident_id: PathId) -> IncidentRead:
        return await incidents.get_incident(site_id, incident_id)

    @get(
        "/{incident_id:int}/report.pdf",
        guards=[read_site],
        summary="Incident report (PDF) for the public health unit",
        description="The excursion, the steps taken, every lot with quantities and opened vials, and the "
        "readings from `weeks` (default 4) before it to its end.",
        media_type="application/pdf",
    )
    async def report_pdf(
        self,
        site_id: PathId,
        incident_id: PathId,
        weeks: Annotated[int, Parameter(ge=1, le=8, description="Weeks of readings before it.")] = 4,
    ) -> Response[bytes]:
        pdf = await outputs.incident_report_pdf(site_id, incident_id, weeks, now=utcnow())
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"content-disposition": f'attachment; filename="coldchain-incident-{incident_id}.pdf"'},
        )

    @post(
        "/{incident_id:int}/phu-notified", guards=[manage_site], summary="The public health unit was called"
    )
    async def phu_notified(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        incident_id: PathId,
        data: JSONBody[PhuNotifiedIn],
        idempotency_key: IdempotencyKey,
    ) -> IncidentRead:
        return await once(
            request,
            idempotency_key,
            principal,
            IncidentRead,
            lambda: incidents.phu_notified(principal, site_id, incident_id, data, now=utcnow()),
        )

    @post("/{incident_id:int}/logs-sent", guards=[manage_site], summary="The temperature logs were sent")
    async def logs_sent(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        incident_id: PathId,
        data: JSONBody[LogsSentIn],
        idempotency_key: IdempotencyKey,
    ) -> IncidentRead:
        return await once(
            request,
            idempotency_key,
            principal,
            IncidentRead,
            lambda: incidents.logs_sent(principal, site_id, incident_id, data, now=utcnow()),
        )

    @post(
        "/{incident_id:int}/decisions",
        guards=[manage_site],
        summary="Decide for one lot",
        description="released: usable again; discarded: what is left in the fridge is wasted (reason "
        "cold_chain); returned: what is left goes back (return movement). Once per lot.",
    )
    async def decide(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        incident_id: PathId,
        data: JSONBody[DecisionIn],
        idempotency_key: IdempotencyKey,
    ) -> IncidentRead:
        return await once(
            request,
            idempotency_key,
            principal,
            IncidentRead,
            lambda: incidents.decide(principal, site_id, incident_id, data, now=utcnow()),
        )

    @post(
        "/{incident_id:int}/close",
        guards=[manage_site],
        summary="Close with a summary",
        description="Refused until the public health unit call is recorded, the fridge is back in range "
        "and every lot has a decision.",
    )
    async def close(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        incident_id: PathId,
        data: JSONBody[CloseIn],
        idempotency_key: IdempotencyKey,
    ) -> IncidentRead:
        return await once(
            request,
            idempotency_key,
            principal,
            IncidentRead,
            lambda: incidents.close(principal, site_id, incident_id, data, now=utcnow()),
        )


ROUTES = [FridgeController, ScheduleController, IncidentController]
