"""Serving the web client: its files, the decoder from node_modules, and a versioned service worker."""

from __future__ import annotations

import hashlib
import mimetypes
from functools import lru_cache
from pathlib import Path

from litestar import Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.handlers import HTTPRouteHandler
from litestar.static_files import create_static_files_router

from server.core.permissions import PUBLIC_OPT

MOBILE_WEB = Path(__file__).resolve().parent.parent / "mobile_web"
NODE_MODULES = MOBILE_WEB / "node_modules"
# Third-party browser code is served from node_modules as npm installed it, never copied into the
# repository or fetched from a CDN: the barcode decoder (ES modules) and its WebAssembly.
VENDOR = {
    "/vendor/barcode-detector": NODE_MODULES / "barcode-detector" / "dist" / "es",
    "/vendor/zxing": NODE_MODULES / "zxing-wasm" / "dist" / "reader",
}
mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("application/wasm", ".wasm")
mimetypes.add_type("text/javascript", ".js")


def shell_files() -> list[Path]:
    return sorted(
        p
        for p in MOBILE_WEB.rglob("*")
        if p.is_file()
        and "node_modules" not in p.parts
        and p.name not in ("package.json", "package-lock.json")
    )


@lru_cache(maxsize=1)
def shell_version() -> str:
    """A hash of the client's files: a new version installs a new service worker and cache."""
    digest = hashlib.sha256()
    for path in shell_files():
        digest.update(str(path.relative_to(MOBILE_WEB)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@get("/sw.js", opt={PUBLIC_OPT: True}, include_in_schema=False, sync_to_thread=False)
def service_worker() -> Response[bytes]:
    body = (MOBILE_WEB / "sw.js").read_text(encoding="utf-8").replace("__SHELL_VERSION__", shell_version())
    return Response(
        body.encode(),
        media_type="text/javascript",
        headers={"cache-control": "no-cache", "service-worker-allowed": "/"},
    )


def web_routes() -> list[Router | HTTPRouteHandler]:
    vendor = [
        create_static_files_router(
            path=path,
            directories=[folder],
            opt={PUBLIC_OPT: True},
            include_in_schema=False,
            name=f"vendor-{path.rsplit('/', 1)[-1]}",
        )
        for path, folder in VENDOR.items()
    ]
    shell = create_static_files_router(
        path="/",
        directories=[MOBILE_WEB],
        html_mode=True,
        # Lets the service worker's first install reuse what the page just loaded (sw.js); the
        # worker serves the shell from its own versioned cache after that.
        cache_control=CacheControlHeader(max_age=300),
        opt={PUBLIC_OPT: True},
        include_in_schema=False,
        name="mobile_web",
    )
    return [service_worker, *vendor, shell]
