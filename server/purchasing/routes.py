"""HTTP routes for reordering: suppliers and suggestions and orders (managers), receiving against an
order (assistants too), documents and reports (every role at the site, inspectors included)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import JSONBody, Parameter

from server.clock import utcnow
from server.core.permissions import manage_site, read_site, write_site
from server.errors import NotFound
from server.http import Caller, IdempotencyKey, once
from server.purchasing import dashboard, documents, phu, reports, service
from server.purchasing.rules import OrderStatus
from server.purchasing.schemas import (
    CancelIn,
    CloseLineIn,
    DashboardRead,
    DraftsIn,
    DraftsResult,
    LineUpdate,
    OrderRead,
    ReceiveLineIn,
    ReceiveResult,
    SendIn,
    SupplierIn,
    SupplierRead,
    SupplierSuggestions,
    SupplierUpdate,
)
from server.schemas import PathId

FromDate = Annotated[date | None, Parameter(description="From this day (inclusive); default 12 months back.")]
ToDate = Annotated[date | None, Parameter(description="To this day (inclusive); default today.")]


def _attachment(name: str) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="{name}"'}


class SupplierController(Controller):
    path = "/api/sites/{site_id:int}/suppliers"
    tags = ["purchasing"]

    @get("/", guards=[read_site], summary="Suppliers")
    async def list_suppliers(self, site_id: PathId) -> list[SupplierRead]:
        return await service.list_suppliers(site_id)

    @post("/", guards=[manage_site], summary="Add a supplier")
    async def create_supplier(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[SupplierIn],
        idempotency_key: IdempotencyKey,
    ) -> SupplierRead:
        return await once(
            request,
            idempotency_key,
            principal,
            SupplierRead,
            lambda: service.create_supplier(principal, site_id, data, now=utcnow()),
        )

    @patch("/{supplier_id:int}", guards=[manage_site], summary="Change a supplier")
    async def update_supplier(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        supplier_id: PathId,
        data: JSONBody[SupplierUpdate],
        idempotency_key: IdempotencyKey,
    ) -> SupplierRead:
        return await once(
            request,
            idempotency_key,
            principal,
            SupplierRead,
            lambda: service.update_supplier(principal, site_id, supplier_id, data, now=utcnow()),
        )


class ReorderController(Controller):
    path = "/api/sites/{site_id:int}/reorder"
    tags = ["purchasing"]

    @get(
        "/suggestions",
        guards=[read_site],
        summary="What to reorder, per supplier",
        description="par level - usable on hand - on order, rounded up to whole packs; publicly funded "
        "vaccines capped at one month's supply from the last 8 weeks of use (Ontario).",
    )
    async def suggestions(
        self,
        site_id: PathId,
        supplier: Annotated[str | None, Parameter(max_length=200, description="Only this supplier.")] = None,
    ) -> list[SupplierSuggestions]:
        return await service.suggestions(site_id, now=utcnow(), supplier=supplier)

    @get(
        "/dashboard",
        guards=[read_site],
        summary="The manager's numbers",
        description="Low stock, usable stock expiring in 30/60/90 days and this month's wastage by reason, "
        "in units and CAD (a cost not known is null, with the units it leaves out), open orders, overdue "
        "tasks, cleaning and reprocessing compliance, and open alerts.",
    )
    async def numbers(self, site_id: PathId) -> DashboardRead:
        return await dashboard.dashboard(site_id, now=utcnow())

    @get(
        "/reports/{report:str}",
        guards=[read_site],
        summary="A report as CSV or PDF",
        description="wastage.csv|pdf (by local month, reason and item, with cost), expiry_loss.csv|pdf "
        "(wasted as expired, and still on the shelf past expiry), usage.csv|pdf (by month and item, with "
        "cost), valuation.csv|pdf (on hand now, per item). Values in CAD; a cost not known is left empty "
        "(CSV) or 'unknown' (PDF) with the units it covers. `lang` sets the PDF's language.",
    )
    async def report(
        self,
        site_id: PathId,
        report: Annotated[str, Parameter(max_length=40)],
        from_date: FromDate = None,
        to_date: ToDate = None,
        lang: Annotated[Literal["en", "fr"], Parameter(description="The PDF's language.")] = "en",
    ) -> Response[Any]:
        name, _, ext = report.partition(".")
        if ext not in ("csv", "pdf") or name not in reports.NAMES:
            raise NotFound("There is no such report.", code="report_not_found")
        built = await reports.build(name, site_id, from_date, to_date, now=utcnow())
        filename = f"{name}-site-{site_id}.{ext}"
        if ext == "csv":
            return Response(reports.to_csv(built), media_type="text/csv", headers=_attachment(filename))
        body = await asyncio.to_thread(reports.to_pdf, built, lang)
        return Response(body, media_type="application/pdf", headers=_attachment(filename))


class OrderController(Controller):
    path = "/api/sites/{site_id:int}/purchase-orders"
    tags = ["purchasing"]

    @get("/", guards=[read_site], summary="Purchase orders, newest first")
    async def list_orders(
        self,
        site_id: PathId,
        status: Annotated[OrderStatus | None, Parameter(description="Only orders in this status.")] = None,
    ) -> list[OrderRead]:
        return await service.list_orders(site_id, status=status)

    @post(
        "/drafts",
        guards=[manage_site],
        summary="Turn (edited) suggestions into draft orders",
        description="One draft per supplier.",
    )
    async def create_drafts(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[DraftsIn],
        idempotency_key: IdempotencyKey,
    ) -> DraftsResult:
        return await once(
            request,
            idempotency_key,
            principal,
            DraftsResult,
            lambda: service.create_drafts(principal, site_id, data, now=utcnow()),
        )

    @get("/{order_id:int}", guards=[read_site], summary="One purchase order, with its receipts")
    async def get_order(self, site_id: PathId, order_id: PathId) -> OrderRead:
        return await service.get_order(site_id, order_id)

    @patch(
        "/{order_id:int}/lines/{line_id:int}",
        guards=[manage_site],
        summary="Change a draft line's packs or unit price",
    )
    async def update_line(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        order_id: PathId,
        line_id: PathId,
        data: JSONBody[LineUpdate],
        idempotency_key: IdempotencyKey,
    ) -> OrderRead:
        return await once(
            request,
            idempotency_key,
            principal,
            OrderRead,
            lambda: service.update_line(principal, site_id, order_id, line_id, data, now=utcnow()),
        )

    @post(
        "/{order_id:int}/lines/{line_id:int}/remove",
        guards=[manage_site],
        summary="Take a line off a draft",
        description="Not the last line: cancel the order instead.",
        status_code=200,
    )
    async def remove_line(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        order_id: PathId,
        line_id: PathId,
        idempotency_key: IdempotencyKey,
    ) -> OrderRead:
        return await once(
            request,
            idempotency_key,
            principal,
            OrderRead,
            lambda: service.remove_line(principal, site_id, order_id, line_id, now=utcnow()),
        )

    @post(
        "/{order_id:int}/send",
        guards=[manage_site],
        summary="Mark a draft as sent to the supplier",
        description='With {"email": true}, the order is also e-mailed to the supplier\'s address '
        "(queued with the alert e-mails: sent by the scheduler, retried until it goes).",
    )
    async def send(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        order_id: PathId,
        idempotency_key: IdempotencyKey,
        data: JSONBody[SendIn | None] = None,
    ) -> OrderRead:
        options = data or SendIn()
        return await once(
            request,
            idempotency_key,
            principal,
            OrderRead,
            lambda: service.send_order(principal, site_id, order_id, email=options.email, now=utcnow()),
        )

    @post("/{order_id:int}/cancel", guards=[manage_site], summary="Cancel an order, with the reason")
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        order_id: PathId,
        data: JSONBody[CancelIn],
        idempotency_key: IdempotencyKey,
    ) -> OrderRead:
        return await once(
            request,
            idempotency_key,
            principal,
            OrderRead,
            lambda: service.cancel_order(principal, site_id, order_id, data, now=utcnow()),
        )

    @post(
        "/{order_id:int}/lines/{line_id:int}/receipts",
        guards=[write_site],
        summary="Receive against an order line",
        description="Scan the GS1 code to fill the lot and expiry; goes into stock with the order "
        "number as reference. More than ordered, or a line closed short, is a discrepancy.",
    )
    async def receive(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        order_id: PathId,
        line_id: PathId,
        data: JSONBody[ReceiveLineIn],
        idempotency_key: IdempotencyKey,
    ) -> ReceiveResult:
        return await once(
            request,
            idempotency_key,
            principal,
            ReceiveResult,
            lambda: service.receive_line(principal, site_id, order_id, line_id, data, now=utcnow()),
        )

    @post(
        "/{order_id:int}/lines/{line_id:int}/close",
        guards=[write_site],
        summary="Nothing more is coming on this line",
        description="What is missing is recorded as a short delivery; the order is received once every "
        "line is closed.",
    )
    async def close_line(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        order_id: PathId,
        line_id: PathId,
        data: JSONBody[CloseLineIn],
        idempotency_key: IdempotencyKey,
    ) -> OrderRead:
        return await once(
            request,
            idempotency_key,
            principal,
            OrderRead,
            lambda: service.close_line(principal, site_id, order_id, line_id, data, now=utcnow()),
        )

    @get("/{order_id:int}/order.csv", guards=[read_site], summary="The order as CSV", media_type="text/csv")
    async def order_csv(self, site_id: PathId, order_id: PathId) -> Response[str]:
        order = await service.get_order(site_id, order_id)
        body = documents.order_csv(order, await documents.order_context(order))
        return Response(body, media_type="text/csv", headers=_attachment(f"{order.number}.csv"))

    @get(
        "/{order_id:int}/order.pdf",
        guards=[read_site],
        summary="The order as PDF",
        media_type="application/pdf",
    )
    async def order_pdf(self, site_id: PathId, order_id: PathId) -> Response[bytes]:
        order = await service.get_order(site_id, order_id)
        body = documents.order_pdf(order, await documents.order_context(order))
        return Response(body, media_type="application/pdf", headers=_attachment(f"{order.number}.pdf"))

    @get(
        "/{order_id:int}/public-health.zip",
        guards=[read_site],
        summary="The publicly funded vaccine order for the public health unit",
        description="The order's publicly funded vaccine lines (PDF and CSV) with each fridge's "
        "temperature log sheet for last month and this month so far.",
        media_type="application/zip",
    )
    async def public_health(self, site_id: PathId, order_id: PathId) -> Response[bytes]:
        name, body = await phu.export_zip(site_id, order_id, now=utcnow())
        return Response(body, media_type="application/zip", headers=_attachment(name))


ROUTES = [SupplierController, ReorderController, OrderController]
