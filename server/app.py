"""The Litestar application: create_app(settings) wires features, errors, security and the client."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.config.response_cache import ResponseCacheConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.plugins import PluginProtocol
from litestar.types import Message, Scope

from server.alerts.routes import ROUTES as ALERT_ROUTES
from server.cleaning.routes import ROUTES as CLEANING_ROUTES
from server.coldchain.routes import ROUTES as COLDCHAIN_ROUTES
from server.config import Settings
from server.core.permissions import PUBLIC_OPT, AuthMiddleware, is_public, route_access
from server.core.routes import ROUTES as CORE_ROUTES
from server.db import close_pool, prepare_engine, start_pool
from server.errors import EXCEPTION_HANDLERS
from server.health import HealthController
from server.http import DEPENDENCIES
from server.labels.routes import ROUTES as LABEL_ROUTES
from server.openapi import document_problems
from server.purchasing.routes import ROUTES as PURCHASING_ROUTES
from server.reprocessing.routes import ROUTES as REPROCESSING_ROUTES
from server.scans.routes import ROUTES as SCAN_ROUTES
from server.stock.routes import ROUTES as STOCK_ROUTES
from server.stock.routes_counts import ROUTES as COUNT_ROUTES
from server.web import web_routes

SCHEMA_PATH = "/schema"
CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; worker-src 'self'; "
    "manifest-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(self), microphone=(), geolocation=()",
    "cross-origin-opener-policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"

log = logging.getLogger("clinitrack")


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] == "http.response.start":
        headers = MutableScopeHeaders.from_message(message)
        for name, value in SECURITY_HEADERS.items():
            if name not in headers:
                headers[name] = value
        if scope.get("path", "").startswith("/api/"):
            headers.setdefault("cache-control", "no-store")
        if scope.get("scheme") == "https":  # over plain http a browser ignores it (RFC 6797 §8.1)
            headers.setdefault("strict-transport-security", HSTS)


def _lifespan(settings: Settings):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await prepare_engine()
        await start_pool(settings.pool_size)
        scheduler, leader = None, None
        if settings.scheduler_enabled:
            from server.scheduler import Leader, build_scheduler

            if settings.database_url:  # several workers: the one holding the lock runs the jobs
                leader = Leader(settings.database_url)
                leader.start()
            else:  # SQLite: one process
                scheduler = build_scheduler()
                scheduler.start()
        try:
            yield
        finally:
            if leader is not None:
                await leader.stop()
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            await close_pool()

    return lifespan


class App(Litestar):
    """Litestar without the pydantic and attrs plugins it adds whenever those packages are installed
    (Piccolo needs pydantic): every request and response here is a msgspec Struct, and importing
    pydantic cost each worker 6 MiB (README, "RSS per worker")."""

    @staticmethod
    def _get_default_plugins(plugins: list[PluginProtocol]) -> list[PluginProtocol]:
        from litestar.plugins.core import MsgspecDIPlugin

        return [*plugins, MsgspecDIPlugin()]


def check_every_route_declares_access(app: Litestar) -> None:
    """Deny by default: a route with no declared access is a bug, caught at start-up."""
    missing = []
    for route in app.routes:
        if route.path.startswith(SCHEMA_PATH):
            continue
        for handler in getattr(route, "route_handlers", []):
            if not is_public(handler) and not route_access(handler):
                missing.append(f"{route.path} ({handler.handler_name})")
    if missing:
        raise RuntimeError("routes without declared access: " + ", ".join(sorted(missing)))


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = App(
        route_handlers=[
            HealthController,
            *CORE_ROUTES,
            *STOCK_ROUTES,
            *COUNT_ROUTES,
            *SCAN_ROUTES,
            *LABEL_ROUTES,
            *COLDCHAIN_ROUTES,
            *CLEANING_ROUTES,
            *REPROCESSING_ROUTES,
            *ALERT_ROUTES,
            *PURCHASING_ROUTES,
            *web_routes(),
        ],
        compression_config=CompressionConfig(backend="gzip", minimum_size=512, gzip_compress_level=6),
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            DefineMiddleware(AuthMiddleware, exclude=[f"^{SCHEMA_PATH}"], exclude_from_auth_key=PUBLIC_OPT)
        ],
        before_send=[add_security_headers],
        lifespan=[_lifespan(settings)],
        openapi_config=OpenAPIConfig(
            title="clinitrack",
            version="0.1.0",
            path=SCHEMA_PATH,
            description="Inventory and infection-control tracking for outpatient clinics.",
            render_plugins=[ScalarRenderPlugin()],
        ),
        response_cache_config=ResponseCacheConfig(),
        request_max_body_size=1_048_576,
        debug=False,
    )
    app.state.settings = settings
    check_every_route_declares_access(app)
    document_problems(app)
    return app
