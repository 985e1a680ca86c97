"""Browser tests: the real service in a subprocess and Debian's Chromium driven by Playwright.

Chromium is found at CLINITRACK_CHROMIUM or /usr/bin/chromium (the test set-up installs it with
apt). It is never downloaded by Playwright. A missing browser fails these tests; they never skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

# Two shared cores run the service, Chromium and pytest together: allow for a slow moment.
expect.set_options(timeout=15_000)

ARTIFACTS = Path(__file__).resolve().parents[1] / "_artifacts"
BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 360, "height": 640}


def chromium_path() -> str:
    path = os.environ.get("CLINITRACK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise RuntimeError("Chromium is missing: apt-get install -y chromium (make install-test does it)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """The service over TCP on the test database (same engine as the rest of the run)."""
    port = _free_port()
    env = {**os.environ, "CLINITRACK_SCHEDULER": "off", "CLINITRACK_LOG_LEVEL": "warning"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--no-migrate", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            out = proc.stdout.read() if proc.stdout else ""
            proc.kill()
            raise RuntimeError(f"the service did not start:\n{out}")
        time.sleep(0.2)
    yield base
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


LaunchBrowser = Callable[..., Awaitable[Browser]]


@pytest.fixture
async def launch_browser() -> AsyncIterator[LaunchBrowser]:
    """Launch Chromium with extra flags (for example a fake camera); closed after the test."""
    async with async_playwright() as pw:
        browsers: list[Browser] = []

        async def launch(*extra_args: str) -> Browser:
            browser = await pw.chromium.launch(
                executable_path=chromium_path(), headless=True, args=[*BASE_ARGS, *extra_args]
            )
            browsers.append(browser)
            return browser

        yield launch
        for browser in browsers:
            await browser.close()


@pytest.fixture
async def browser(launch_browser: LaunchBrowser) -> Browser:
    return await launch_browser()


NewContext = Callable[..., Awaitable[BrowserContext]]


@pytest.fixture
async def new_context(browser: Browser, live_server: str) -> NewContext:
    """A phone-sized context on the live server; pass locale="fr-CA" for French."""

    async def make(locale: str = "en-CA", **kwargs: object) -> BrowserContext:
        ctx = await browser.new_context(base_url=live_server, viewport=PHONE, locale=locale,
                                        has_touch=True, **kwargs)  # type: ignore[arg-type]
        # The app must never reach off-origin (CDNs): fail loudly if it tries.
        await ctx.route(lambda url: not url.startswith(live_server), lambda route: route.abort())
        return ctx

    return make


@pytest.fixture
async def page(new_context: NewContext) -> Page:
    ctx = await new_context()
    return await ctx.new_page()


def screenshot_path(name: str) -> str:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return str(ARTIFACTS / f"{name}.png")
