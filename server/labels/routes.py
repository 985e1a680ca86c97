"""Labels API: what can be printed, a preview (SVG), the PDF, ZPL, and sending to a label printer.

Managers and admins only: labels are set-up work. Preview, PDF, ZPL and print write nothing to the
records, so they are marked read-only POSTs (their body is the selection); giving an item its own
code is a real write and is exactly-once.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, Parameter

from server.clock import utcnow
from server.core.permissions import READ_ONLY_OPT, manage_site
from server.http import Caller, IdempotencyKey, once
from server.labels import service
from server.labels.schemas import (
    ItemCodeIn,
    ItemCodeRead,
    LabelOptions,
    LabelRequest,
    LabelSource,
    PrintRequest,
    PrintResult,
    What,
)
from server.schemas import PathId

PDF_DESCRIPTION = (
    "A PDF of the chosen labels on an Avery sheet (5160, 5163, L7160; `start` skips used positions, "
    "`cut_lines` draws the die-cut outlines) or on a 2 x 1 in roll, one label a page."
)


def _attachment(name: str, site_id: int) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="labels-site{site_id}-{utcnow():%Y%m%d}-{name}"'}


class LabelController(Controller):
    path = "/api/sites/{site_id:int}/labels"
    tags = ["labels"]
    guards = [manage_site]

    @get("/options", summary="Label formats and printers")
    async def options(self, site_id: PathId) -> LabelOptions:  # noqa: ARG002  (the guard reads it)
        return service.options()

    @get("/sources", summary="What can be printed", description="Newest lots first.")
    async def sources(
        self, site_id: PathId, what: Annotated[What, Parameter(description="items, lots, locations or rooms")]
    ) -> list[LabelSource]:
        return await service.sources(site_id, what)

    @post(
        "/preview",
        status_code=200,
        summary="Preview one label (SVG)",
        media_type="image/svg+xml",
        opt={READ_ONLY_OPT: True},
    )
    async def preview(
        self,
        site_id: PathId,
        data: JSONBody[LabelRequest],
        index: Annotated[int, Parameter(ge=0, le=999, description="Which label of the selection.")] = 0,
    ) -> Response[bytes]:
        svg = await service.preview(site_id, data, index)
        return Response(svg, media_type="image/svg+xml")

    @post(
        "/pdf",
        status_code=200,
        summary="Labels as PDF",
        description=PDF_DESCRIPTION,
        media_type="application/pdf",
        opt={READ_ONLY_OPT: True},
    )
    async def pdf(self, site_id: PathId, data: JSONBody[LabelRequest]) -> Response[bytes]:
        body = await service.pdf(site_id, data)
        return Response(
            body, media_type="application/pdf", headers=_attachment(f"{data.format}.pdf", site_id)
        )

    @post(
        "/zpl",
        status_code=200,
        summary="Labels as ZPL (2 x 1 in, 203 dpi)",
        media_type="text/plain",
        opt={READ_ONLY_OPT: True},
    )
    async def zpl(self, site_id: PathId, data: JSONBody[LabelRequest]) -> Response[str]:
        body = await service.zpl(site_id, data)
        return Response(body, media_type="text/plain", headers=_attachment("zebra.zpl", site_id))

    @post(
        "/print",
        status_code=200,
        summary="Send labels to a label printer",
        description="ZPL to a printer named in CLINITRACK_LABEL_PRINTERS, over its raw port (9100).",
        opt={READ_ONLY_OPT: True},
    )
    async def print_labels(self, site_id: PathId, data: JSONBody[PrintRequest]) -> PrintResult:
        return await service.send(site_id, data)

    @post("/item-codes", summary="Give an item with no barcode its own label code")
    async def item_code(
        self,
        request: Request[Any, Any, Any],
        principal: Caller,
        site_id: PathId,
        data: JSONBody[ItemCodeIn],
        idempotency_key: IdempotencyKey,
    ) -> ItemCodeRead:
        return await once(
            request,
            idempotency_key,
            principal,
            ItemCodeRead,
            lambda: service.give_item_code(principal, site_id, data.item_id, now=utcnow()),
        )


ROUTES = [LabelController]
