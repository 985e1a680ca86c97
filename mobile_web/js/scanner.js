// The shared scanner component: camera, handheld scanner (keyboard wedge) and typed codes, one callback.
//
//   const scanner = mountScanner(container, { onScan(raw, meta) {} });   // meta: {source, format?}
//   scanner.destroy();                                                    // camera off, listeners gone
//
// `raw` is exactly what was read; a GS1 separator stays "\x1d". Nothing is parsed here: the server
// recognizes GS1 content by itself (BarcodeDetector gives no symbology identifier).
//
// The camera decoder is loaded only when the camera is opened, so it costs nothing on first load: the
// browser's own BarcodeDetector when it reads every format below, otherwise the barcode-detector
// ponyfill (zxing-wasm) with its .wasm served by our service, never a CDN.
import "/js/scanner-strings.js";
import { t } from "/js/i18n.js";
import { h } from "/js/ui.js";

export const FORMATS = ["code_128", "ean_13", "ean_8", "upc_a", "data_matrix", "qr_code"];
const GS = "\x1d";
const REPEAT_MS = 2000; // camera: a code is ignored until it has been out of view this long
const FRAME_MS = 90; // pause between two decode attempts
const MAX_FAILED_FRAMES = 5; // decoder errors in a row before giving up
const WEDGE_GAP_MS = 50; // handheld scanners send keys a few ms apart; people type slower
const WEDGE_MIN = 4; // characters before a fast burst counts as a scan

// Measurement hook for bench/web_load.py: which decoder ran and the last decode times (ms).
const stats = { engine: null, frames: 0, decodeMs: [] };

let detectorPromise = null;
let mounted = 0; // for unique element ids

async function createDetector() {
  const Native = globalThis.BarcodeDetector;
  if (typeof Native?.getSupportedFormats === "function") {
    try {
      const supported = await Native.getSupportedFormats();
      if (FORMATS.every((f) => supported.includes(f))) return { detector: new Native({ formats: FORMATS }), engine: "native" };
    } catch { /* no usable native detector: use the ponyfill */ }
  }
  const { BarcodeDetector, prepareZXingModule } = await import("/vendor/barcode-detector/ponyfill.js");
  // Without this the .wasm is fetched from a CDN (stack-notes §5). Awaited, so a failed download shows.
  await prepareZXingModule({
    overrides: {
      locateFile: (path, prefix) => (path.endsWith(".wasm") ? new URL(`/vendor/zxing/${path}`, location.href).href : prefix + path),
    },
    fireImmediately: true,
  });
  return { detector: new BarcodeDetector({ formats: FORMATS }), engine: "zxing-wasm" };
}

/** The page's one decoder, loaded on first use; a failed load is retried on the next call. */
export function loadDetector() {
  detectorPromise ??= createDetector().catch((err) => {
    detectorPromise = null;
    throw err;
  });
  return detectorPromise;
}

function cameraProblem(err) {
  switch (err?.name) {
    case "NotAllowedError": case "SecurityError": case "PermissionDeniedError": return "denied";
    case "NotFoundError": case "DevicesNotFoundError": case "OverconstrainedError": return "absent";
    case "NotReadableError": case "TrackStartError": case "AbortError": return "busy";
    default: return "failed";
  }
}

function isField(el) {
  return el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement;
}

/**
 * Keyboard-wedge scanners type the code as fast keystrokes, then Enter or Tab. A burst is at least
 * WEDGE_MIN characters less than WEDGE_GAP_MS apart, ended by Enter/Tab within the same gap; it is taken
 * as one scan wherever the focus is. Once a burst is recognised its keys are cancelled, and the field
 * it landed in (if any) gets back the value it had before the burst. A fast run that never ends in
 * Enter/Tab gives the cancelled keys back to the field, so quick human typing loses nothing.
 *
 * GS (0x1D) arrives in one of three ways, all handled:
 *  - keydown with key "\x1d" (scanners/OSes that map GS to a key; also CDP Input.dispatchKeyEvent);
 *  - keydown Ctrl+] (key "]" with ctrlKey, code "BracketRight"): the ASCII control-key way many
 *    wedge scanners type GS;
 *  - no keydown at all, only beforeinput/input with data "\x1d", and only when a text field has focus.
 * Measured in Chromium 156 with Playwright 1.65: keyboard.type("A\x1dB") gives keydown/keyup for A and
 * B but only beforeinput+input (data "\x1d") for the GS, and nothing at all when no field has focus;
 * keyboard.press("\x1d") and keyboard.down("\x1d") throw "Unknown key"; keyboard.insert_text("\x1d")
 * gives only beforeinput+input; keyboard.press("Control+BracketRight") gives keydown key "]" ctrlKey.
 * Gaps are measured with event.timeStamp (when the key event was made, for a real scanner when the OS
 * got it), not when a busy page gets round to it. tests/web/test_scanner.py sends page-wide bursts
 * through CDP stamped with a scanner's timing (GS as Ctrl+] and as key "\x1d"), and a burst into a
 * field with keyboard.type (GS as input events only).
 */
function wedgeListener(onBurst) {
  let chars = [];
  let last = -Infinity;
  let snapshot = null; // {el, value, start, end} of the field the burst started in
  let held = ""; // keys cancelled since the burst was recognised
  let keyed = null; // the character the last keydown took, so its own beforeinput is not counted twice
  let timer = 0;

  function reset() {
    chars = [];
    snapshot = null;
    held = "";
    clearTimeout(timer);
  }

  // A fast run that did not end in Enter/Tab was typing: give back the keys that were held.
  function abandon() {
    const el = snapshot?.el;
    if (held && el && el === document.activeElement && typeof el.setRangeText === "function") {
      try {
        el.setRangeText(held, el.selectionStart, el.selectionEnd, "end");
        el.dispatchEvent(new Event("input", { bubbles: true }));
      } catch { /* a field without a text selection (email, number): nothing to give back */ }
    }
    reset();
  }

  function begin(target) {
    abandon();
    if (isField(target)) {
      snapshot = { el: target, value: target.value, start: target.selectionStart ?? null, end: target.selectionEnd ?? null };
    }
  }

  function take(ch, event) {
    if (chars.length === 0 || event.timeStamp - last > WEDGE_GAP_MS) begin(event.target);
    chars.push(ch);
    last = event.timeStamp;
    if (chars.length >= WEDGE_MIN) {
      event.preventDefault();
      held += ch;
      // No Enter/Tab soon after: it was fast typing, give the keys back.
      clearTimeout(timer);
      timer = setTimeout(abandon, WEDGE_GAP_MS * 3);
    }
  }

  function restore() {
    const s = snapshot;
    if (!s || !s.el.isConnected || s.el.value === s.value) return;
    s.el.value = s.value;
    try { if (s.start !== null) s.el.setSelectionRange(s.start, s.end); } catch { /* not a text field */ }
    s.el.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function charOf(e) {
    if (e.key === GS) return GS;
    if (e.ctrlKey && !e.altKey && !e.metaKey && (e.code === "BracketRight" || e.key === "]")) return GS;
    // AltGr reports ctrlKey + altKey on Windows: still a printable character.
    if ([...e.key].length === 1 && !e.metaKey && (!e.ctrlKey || e.altKey)) return e.key;
    return null;
  }

  function onKeydown(e) {
    keyed = null;
    if (e.isComposing || e.repeat) return abandon();
    const fast = e.timeStamp - last <= WEDGE_GAP_MS;
    if (e.key === "Enter" || e.key === "Tab") {
      if (fast && chars.length >= WEDGE_MIN) {
        e.preventDefault();
        e.stopImmediatePropagation();
        const raw = chars.join("");
        restore();
        reset();
        last = -Infinity;
        onBurst(raw);
      } else {
        abandon();
      }
      return;
    }
    if (["Shift", "Control", "Alt", "AltGraph", "Meta", "CapsLock"].includes(e.key)) return;
    const ch = charOf(e);
    if (ch === null) return abandon();
    keyed = ch;
    take(ch, e);
  }

  function onBeforeInput(e) {
    if (e.inputType !== "insertText" || !e.data) return;
    if (keyed !== null && e.data === keyed) {
      keyed = null;
      return; // the text of a keydown already taken
    }
    keyed = null;
    if (e.data === GS) take(GS, e); // a GS that came with no keydown
  }

  document.addEventListener("keydown", onKeydown, true);
  document.addEventListener("beforeinput", onBeforeInput, true);
  return () => {
    document.removeEventListener("keydown", onKeydown, true);
    document.removeEventListener("beforeinput", onBeforeInput, true);
    abandon();
  };
}

function ensureStylesheet() {
  if (document.querySelector('link[href="/css/scanner.css"]')) return;
  document.head.append(h("link", { rel: "stylesheet", href: "/css/scanner.css" }));
}

export function mountScanner(container, { onScan }) {
  ensureStylesheet();
  let run = 0; // bumped by every start/stop: a camera start that was overtaken gives up
  let stream = null;
  let timer = 0;
  let audio = null;
  const seen = new Map(); // raw -> last time the camera saw it

  const startButton = h("button", { type: "button", class: "btn btn-primary btn-block scanner-start", onclick: start },
    t("scanner.start"));
  const stopButton = h("button", { type: "button", class: "btn scanner-stop", onclick: stop }, t("scanner.stop"));
  const torchButton = h("button", { type: "button", class: "btn scanner-torch", "aria-pressed": "false", hidden: true,
    onclick: toggleTorch }, t("scanner.torch"));
  const video = h("video", { class: "scanner-video", muted: true, playsinline: true, autoplay: true,
    "aria-label": t("scanner.video") });
  video.muted = true;
  const viewport = h("div", { class: "scanner-viewport", hidden: true }, video);
  const controls = h("div", { class: "scanner-controls", hidden: true }, torchButton, stopButton);
  const status = h("p", { class: "scanner-status muted", role: "status" });
  const problem = h("p", { class: "notice notice-alert scanner-problem", role: "alert", hidden: true });
  const lastRead = h("p", { class: "scanner-last", "aria-live": "polite", hidden: true });

  const ids = `scanner-${++mounted}`;
  const manualInput = h("input", { name: "code", class: "scanner-manual-input", autocomplete: "off",
    autocapitalize: "none", autocorrect: "off", spellcheck: "false", enterkeyhint: "done",
    "aria-describedby": `${ids}-hint` });
  manualInput.id = `${ids}-code`;
  const manualError = h("p", { class: "field-error", role: "alert", hidden: true });
  const manualForm = h("form", { class: "scanner-manual", novalidate: true, onsubmit: submitManual },
    h("label", { for: manualInput.id }, t("scanner.manual_label")),
    h("p", { id: `${ids}-hint`, class: "muted scanner-hint" }, t("scanner.manual_hint")),
    h("div", { class: "scanner-manual-row" }, manualInput,
      h("button", { type: "submit", class: "btn scanner-manual-submit" }, t("scanner.manual_submit"))),
    manualError);

  const root = h("div", { class: "scanner", role: "region", "aria-label": t("scanner.region") },
    h("div", { class: "scanner-camera" }, startButton, viewport, controls, status, problem),
    lastRead,
    h("p", { class: "scanner-wedge muted" }, t("scanner.wedge_hint")),
    manualForm);
  container.replaceChildren(root);

  // Known before any tap: say so at once, and leave the handheld scanner and typing.
  if (!globalThis.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
    showProblem(globalThis.isSecureContext ? "absent" : "insecure");
    startButton.hidden = true;
  }

  function showProblem(kind) {
    problem.dataset.problem = kind;
    problem.textContent = t(kind === "decoder" ? "scanner.decoder_failed" : `scanner.${kind}`);
    problem.hidden = false;
    status.textContent = "";
  }

  function emit(raw, meta) {
    lastRead.replaceChildren(h("span", { class: "scanner-last-source" }, t(`scanner.read_${meta.source}`)),
      h("span", { class: "scanner-last-raw mono" }, raw.replaceAll(GS, "⟨GS⟩")));
    lastRead.dataset.raw = raw;
    lastRead.dataset.source = meta.source;
    lastRead.hidden = false;
    onScan(raw, meta);
  }

  function feedback() {
    try {
      if (audio) {
        if (audio.state === "suspended") audio.resume().catch(() => {});
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.frequency.value = 1600;
        gain.gain.value = 0.12;
        osc.connect(gain).connect(audio.destination);
        osc.start();
        osc.stop(audio.currentTime + 0.08);
      }
    } catch { /* no sound: the vibration and the text still tell */ }
    navigator.vibrate?.(80);
    viewport.classList.remove("scanner-hit");
    void viewport.offsetWidth; // restart the flash
    viewport.classList.add("scanner-hit");
  }

  async function start() {
    if (stream || startButton.disabled) return;
    problem.hidden = true;
    if (!globalThis.isSecureContext) return showProblem("insecure");
    if (!navigator.mediaDevices?.getUserMedia) return showProblem("absent");
    // Audio may only start from a tap: make the beep's context now.
    try { audio ??= new AudioContext(); } catch { audio = null; }
    const mine = ++run;
    startButton.disabled = true;
    status.textContent = t("scanner.starting");
    let media;
    try {
      media = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
    } catch (err) {
      if (mine === run) {
        startButton.disabled = false;
        showProblem(cameraProblem(err));
      }
      return;
    }
    if (mine !== run) return media.getTracks().forEach((track) => track.stop());
    stream = media;
    video.srcObject = stream;
    viewport.hidden = false;
    controls.hidden = false;
    startButton.hidden = true;
    startButton.disabled = false;
    const track = stream.getVideoTracks()[0];
    torchButton.hidden = !track?.getCapabilities?.().torch;
    torchButton.setAttribute("aria-pressed", "false");
    status.textContent = t("scanner.loading");
    let loaded;
    try {
      [loaded] = await Promise.all([loadDetector(), video.play()]);
    } catch (err) {
      if (mine !== run) return;
      stop();
      showProblem(err?.name === "NotAllowedError" || err?.name === "AbortError" ? "failed" : "decoder");
      return;
    }
    if (mine !== run) return;
    stats.engine = loaded.engine;
    globalThis.__scannerStats = stats;
    status.textContent = t("scanner.aim");
    tick(mine, loaded.detector, 0);
  }

  async function tick(mine, detector, failures) {
    if (mine !== run) return;
    if (video.readyState >= HTMLMediaElement.HAVE_CURRENT_DATA && video.videoWidth > 0) {
      const began = performance.now();
      let codes = [];
      try {
        codes = await detector.detect(video);
        failures = 0;
      } catch {
        failures += 1;
      }
      stats.frames += 1;
      stats.decodeMs.push(performance.now() - began);
      if (stats.decodeMs.length > 120) stats.decodeMs.shift();
      if (mine !== run) return;
      if (failures >= MAX_FAILED_FRAMES) {
        stop();
        return showProblem("decoder");
      }
      const now = performance.now();
      for (const [raw, at] of seen) if (now - at > REPEAT_MS) seen.delete(raw);
      for (const code of codes) {
        const raw = code.rawValue;
        if (!raw) continue;
        const known = seen.has(raw);
        seen.set(raw, now); // still in view: keep ignoring it
        if (known) continue;
        feedback();
        emit(raw, { source: "camera", format: code.format });
        if (mine !== run) return; // onScan may have stopped or destroyed the scanner
      }
    }
    timer = setTimeout(() => tick(mine, detector, failures), FRAME_MS);
  }

  function stop() {
    const wasOn = stream !== null;
    const refocus = controls.contains(document.activeElement);
    run += 1;
    clearTimeout(timer);
    stream?.getTracks().forEach((track) => track.stop());
    stream = null;
    video.pause();
    video.srcObject = null;
    viewport.hidden = true;
    controls.hidden = true;
    torchButton.hidden = true;
    startButton.hidden = false;
    startButton.disabled = false;
    seen.clear();
    status.textContent = wasOn ? t("scanner.stopped") : "";
    if (refocus) startButton.focus();
  }

  async function toggleTorch() {
    const track = stream?.getVideoTracks()[0];
    if (!track) return;
    const on = torchButton.getAttribute("aria-pressed") !== "true";
    try {
      await track.applyConstraints({ advanced: [{ torch: on }] });
      torchButton.setAttribute("aria-pressed", String(on));
    } catch {
      torchButton.hidden = true;
    }
  }

  function submitManual(event) {
    event.preventDefault();
    const raw = manualInput.value;
    if (!raw.trim()) {
      manualError.textContent = t("scanner.manual_empty");
      manualError.hidden = false;
      manualInput.focus();
      return;
    }
    manualError.hidden = true;
    manualInput.value = "";
    emit(raw, { source: "manual" }); // unchanged: the server normalizes GS1 text
  }

  // The camera is released when the app goes to the background; tap Start again on return.
  function onVisibility() {
    if (document.hidden && stream) stop();
  }
  document.addEventListener("visibilitychange", onVisibility);
  const removeWedge = wedgeListener((raw) => emit(raw, { source: "wedge" }));

  return {
    destroy() {
      stop();
      removeWedge();
      document.removeEventListener("visibilitychange", onVisibility);
      audio?.close().catch(() => {});
      audio = null;
      container.replaceChildren();
    },
    start,
    stop,
  };
}
