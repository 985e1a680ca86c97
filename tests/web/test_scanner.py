"""The scanner component in a real Chromium: fake camera, handheld-scanner bursts, typed codes.

The camera is Chromium's fake capture device playing a one-frame .y4m made from a barcode image
(tests/web/barcodes.py). Headless Chromium has no native BarcodeDetector, so these runs exercise the
zxing-wasm ponyfill with its .wasm served by the service; every request must stay on our origin.

What Playwright sends for GS (0x1D) in Chromium 156, measured (mobile_web/js/scanner.js has the details):
``keyboard.type("\\x1d")`` gives only beforeinput/input events, and only when a text field has focus
(nothing at all on the page body); ``keyboard.press("\\x1d")`` and ``keyboard.down("\\x1d")`` throw
"Unknown key"; ``keyboard.press("Control+BracketRight")`` gives keydown key "]" with ctrlKey.

So bursts on the page body are sent the way a USB scanner sends them, through CDP
``Input.dispatchKeyEvent`` with GS as Ctrl+] or as a key "\\x1d", each event stamped with the scanner's
own timing (8 ms a key): keyboard.type pays a round trip per key, and on a busy 2-core machine those
gaps passed 50 ms (seen with two busy loops running). A burst into a focused field uses
``keyboard.type`` itself, GS inside, which exercises the input-events-only path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page

from server.core.rules import Role
from tests.factories import PASSWORD, make_site, make_user
from tests.web.barcodes import code128_image, decode, gs1_datamatrix_image, write_y4m
from tests.web.conftest import PHONE, LaunchBrowser, NewContext

GS = "\x1d"
CODE128 = "INV-000123-LOT42"
GS1_HRI = "(01)09506000134352(17)261231(10)LOT42(21)SN001"
GS1_RAW = "01095060001343521726123110LOT42\x1d21SN001"
FAKE_UI = "--use-fake-ui-for-media-stream"
FAKE_DEVICE = "--use-fake-device-for-media-stream"
RESULT = "#scan-result[data-raw]"
TIMEOUT_MS = 15_000


@pytest.fixture
async def assistant() -> str:
    site = await make_site()
    await make_user("nurse", site_id=site, role=Role.ASSISTANT)
    return "nurse"


async def phone_context(browser: Browser, base: str, locale: str = "en-CA") -> BrowserContext:
    """As conftest's new_context, on a browser launched here with camera flags."""
    ctx = await browser.new_context(
        base_url=base,
        viewport=PHONE,  # type: ignore[arg-type]
        locale=locale,
        has_touch=True,
    )
    await ctx.route(lambda url: not url.startswith(base), lambda route: route.abort())
    return ctx


async def open_scan_screen(ctx: BrowserContext, username: str) -> tuple[Page, list[str]]:
    """Sign in through the login form; an assistant lands on the scan screen. Returns every URL asked."""
    page = await ctx.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    await page.goto("/")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/#/scan")
    await page.wait_for_selector(".scanner .scanner-manual-input")
    return page, requests


async def result(page: Page) -> tuple[str | None, str | None]:
    await page.wait_for_selector(RESULT, state="attached", timeout=TIMEOUT_MS)
    return await page.get_attribute(RESULT, "data-raw"), await page.get_attribute(RESULT, "data-source")


async def clear_result(page: Page) -> None:
    await page.evaluate("document.querySelector('#scan-result').removeAttribute('data-raw')")


@pytest.mark.parametrize(
    ("name", "make_image", "expected"),
    [
        pytest.param("code128", lambda: code128_image(CODE128), CODE128, id="code128"),
        pytest.param("gs1-datamatrix", lambda: gs1_datamatrix_image(GS1_HRI), GS1_RAW, id="gs1-datamatrix"),
    ],
)
async def test_camera_reads_the_exact_value(
    launch_browser: LaunchBrowser,
    live_server: str,
    assistant: str,
    tmp_path: Path,
    name: str,
    make_image: Callable[[], Image.Image],
    expected: str,
) -> None:
    image = make_image()
    assert [text for _, text in decode(image)] == [expected]  # the picture itself is right
    video = write_y4m(image, tmp_path / f"{name}.y4m")
    browser = await launch_browser(FAKE_UI, FAKE_DEVICE, f"--use-file-for-fake-video-capture={video}")
    page, requests = await open_scan_screen(await phone_context(browser, live_server), assistant)
    assert not [u for u in requests if "/vendor/" in u], "the decoder must wait until the camera opens"

    await page.click(".scanner-start")
    raw, source = await result(page)
    assert (raw, source) == (expected, "camera")
    assert await page.get_attribute(".scanner-last", "data-raw") == expected  # the component shows it too
    stats = await page.evaluate("window.__scannerStats")
    assert stats["engine"] == "zxing-wasm" and stats["frames"] >= 1
    assert f"{live_server}/vendor/zxing/zxing_reader.wasm" in requests
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # video fits
    assert requests and all(u.startswith(live_server) for u in requests), requests

    # Continuous mode: the same code, still in view, is not read again; Stop releases the camera.
    await clear_result(page)
    await page.wait_for_timeout(600)
    assert await page.query_selector(RESULT) is None
    await page.click(".scanner-stop")
    assert await page.is_visible(".scanner-start")
    assert await page.evaluate("document.querySelector('.scanner-video').srcObject") is None


async def install_key_clock(page: Page) -> None:
    """Record keydown times, so a failure can tell whether the burst really was fast."""
    await page.evaluate(
        "window.__keys = []; document.addEventListener('keydown', (e) => __keys.push(e.timeStamp), true)"
    )


async def key_gaps(page: Page) -> list[int]:
    gaps = await page.evaluate("__keys.slice(1).map((t, i) => Math.round(t - __keys[i]))")
    return [int(gap) for gap in gaps]


CTRL, SHIFT = 2, 8  # CDP modifier bits
CONTROL, SHIFT_KEY = ("Control", "ControlLeft", 17, CTRL), ("Shift", "ShiftLeft", 16, SHIFT)
KEY_MS, HOLD_MS = 8, 3  # a USB scanner: a key every 8 ms, each held 3 ms


def scanner_keys(text: str, *, gs: str, end: str) -> list[dict[str, object]]:
    """Key events as a wedge scanner sends them: Shift for capitals, GS as Ctrl+] or as key "\\x1d"."""
    keys: list[dict[str, object]] = []

    def press(key: str, code: str, vk: int, modifiers: int = 0, text: str | None = None) -> None:
        down = {"key": key, "code": code, "windowsVirtualKeyCode": vk, "modifiers": modifiers}
        keys.append({"type": "keyDown", **down, **({"text": text} if text else {})})
        keys.append({"type": "keyUp", **down})

    def chord(modifier: tuple[str, str, int, int], key: str, code: str, vk: int, text: str | None) -> None:
        name, mod_code, mod_vk, bit = modifier
        mod = {"key": name, "code": mod_code, "windowsVirtualKeyCode": mod_vk}
        keys.append({"type": "rawKeyDown", **mod, "modifiers": bit})
        press(key, code, vk, bit, text)
        keys.append({"type": "keyUp", **mod})

    for ch in text:
        if ch == GS and gs == "ctrl":
            chord(CONTROL, "]", "BracketRight", 221, None)
        elif ch == GS:
            chord(CONTROL, GS, "", 0, None)
        elif ch.isupper():
            chord(SHIFT_KEY, ch, f"Key{ch}", ord(ch), ch)
        else:
            code = f"Digit{ch}" if ch.isdigit() else f"Key{ch.upper()}" if ch.isalpha() else ""
            press(ch, code, ord(ch.upper()), 0, ch)
    if end == "Enter":
        press("Enter", "Enter", 13, 0, "\r")
    else:
        press("Tab", "Tab", 9)
    return keys


async def scan_with_wedge(page: Page, text: str, *, gs: str = "ctrl", end: str = "Enter") -> None:
    """Send a scanner burst through CDP. Each event carries the time the scanner would have sent it
    (event.timeStamp in the page), so the burst is as fast as a real scanner's however busy the test
    machine is; Playwright's keyboard.type waits for a round trip per key."""
    cdp = await page.context.new_cdp_session(page)
    # Stamped in the past: a stamp still in the future when Chromium handles the key could be
    # replaced by the handling time, and a busy machine would then split the burst.
    clock = time.time() - 2.0
    stamped = []
    for event in scanner_keys(text, gs=gs, end=end):
        clock += (KEY_MS if event["type"] != "keyUp" else HOLD_MS) / 1000
        stamped.append({**event, "timestamp": clock})
    # All sent at once, in order (each message is written before its answer is awaited): waiting for
    # a round trip per key let a starved test process leave gaps longer than the scanner's
    # "no Enter came" timer, which then split the burst (seen once in CI at a load average of 10).
    await asyncio.gather(*(cdp.send("Input.dispatchKeyEvent", event) for event in stamped))
    await cdp.detach()


async def test_wedge_burst_anywhere_keeps_gs(new_context: NewContext, assistant: str) -> None:
    page, _ = await open_scan_screen(await new_context(), assistant)
    await page.evaluate("document.activeElement.blur()")

    # GS as Ctrl+] (how wedge scanners type ASCII 0x1D), ended by Enter, nothing focused.
    await scan_with_wedge(page, f"0109506000134352{GS}21SN001", gs="ctrl", end="Enter")
    assert await result(page) == (f"0109506000134352{GS}21SN001", "wedge")

    # GS as a keydown whose key is "\x1d" with Ctrl held (some scanners and layouts), ended by Tab.
    await clear_result(page)
    await scan_with_wedge(page, f"10LOT42{GS}21SN002", gs="key", end="Tab")
    assert await result(page) == (f"10LOT42{GS}21SN002", "wedge")

    # A person typing at a normal pace in the manual field is not taken for a scanner.
    await clear_result(page)
    await page.focus(".scanner-manual-input")
    await page.keyboard.type("LOT42", delay=110)
    assert await page.input_value(".scanner-manual-input") == "LOT42"
    await page.keyboard.press("Enter")
    assert await result(page) == ("LOT42", "manual")


async def test_wedge_burst_into_a_focused_field_does_not_type_into_it(
    new_context: NewContext, assistant: str
) -> None:
    page, _ = await open_scan_screen(await new_context(), assistant)
    field = ".scanner-manual-input"
    await page.fill(field, "half-typed")
    await page.focus(field)
    await install_key_clock(page)
    await page.keyboard.type(f"0109506000134352{GS}17261231{GS}21SN001")  # GS arrives as input events only
    await page.keyboard.press("Enter")
    raw, source = await result(page)
    assert (raw, source) == (f"0109506000134352{GS}17261231{GS}21SN001", "wedge"), await key_gaps(page)
    assert await page.input_value(field) == "half-typed"
    assert await page.evaluate("document.activeElement.name") == "code"  # focus stayed where it was


async def test_manual_entry_passes_gs1_text_unchanged(new_context: NewContext, assistant: str) -> None:
    page, _ = await open_scan_screen(await new_context(), assistant)
    typed = "(01)09506000134352(17)261231(10)LOT42"
    await page.get_by_label("Type the code").fill(typed)
    await page.get_by_role("button", name="Use this code").click()
    assert await result(page) == (typed, "manual")
    assert await page.input_value(".scanner-manual-input") == ""  # ready for the next one


@pytest.mark.parametrize(
    ("problem", "flags", "message"),
    [
        # Headless Chromium without a fake device has no camera: NotFoundError.
        pytest.param("absent", (), "No camera was found", id="absent"),
        # A camera, but no permission given (no fake UI to say yes): NotAllowedError.
        pytest.param("denied", (FAKE_DEVICE,), "The camera is blocked", id="denied"),
    ],
)
async def test_no_camera_says_so_and_typing_still_works(
    launch_browser: LaunchBrowser,
    live_server: str,
    assistant: str,
    problem: str,
    flags: tuple[str, ...],
    message: str,
) -> None:
    browser = await launch_browser(*flags)
    page, requests = await open_scan_screen(await phone_context(browser, live_server), assistant)
    await page.click(".scanner-start")
    notice = page.locator(f".scanner-problem[data-problem={problem}]")
    await notice.wait_for(state="visible", timeout=TIMEOUT_MS)
    text = await notice.inner_text()
    assert message in text and "handheld scanner" in text and "type the code" in text
    assert not [u for u in requests if "/vendor/" in u], "no camera: the decoder is never downloaded"
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    await page.fill(".scanner-manual-input", "0109506000134352")
    await page.click(".scanner-manual-submit")
    assert await result(page) == ("0109506000134352", "manual")


async def test_decoder_that_cannot_load_says_so(
    launch_browser: LaunchBrowser, live_server: str, assistant: str, tmp_path: Path
) -> None:
    # First camera use with no connection: the decoder is not cached yet.
    video = write_y4m(code128_image(CODE128), tmp_path / "code128.y4m")
    browser = await launch_browser(FAKE_UI, FAKE_DEVICE, f"--use-file-for-fake-video-capture={video}")
    ctx = await phone_context(browser, live_server)
    await ctx.route("**/vendor/zxing/**", lambda route: route.abort("internetdisconnected"))
    page, _ = await open_scan_screen(ctx, assistant)
    await page.click(".scanner-start")
    notice = page.locator(".scanner-problem[data-problem=decoder]")
    await notice.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "barcode reader could not load" in await notice.inner_text()
    assert await page.is_visible(".scanner-start")  # camera released, ready to try again
    assert await page.evaluate("document.querySelector('.scanner-video').srcObject") is None


async def test_insecure_origin_says_so_before_any_tap(
    launch_browser: LaunchBrowser, live_server: str, assistant: str
) -> None:
    # The same service under a name that is not localhost, over plain http: not a secure context.
    port = live_server.rsplit(":", 1)[1]
    browser = await launch_browser(FAKE_UI, FAKE_DEVICE, "--host-resolver-rules=MAP clinic.test 127.0.0.1")
    insecure = f"http://clinic.test:{port}"
    page, requests = await open_scan_screen(await phone_context(browser, insecure), assistant)
    assert await page.evaluate("isSecureContext") is False
    notice = page.locator(".scanner-problem[data-problem=insecure]")
    assert await notice.is_visible()
    assert "secure (https)" in await notice.inner_text()
    assert not await page.is_visible(".scanner-start")
    await scan_with_wedge(page, "0109506000134352")
    assert await result(page) == ("0109506000134352", "wedge")
    assert all(u.startswith(insecure) for u in requests), requests


async def test_french_scanner(new_context: NewContext, assistant: str) -> None:
    page, _ = await open_scan_screen(await new_context(locale="fr-CA"), assistant)
    assert await page.inner_text(".scanner-start") == "Démarrer la caméra"
    assert await page.inner_text(".scanner-manual label") == "Taper le code"
