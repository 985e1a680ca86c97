from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.params import JSONBody, Parameter

from server.clock import utcnow
from server.core.permissions import manage_site, read_site, write_site
from server.http import Caller, IdempotencyKey, once
from server.schemas import PathId
from server.stock import catalog, csvio, ledger, queries, vials
from server.stock.rules import LotStatus, MovementKind
from server.stock.schemas import (
    AdjustIn,
    CodeIn,
    ImportResult,
    ItemCreate,
    ItemImport,
    ItemRead,
    ItemUpdate,
    JournalPage,
    LotDetail,
    MovementResult,
    ReceiveIn,
    ReturnIn,
    StockRow,
    TransferIn,
    UseIn,
    VialOpen,
    VialRead,
    WasteIn,
)


class ItemController(Controller):
    path = "/api/sites/{site_id:int}/items"
    tags = ["stock"]

    @get("/", guards=[read_site], summary="The catalog", description="Items with their barcodes.")
    async def list_items(
        self,
        site_id: PathId,
        q: Annotated[str, Parameter(max_length=100, description="Part of the name.")] = "",
        include_inactive: Annotated[bool, Parameter(description="Also list retired items.")] = False,
    ) -> list[ItemRead]:
        return await catalog.list_items(site_id, search=q, include_inactive=include_inactive)

    @post("/", guards=[manage_site], summary="Add an item to the catalog")
    async def create_item(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[ItemCreate],
        idempotency_key: IdempotencyKey,
    ) -> ItemRead:
        return await once(
            request,
            idempotency_key,
            principal,
            ItemRead,
            lambda: catalog.create_item(principal, site_id, data, now=utcnow()),
        )

    @post(
        "/import",
        guards=[manage_site],
        summary="Import the catalog from CSV",
        description="Columns: "
        + ", ".join(csvio.COLUMNS)
        + ". dry_run (default) lists what would change and "
        "every bad row; a file with any bad row imports nothing (400 csv_rows_invalid, rows in errors).",
    )
    async def import_items(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[ItemImport],
        idempotency_key: IdempotencyKey,
    ) -> ImportResult:
        return await once(
            request,
            idempotency_key,
            principal,
            ImportResult,
            lambda: catalog.import_items(principal, site_id, data, now=utcnow()),
        )

    @get("/export", guards=[read_site], summary="Export the catalog as CSV", media_type="text/csv")
    async def export_items(self, site_id: PathId) -> Response[str]:
        return Response(
            await catalog.export_items(site_id),
            media_type="text/csv",
            headers={"content-disposition": f'attachment; filename="catalog-site-{site_id}.csv"'},
        )

    @get("/{item_id:int}", guards=[read_site], summary="One item")
    async def get_item(self, site_id: PathId, item_id: PathId) -> ItemRead:
        return await catalog.get_item(site_id, item_id)

    @patch(
        "/{item_id:int}",
        guards=[manage_site],
        summary="Change an item",
        description="Par level, reorder point, storage, and so on; past movements are unchanged.",
    )
    async def update_item(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        item_id: PathId,
        data: JSONBody[ItemUpdate],
        idempotency_key: IdempotencyKey,
    ) -> ItemRead:
        return await once(
            request,
            idempotency_key,
            principal,
            ItemRead,
            lambda: catalog.update_item(principal, site_id, item_id, data, now=utcnow()),
        )

    @post(
        "/{item_id:int}/codes",
        guards=[write_site],
        summary="Link a barcode to an item",
        description="An unknown GTIN or barcode, once linked, is recognized by every later scan.",
    )
    async def link_code(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        item_id: PathId,
        data: JSONBody[CodeIn],
        idempotency_key: IdempotencyKey,
    ) -> ItemRead:
        return await once(
            request,
            idempotency_key,
            principal,
            ItemRead,
            lambda: catalog.link_code(principal, site_id, item_id, data, now=utcnow()),
        )


class MovementController(Controller):
    path = "/api/sites/{site_id:int}/movements"
    tags = ["stock"]
    guards = [write_site]

    @post("/receive", summary="Receive stock", description="Creates the lot when it is new.")
    async def receive(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[ReceiveIn],
        idempotency_key: IdempotencyKey,
    ) -> MovementResult:
        return await once(
            request,
            idempotency_key,
            principal,
            MovementResult,
            lambda: ledger.receive(principal, site_id, data, now=utcnow()),
        )

    @post(
        "/use",
        summary="Use or administer",
        description="Blocked for expired, quarantined and recalled lots; warns when a shorter-dated lot "
        "of the same item is in the same place (FEFO). 409 not_enough_stock when too few are left.",
    )
    async def use(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[UseIn],
        idempotency_key: IdempotencyKey,
    ) -> MovementResult:
        return await once(
            request,
            idempotency_key,
            principal,
            MovementResult,
            lambda: ledger.use(principal, site_id, data, now=utcnow()),
        )

    @post("/waste", summary="Record waste", description="With a reason: expired, broken, cold chain, ...")
    async def waste(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[WasteIn],
        idempotency_key: IdempotencyKey,
    ) -> MovementResult:
        return await once(
            request,
            idempotency_key,
            principal,
            MovementResult,
            lambda: ledger.waste(principal, site_id, data, now=utcnow()),
        )

    @post("/transfer", summary="Move stock between places")
    async def transfer(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[TransferIn],
        idempotency_key: IdempotencyKey,
    ) -> MovementResult:
        return await once(
            request,
            idempotency_key,
            principal,
            MovementResult,
            lambda: ledger.transfer(principal, site_id, data, now=utcnow()),
        )

    @post("/return", summary="Return to the supplier")
    async def return_stock(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[ReturnIn],
        idempotency_key: IdempotencyKey,
    ) -> MovementResult:
        return await once(
            request,
            idempotency_key,
            principal,
            MovementResult,
            lambda: ledger.return_to_supplier(principal, site_id, data, now=utcnow()),
        )

    @post("/adjust", summary="Adjust to a counted quantity", description="The difference is recorded.")
    async def adjust(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[AdjustIn],
        idempotency_key: IdempotencyKey,
    ) -> MovementResult:
        return await once(
            request,
            idempotency_key,
            principal,
            MovementResult,
            lambda: ledger.adjust(principal, site_id, data, now=utcnow()),
        )


class StockController(Controller):
    path = "/api/sites/{site_id:int}/stock"
    tags = ["stock"]

    @get(
        "/",
        guards=[read_site],
        summary="On hand by item, lot and place",
        description="Only rows with stock unless include_empty is set; filter by item, place or lot status.",
    )
    async def on_hand(
        self,
        site_id: PathId,
        item_id: Annotated[int | None, Parameter(ge=1, le=2_147_483_647)] = None,
        location_id: Annotated[int | None, Parameter(ge=1, le=2_147_483_647)] = None,
        include_empty: Annotated[bool, Parameter(description="Also list lots with none left.")] = False,
        q: Annotated[
            str | None, Parameter(max_length=100, description="Part of the item's name or the lot number.")
        ] = None,
        status: Annotated[LotStatus | None, Parameter(description="available, quarantined, ...")] = None,
    ) -> list[StockRow]:
        return await queries.on_hand(
            site_id, item_id=item_id, location_id=location_id, include_empty=include_empty, q=q, status=status
        )

    @get(
        "/expiring",
        guards=[read_site],
        summary="Expiring soon",
        description="Stock on hand that expires within the given days, expired stock included.",
    )
    async def expiring(
        self,
        site_id: PathId,
        days: Annotated[int, Parameter(ge=0, le=3650)] = 30,
    ) -> list[StockRow]:
        return await queries.expiring(site_id, within_days=days, today=utcnow().date())

    @get("/lots/{lot_id:int}", guards=[read_site], summary="A lot: where it is and what happened to it")
    async def lot_detail(self, site_id: PathId, lot_id: PathId) -> LotDetail:
        return await queries.lot_detail(site_id, lot_id)


class JournalController(Controller):
    path = "/api/sites/{site_id:int}/journal"
    tags = ["stock"]

    @get(
        "/",
        guards=[read_site],
        summary="The movement journal",
        description="Newest first, keyset paged: pass next_before as before for the next page.",
    )
    async def journal(
        self,
        site_id: PathId,
        before: Annotated[int | None, Parameter(ge=1, le=2**62)] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
        item_id: Annotated[int | None, Parameter(ge=1, le=2_147_483_647)] = None,
        lot_id: Annotated[int | None, Parameter(ge=1, le=2_147_483_647)] = None,
        location_id: Annotated[int | None, Parameter(ge=1, le=2_147_483_647)] = None,
        kind: Annotated[MovementKind | None, Parameter(description="receive, use, waste, ...")] = None,
        since: Annotated[datetime | None, Parameter(description="From this time (inclusive).")] = None,
        until: Annotated[datetime | None, Parameter(description="Up to this time (exclusive).")] = None,
    ) -> JournalPage:
        return await queries.journal(
            site_id,
            before=before,
            limit=limit,
            item_id=item_id,
            lot_id=lot_id,
            location_id=location_id,
            kind=kind,
            since=since,
            until=until,
        )


class VialController(Controller):
    path = "/api/sites/{site_id:int}/vials"
    tags = ["stock"]

    @get("/", guards=[read_site], summary="Opened multi-dose vials", description="Soonest beyond-use first.")
    async def list_open(self, site_id: PathId) -> list[VialRead]:
        return await vials.list_open(site_id)

    @post(
        "/",
        guards=[write_site],
        summary="Open a multi-dose vial",
        description="Starts its beyond-use clock (set per item); never later than the printed expiry.",
    )
    async def open_vial(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[VialOpen],
        idempotency_key: IdempotencyKey,
    ) -> VialRead:
        return await once(
            request,
            idempotency_key,
            principal,
            VialRead,
            lambda: vials.open_vial(principal, site_id, data, now=utcnow()),
        )

    @post(
        "/{vial_id:int}/finish",
        guards=[write_site],
        summary="The vial is finished",
        description="The vial leaves stock as a use of one unit.",
    )
    async def finish_vial(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        vial_id: PathId,
        idempotency_key: IdempotencyKey,
    ) -> VialRead:
        return await once(
            request,
            idempotency_key,
            principal,
            VialRead,
            lambda: vials.finish_vial(principal, site_id, vial_id, now=utcnow()),
        )


ROUTES = [VialController, ItemController, MovementController, StockController, JournalController]
