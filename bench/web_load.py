"""Web client load benchmark: what a phone downloads, and how fast the camera decodes.

    .venv/bin/python -m bench.web_load [--frames 30] [--chromium /usr/bin/chromium]

Starts the service on a throwaway SQLite database with the demo clinic (migrate, seed demo, serve),
opens Debian's Chromium with a fake camera that shows a Code 128 label, signs in as the demo assistant
and measures:

- first load, signed in, before the camera opens: app shell and API bytes (goal, issue 3: app shell
  <= 150 KB compressed);
- the camera opened: the decoder's bytes (barcode-detector ponyfill + zxing-wasm) and the time from the
  tap to the code on screen;
- a reload: bytes again (the service worker serves the shell, so ~0), then the camera once more;
- decode time per frame: BarcodeDetector.detect() on the fake video, from the scanner's own timings
  (window.__scannerStats, kept by mobile_web/js/scanner.js).

Bytes are CDP's encodedDataLength (compressed body + headers; the service gzips) through Playwright's
request.sizes(), for the page's requests and the service worker's alike: a CDP session on the page
alone misses the worker's fetches (its precache, and the decoder once the worker controls the page).
A counting TCP proxy in front of the service gives the "wire" column, every byte the service sent.
Everything it starts (service, browser, proxy, temp files) is stopped and removed on exit.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx
from playwright.async_api import Error, Page, Request, async_playwright

from tests.web.barcodes import code128_image, write_y4m

ROOT = Path(__file__).resolve().parent.parent
USERNAME, PASSWORD = "assistant", "demo-assistant"  # the demo seed's assistant
LABEL = "INV-000123-LOT42"
BUDGET_KB = 150


def shell_paths() -> set[str]:
    """The service worker's shell list: other client files are a role's screens, loaded after the
    shell (and counted apart: the budget is the shell's)."""
    text = (ROOT / "mobile_web" / "sw.js").read_text(encoding="utf-8")
    block = text[text.index("const SHELL = [") : text.index("];", text.index("const SHELL = ["))]
    return set(re.findall(r'"(/[^"]*)"', block))


SHELL_PATHS = shell_paths()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Nothing but the service under test is reachable. (Not Playwright's ctx.route: routing turns
    # off the browser's HTTP cache, which the service worker's first install relies on.)
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CountingProxy:
    """A TCP relay to the service that counts the bytes each way, for every connection the browser makes."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.down = 0  # service -> browser
        self.up = 0
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = int(self.server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self.server:
            self.server.close()
            for writer in list(self.writers):
                writer.close()
            await self.server.wait_closed()

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, downstream: bool) -> None:
        try:
            while data := await src.read(65536):
                if downstream:
                    self.down += len(data)
                else:
                    self.up += len(data)
                dst.write(data)
                await dst.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            dst.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}
        try:
            await asyncio.gather(self._pipe(reader, up_writer, False), self._pipe(up_reader, writer, True))
        finally:
            self.writers -= {writer, up_writer}


@dataclass
class Phase:
    """Network bytes between two marks: compressed body + headers of every request that reached the
    network, whether the page or the service worker made it; answers from a cache count 0."""

    bytes: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # shell / decoder / api
    by_worker: int = 0
    requests: int = 0  # requests that reached the network
    answered: int = 0  # every request, cache and service worker included
    downloaded: list[str] = field(default_factory=list)
    wire: int = 0

    @property
    def total(self) -> int:
        return sum(self.bytes.values())


@dataclass
class Meter:
    """Counts what each request cost, from Playwright's request.sizes() (CDP encodedDataLength).

    A CDP session on the page alone (Network.loadingFinished) misses the service worker's own fetches:
    its precache on install, and everything it fetches for the page once it controls it (the decoder
    included), which the page then sees as 0 bytes. The context's requestfinished events cover both.
    """

    proxy: CountingProxy
    pending: list[asyncio.Future[None]] = field(default_factory=list)
    phase: Phase = field(default_factory=Phase)
    wire_mark: int = 0

    def on_finished(self, request: Request) -> None:
        self.pending.append(asyncio.ensure_future(self._record(request)))

    async def _record(self, request: Request) -> None:
        try:
            sizes = await request.sizes()
        except Error:
            return
        sent = max(0, sizes["responseBodySize"] + sizes["responseHeadersSize"])
        path = urlsplit(request.url).path
        kind = (
            "api"
            if path.startswith("/api/")
            else "decoder"
            if path.startswith("/vendor/")
            else "screens"
            if path.startswith(("/js/", "/css/")) and path not in SHELL_PATHS
            else "shell"
        )
        self.phase.answered += 1
        if sent:
            self.phase.bytes[kind] += sent
            self.phase.requests += 1
            self.phase.downloaded.append(path)
            if request.service_worker:
                self.phase.by_worker += sent

    async def mark(self) -> Phase:
        await asyncio.gather(*self.pending)
        self.pending.clear()
        done, self.phase = self.phase, Phase()
        done.wire = self.proxy.down - self.wire_mark
        self.wire_mark = self.proxy.down
        return done


def start_service(var_dir: Path, port: int, log: IO[str]) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "CLINITRACK_VAR_DIR": str(var_dir),
        "CLINITRACK_SCHEDULER": "off",
        "CLINITRACK_LOG_LEVEL": "warning",
    }
    env.pop("CLINITRACK_DATABASE_URL", None)  # a throwaway SQLite database in var_dir
    env.pop("CLINITRACK_WORKERS", None)
    for step in (["migrate"], ["seed", "demo"]):
        subprocess.run(
            [sys.executable, "-m", "server", *step], env=env, cwd=ROOT, check=True, capture_output=True
        )
    proc = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--no-migrate", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_service(proc)
            raise RuntimeError(f"the service did not start:\n{Path(log.name).read_text()}")
        time.sleep(0.2)


def stop_service(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def machine() -> dict[str, str]:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
    }


async def first_read(page: Page, timeout_ms: int = 30_000) -> float:
    """Tap Start camera; seconds until the scan screen shows the code."""
    await page.evaluate("document.querySelector('#scan-result')?.removeAttribute('data-raw')")
    began = time.perf_counter()
    await page.click(".scanner-start")
    await page.wait_for_selector("#scan-result[data-raw]", state="attached", timeout=timeout_ms)
    elapsed = time.perf_counter() - began
    raw = await page.get_attribute("#scan-result", "data-raw")
    if raw != LABEL:
        raise RuntimeError(f"the camera read {raw!r}, not {LABEL!r}")
    return elapsed


async def wait_for_frames(page: Page, frames: int, timeout_s: float = 120) -> None:
    """Poll the scanner's frame count (wait_for_function would need eval, which the CSP forbids)."""
    deadline = time.monotonic() + timeout_s
    while (await page.evaluate("window.__scannerStats?.frames ?? 0")) < frames:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the camera did not decode {frames} frames in {timeout_s:.0f} s")
        await asyncio.sleep(0.2)


async def settle(page: Page) -> None:
    """Let the page's requests finish (the service worker's precache included)."""
    await page.evaluate("navigator.serviceWorker ? navigator.serviceWorker.ready.then(() => true) : true")
    await page.wait_for_timeout(800)


async def measure(chromium: str, frames: int, workdir: Path) -> dict[str, Any]:
    port = free_port()
    video = write_y4m(code128_image(LABEL), workdir / "code128.y4m")
    with (workdir / "service.log").open("w") as log:
        proc = start_service(workdir / "var", port, log)
        try:
            return await drive(chromium, frames, video, port)
        finally:
            stop_service(proc)


async def drive(chromium: str, frames: int, video: Path, port: int) -> dict[str, Any]:
    proxy = CountingProxy(port)
    try:
        await proxy.start()
        base = f"http://127.0.0.1:{proxy.port}"
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=chromium,
                headless=True,
                args=[*CHROMIUM_ARGS, f"--use-file-for-fake-video-capture={video}"],
            )
            try:
                ctx = await browser.new_context(
                    base_url=base, viewport={"width": 360, "height": 640}, has_touch=True
                )
                page = await ctx.new_page()
                meter = Meter(proxy)
                ctx.on("requestfinished", meter.on_finished)
                await meter.mark()

                await page.goto("/")
                await page.fill("input[name=username]", USERNAME)
                await page.fill("input[name=password]", PASSWORD)
                await page.click("button[type=submit]")
                await page.wait_for_selector(".scanner-start")
                await settle(page)
                # The role's screens, loaded once the worker controls the page (app.js warmScreens).
                await page.wait_for_selector("html[data-screens-cached]", state="attached", timeout=60_000)
                await settle(page)
                first = await meter.mark()

                cold_read = await first_read(page)
                await wait_for_frames(page, frames)
                stats = await page.evaluate("window.__scannerStats")
                await page.click(".scanner-stop")
                await settle(page)
                camera = await meter.mark()

                await page.reload()
                await page.wait_for_selector(".scanner-start")
                await settle(page)
                repeat = await meter.mark()
                controlled = await page.evaluate("!!navigator.serviceWorker.controller")

                warm_read = await first_read(page)
                await page.click(".scanner-stop")
                await settle(page)
                camera_again = await meter.mark()
                return {
                    "chromium": browser.version,
                    "first": first,
                    "camera": camera,
                    "repeat": repeat,
                    "camera_again": camera_again,
                    "controlled": controlled,
                    "cold_read": cold_read,
                    "warm_read": warm_read,
                    "stats": stats,
                    "frames": frames,
                }
            finally:
                await browser.close()
    finally:
        await proxy.close()


def kb(n: int) -> str:
    return f"{n / 1000:.1f} KB"


def report(r: dict[str, Any]) -> str:
    lines = [f"{k + ':':<10} {v}" for k, v in machine().items()]
    lines.append(f"{'Chromium:':<10} {r['chromium']} (headless, fake camera showing a Code 128 label)")
    lines.append("")
    head = ("phase", "app shell", "screens", "decoder", "API", "total", "wire", "requests")
    table = [head]
    phases = [
        ("first load, signed in, before camera", r["first"]),
        ("camera opened (decoder loaded)", r["camera"]),
        ("repeat load (reload)", r["repeat"]),
        ("camera opened again after reload", r["camera_again"]),
    ]
    for name, p in phases:
        table.append(
            (
                name,
                kb(p.bytes["shell"]),
                kb(p.bytes["screens"]),
                kb(p.bytes["decoder"]),
                kb(p.bytes["api"]),
                kb(p.total),
                kb(p.wire),
                f"{p.requests} of {p.answered}",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for i, row in enumerate(table):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    first = r["first"]
    verdict = "within" if first.bytes["shell"] <= BUDGET_KB * 1000 else "OVER"
    lines += [
        "",
        "Bytes are compressed body + headers of the requests that reached the network (page and service",
        "worker); 'wire' is every byte the service sent, counted by a TCP proxy; 'requests' is how many of",
        "the answered requests reached the network (the rest came from a cache or the service worker).",
        "",
        f"app shell before the camera: {kb(first.bytes['shell'])} of the {BUDGET_KB} KB budget: {verdict}"
        f" ({kb(first.by_worker)} fetched by the service worker); then the assistant's screens for"
        f" offline use: {kb(first.bytes['screens'])}",
        f"first load with the decoder: {kb(first.total + r['camera'].total)}",
        f"repeat load downloaded: {', '.join(r['repeat'].downloaded) or 'nothing'}"
        f" (controlled by the service worker: {r['controlled']})",
        f"camera after reload downloaded: {', '.join(r['camera_again'].downloaded) or 'nothing'}",
        "",
    ]
    ms = r["stats"]["decodeMs"][-r["frames"] :]
    p90 = sorted(ms)[max(0, round(len(ms) * 0.9) - 1)]
    lines += [
        f"decoder: {r['stats']['engine']}; detect() per frame over the last {len(ms)} frames of"
        f" {r['stats']['frames']}: median {statistics.median(ms):.1f} ms, mean {statistics.fmean(ms):.1f},"
        f" p90 {p90:.1f}, min {min(ms):.1f}, max {max(ms):.1f}",
        f"tap Start camera -> code shown: {r['cold_read'] * 1000:.0f} ms cold (decoder downloaded),"
        f" {r['warm_read'] * 1000:.0f} ms warm (decoder from the service worker's cache)",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--frames", type=int, default=30, help="frames to time (default 30)")
    parser.add_argument("--chromium", default=os.environ.get("CLINITRACK_CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clinitrack-bench-") as tmp:
        result = asyncio.run(measure(args.chromium, args.frames, Path(tmp)))
    sys.stdout.write(report(result))


if __name__ == "__main__":
    main()
