from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody

from server.clock import utcnow
from server.core.auth import Principal
from server.core.permissions import READ_ONLY_OPT, read_site, signed_in
from server.errors import Forbidden, InvalidInput
from server.http import Caller
from server.scans import service
from server.scans.schemas import ScanAnswer, ScanIn
from server.schemas import PathId

DESCRIPTION = (
    "Resolves a raw scan without writing anything: GS1 (AIM prefixes, GS/RS/Tab separators, (01)... text, "
    "Digital Link URLs), HIBC, plain GTINs and clinitrack's own label codes, then looks it up in this order: "
    "own label, GTIN (+ lot), linked barcode, lot number. The answer lists what was parsed, ambiguity, "
    "errors and the actions that fit."
)


def _site_for(principal: Principal, site_id: int | None) -> int:
    if site_id is None:
        if len(principal.roles) != 1:
            raise InvalidInput(
                "Say which site: add site_id.",
                code="site_needed",
                fields=[{"field": "site_id", "message": "is needed"}],
            )
        site_id = next(iter(principal.roles))
    if principal.role_at(site_id) is None:
        raise Forbidden("You are not a member of this site.")
    return site_id


class ScanController(Controller):
    path = "/api"
    tags = ["scans"]

    @post(
        "/scans",
        guards=[signed_in],
        status_code=200,
        summary="Resolve a scan",
        description=DESCRIPTION,
        opt={READ_ONLY_OPT: True},
    )
    async def scan(self, principal: Caller, data: JSONBody[ScanIn]) -> ScanAnswer:
        site_id = _site_for(principal, data.site_id)
        return await service.resolve(site_id, data.raw, today=utcnow().date())

    @post(
        "/sites/{site_id:int}/scans",
        guards=[read_site],
        status_code=200,
        summary="Resolve a scan at a site",
        description=DESCRIPTION,
        opt={READ_ONLY_OPT: True},
    )
    async def site_scan(self, site_id: PathId, data: JSONBody[ScanIn]) -> ScanAnswer:
        return await service.resolve(site_id, data.raw, today=utcnow().date())


ROUTES = [ScanController]
