from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import Parameter

from server.core import audit
from server.core.auth import actor_names
from server.core.permissions import read_site, superuser
from server.core.schemas import AuditChainRead, AuditEventPage, AuditEventRead
from server.schemas import PathId


def _status(s: audit.ChainStatus) -> AuditChainRead:
    return AuditChainRead(
        chain=s.chain, events=s.events, ok=s.ok, first_broken_seq=s.first_broken_seq, reason=s.reason
    )


class AuditController(Controller):
    path = "/api"
    tags = ["audit"]

    @get(
        "/sites/{site_id:int}/audit/status",
        guards=[read_site],
        summary="Is this site's record intact?",
        description="Recomputes the site's hash chain and names the first broken event, if any.",
    )
    async def site_status(self, site_id: PathId) -> AuditChainRead:
        return _status(await audit.verify_chain(audit.chain_for(site_id)))

    @get(
        "/audit/status",
        guards=[superuser],
        summary="Are all records intact?",
        description="Every site's chain and the global chain; system administrators only.",
    )
    async def all_status(self) -> list[AuditChainRead]:
        return [_status(s) for s in await audit.verify_all()]

    @get(
        "/sites/{site_id:int}/audit/events",
        guards=[read_site],
        summary="A site's audit events",
        description="Oldest first, 100 at a time; pass next_after as after for the next page.",
    )
    async def site_events(
        self,
        site_id: PathId,
        after: Annotated[int, Parameter(ge=0, le=2**62, description="Last seq already seen.")] = 0,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 100,
    ) -> AuditEventPage:
        rows = await audit.events_page(audit.chain_for(site_id), after=after, limit=limit)
        names = await actor_names(r["actor"] for r in rows)
        items = [
            AuditEventRead(
                seq=r["seq"],
                at=r["at"],
                actor=r["actor"],
                actor_name=names.get(r["actor"], r["actor"]),
                action=r["action"],
                entity=r["entity"],
                entity_id=r["entity_id"],
                payload=audit._payload(r["payload"]),
                hash=r["hash"],
            )
            for r in rows
        ]
        return AuditEventPage(items=items, next_after=items[-1].seq if len(items) == limit else None)
