"""Liveness and readiness probes for load balancers and process managers."""

from __future__ import annotations

import logging

from litestar import Controller, Response, get

from server.core.permissions import PUBLIC_OPT
from server.core.tables import Site
from server.db import pending_migrations
from server.errors import problem

log = logging.getLogger("clinitrack.health")


class HealthController(Controller):
    path = "/"
    tags = ["health"]
    opt = {PUBLIC_OPT: True}

    @get("/healthz", summary="Is the process up?", description="Answers without touching the database.")
    async def healthz(self) -> dict[str, str]:
        return {"status": "ok"}

    @get(
        "/readyz",
        summary="Can the service take traffic?",
        description="503 when the database is unreachable or migrations have not all run.",
    )
    async def readyz(self) -> Response[dict[str, object]]:
        try:
            await Site.raw("SELECT 1")
            pending = await pending_migrations()
        except Exception as exc:  # the probe must answer, whatever the database does
            log.warning("readiness: database unreachable: %s", exc)
            return problem(503, "database_unavailable", "Not ready", "The database cannot be reached.")  # type: ignore[return-value]
        if pending:
            return problem(
                503,
                "migrations_pending",
                "Not ready",  # type: ignore[return-value]
                f"{len(pending)} migration(s) have not run: run 'clinitrack migrate'.",
            )
        return Response({"status": "ready", "database": "ok", "migrations": "current"})
