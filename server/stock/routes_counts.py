from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.params import JSONBody, Parameter

from server.clock import utcnow
from server.core.permissions import manage_site, read_site, write_site
from server.http import Caller, IdempotencyKey, once
from server.schemas import MAX_ID, PathId
from server.stock import counts, recalls
from server.stock.schemas_counts import (
    CountDetail,
    CountLineIn,
    CountLineRead,
    CountPost,
    CountPostResult,
    CountStart,
    CountStatus,
    CountSummary,
    RecallCreate,
    RecallDetail,
    RecallSummary,
)

Before = Annotated[int | None, Parameter(ge=1, le=MAX_ID, description="Only ids below this (next page).")]
Limit = Annotated[int, Parameter(ge=1, le=500)]


class CountController(Controller):
    path = "/api/sites/{site_id:int}/counts"
    tags = ["stock"]

    @post(
        "/",
        guards=[write_site],
        summary="Start a count of one place",
        description="Snapshots a line per lot with stock there (expected = on hand now). "
        "409 count_open while another count of the place is open.",
    )
    async def start(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[CountStart],
        idempotency_key: IdempotencyKey,
    ) -> CountDetail:
        return await once(
            request,
            idempotency_key,
            principal,
            CountDetail,
            lambda: counts.start(principal, site_id, data, now=utcnow()),
        )

    @get("/", guards=[read_site], summary="Counts", description="Newest first; filter by status.")
    async def list_counts(
        self,
        site_id: PathId,
        status: Annotated[CountStatus | None, Parameter(description="open, posted or cancelled")] = None,
        before: Before = None,
        limit: Limit = 100,
    ) -> list[CountSummary]:
        return await counts.list_counts(site_id, status=status, before=before, limit=limit)

    @get(
        "/{count_id:int}",
        guards=[read_site],
        summary="One count with its lines",
        description="variance = counted - current on hand (null while a line is not counted).",
    )
    async def get_count(self, site_id: PathId, count_id: PathId) -> CountDetail:
        return await counts.get_count(site_id, count_id)

    @put(
        "/{count_id:int}/lines",
        guards=[write_site],
        summary="Record a counted quantity",
        description="By lot_id, or from a scan by item_id + lot_number: a lot not in the snapshot is "
        "found stock (expected 0). Counting a lot again replaces its value.",
    )
    async def record_line(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        count_id: PathId,
        data: JSONBody[CountLineIn],
        idempotency_key: IdempotencyKey,
    ) -> CountLineRead:
        return await once(
            request,
            idempotency_key,
            principal,
            CountLineRead,
            lambda: counts.record_line(principal, site_id, count_id, data, now=utcnow()),
        )

    @post(
        "/{count_id:int}/post",
        guards=[manage_site],
        summary="Post a count's differences",
        description="Each counted line that differs from the current on hand becomes an adjust movement "
        "with its reason (default count); uncounted lines are left alone and listed.",
    )
    async def post_count(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        count_id: PathId,
        data: JSONBody[CountPost],
        idempotency_key: IdempotencyKey,
    ) -> CountPostResult:
        return await once(
            request,
            idempotency_key,
            principal,
            CountPostResult,
            lambda: counts.post(principal, site_id, count_id, data, now=utcnow()),
        )

    @post("/{count_id:int}/cancel", guards=[write_site], summary="Cancel a count without changing stock")
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        count_id: PathId,
        idempotency_key: IdempotencyKey,
    ) -> CountSummary:
        return await once(
            request,
            idempotency_key,
            principal,
            CountSummary,
            lambda: counts.cancel(principal, site_id, count_id, now=utcnow()),
        )


class RecallController(Controller):
    path = "/api/sites/{site_id:int}/recalls"
    tags = ["stock"]

    @post(
        "/",
        guards=[manage_site],
        summary="Enter a recall notice",
        description="Matching lots of the item become recalled and are located; lot numbers that match "
        "no lot here are listed as not_found.",
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[RecallCreate],
        idempotency_key: IdempotencyKey,
    ) -> RecallDetail:
        return await once(
            request,
            idempotency_key,
            principal,
            RecallDetail,
            lambda: recalls.create(principal, site_id, data, now=utcnow()),
        )

    @get("/", guards=[read_site], summary="Recall notices", description="Newest first.")
    async def list_recalls(
        self, site_id: PathId, before: Before = None, limit: Limit = 100
    ) -> list[RecallSummary]:
        return await recalls.list_recalls(site_id, before=before, limit=limit)

    @get("/{recall_id:int}", guards=[read_site], summary="A recall and where its lots are now")
    async def get_recall(self, site_id: PathId, recall_id: PathId) -> RecallDetail:
        return await recalls.get_recall(site_id, recall_id)


ROUTES = [CountController, RecallController]
