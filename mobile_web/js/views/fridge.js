// Cold chain. #/fridge?id=<location>: one fridge (what scanning its label opens): range, last reading,
// an open incident, and the reading form (current, min, max in big inputs; through the outbox, so
// a reading taken offline lands once). An out-of-range value is flagged on the phone at once, even
// offline. #/coldchain: every fridge with its state, then the incidents.
import { ApiError, get, writeNow } from "/js/api.js";
import "/js/coldchain-strings.js";
import { formatDateTime, formatNumber, problemText, t } from "/js/i18n.js";
import { api, hashParams, isManager, outcomeNotice, sendWrite } from "/js/stock-actions.js";
import { role, state } from "/js/state.js";
import { confirmDialog, field, h, screen, toast } from "/js/ui.js";

const CACHE_KEY = "clinitrack.fridges";
const INITIALS_KEY = "clinitrack.initials";
let carried = null;

const deg = (v) => (v === null || v === undefined ? "–" : formatNumber(v, { minimumFractionDigits: 1, maximumFractionDigits: 1 }));

function remember(fridge) {
  const all = JSON.parse(localStorage.getItem(CACHE_KEY) || "{}");
  all[`${state.siteId}:${fridge.location_id}`] = fridge;
  localStorage.setItem(CACHE_KEY, JSON.stringify(all));
}

async function loadFridge(id) {
  try {
    const fridge = await get(api(`/coldchain/fridges/${id}`));
    remember(fridge);
    return fridge;
  } catch (err) {
    const copy = err instanceof ApiError && err.isNetwork
      ? JSON.parse(localStorage.getItem(CACHE_KEY) || "{}")[`${state.siteId}:${id}`] : null;
    if (!copy) throw err;
    return copy;
  }
}

function lastLine(fridge) {
  const r = fridge.last_reading;
  if (!r) return h("p", { class: "muted", id: "cc-last" }, t("cc.never"));
  return h("p", { class: r.out_of_range.length ? "muted cc-bad" : "muted", id: "cc-last" },
    t("cc.last", { time: formatDateTime(r.taken_at), current: deg(r.current), min: deg(r.min), max: deg(r.max) }));
}

function tempInput(name, label) {
  const input = h("input", { type: "number", name, step: "0.1", min: "-90", max: "60", inputmode: "decimal",
    class: "cc-temp", required: true, autocomplete: "off" });
  return field(label, input);
}

function readingForm(fridge, rerender) {
  const initials = h("input", { name: "initials", maxlength: "8", autocomplete: "off", value: localStorage.getItem(INITIALS_KEY) || "" });
  const reset = h("input", { type: "checkbox", name: "reset", checked: true });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", id: "cc-save" }, t("cc.save"));
  const form = h("form", { class: "stack card", id: "cc-form", novalidate: true },
    h("div", { class: "cc-temps" }, tempInput("current", t("cc.current")), tempInput("min", t("cc.min")), tempInput("max", t("cc.max"))),
    h("label", { class: "check" }, reset, " ", t("cc.reset")),
    field(t("cc.initials"), initials), error, submit);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const values = ["current", "min", "max"].map((n) => form.elements[n].value.trim());
    error.hidden = true;
    if (values.some((v) => v === "")) {
      error.textContent = t("cc.missing_value");
      error.hidden = false;
      return;
    }
    const [current, min, max] = values.map(Number);
    if (!(min <= current && current <= max)) {
      error.textContent = t("cc.order");
      error.hidden = false;
      return;
    }
    const out = [current, min, max].some((v) => v < fridge.low || v > fridge.high);
    // A typo must not hold every vaccine in the unit: an out-of-range value is confirmed first.
    if (out && !(await confirmDialog(t("cc.confirm_out", { low: deg(fridge.low), high: deg(fridge.high) })))) return;
    localStorage.setItem(INITIALS_KEY, initials.value.trim());
    submit.disabled = true;
    const body = { current, min, max, reset: reset.checked, initials: initials.value.trim(), taken_at: new Date().toISOString() };
    const outcome = await sendWrite({ method: "POST", url: api(`/coldchain/fridges/${fridge.location_id}/readings`), body,
      label: `${t("cc.title")}: ${fridge.name} ${deg(current)} °C` });
    if (outcome.status === "rejected") {
      submit.disabled = false;
      form.prepend(outcomeNotice(outcome, ""));
      return;
    }
    const held = outcome.result?.incident;
    const notices = [outcomeNotice(outcome, `${t("cc.sent")} ${out ? "" : t("cc.in_range")}`)];
    if (held) notices.push(h("p", { class: "notice notice-alert", role: "alert", id: "cc-alert" }, t("cc.held", { n: held.lots.length })));
    else if (out) {
      notices.push(h("p", { class: "notice notice-alert", role: "alert", id: "cc-alert" },
        t("cc.out_local", { low: deg(fridge.low), high: deg(fridge.high) })));
    }
    carried = { id: fridge.location_id, notices };
    rerender();
  });
  return form;
}

async function fridgeScreen(view, id, { rerender }) {
  const fridge = await loadFridge(id);
  const children = [];
  if (carried?.id === fridge.location_id) children.push(...carried.notices);
  carried = null;
  children.push(h("p", { id: "cc-range" }, t("cc.range", { low: deg(fridge.low), high: deg(fridge.high) })), lastLine(fridge));
  if (fridge.open_incident_id) {
    children.push(h("p", { class: "notice notice-alert", role: "alert", id: "cc-incident" }, t("cc.incident_open"),
      " ", h("a", { href: `#/incidents?id=${fridge.open_incident_id}` }, t("cc.incident", { id: fridge.open_incident_id }))));
  }
  if (role() !== "inspector") children.push(readingForm(fridge, rerender)); // inspectors read only
  const from = new Date(Date.now() - 13 * 86_400_000).toISOString().slice(0, 10);
  const month = new Date().toISOString().slice(0, 7);
  children.push(h("h2", {}, t("cc.chart")),
    h("img", { class: "cc-chart", src: api(`/coldchain/fridges/${id}/chart.svg?from=${from}`),
      alt: t("cc.chart_alt", { name: fridge.name }), width: "720", height: "320" }),
    h("p", {}, h("a", { href: api(`/coldchain/fridges/${id}/log-sheet.pdf?month=${month}`), class: "link-more", download: "" }, t("cc.sheet"))),
    h("p", {}, h("a", { href: api(`/coldchain/fridges/${id}/readings.csv?from=${from}`), class: "link-more", download: "" }, t("cc.csv"))));
  const recent = await recentCard(fridge, rerender);
  if (recent) children.push(recent);
  if (role() !== "inspector") children.push(importCard(id, rerender));
  if (isManager()) children.push(rangeCard(fridge, rerender), h("a", { href: "#/incidents", class: "link-more" }, t("cc.incidents")));
  view.replaceChildren(screen(`${t("cc.title")}: ${fridge.name}`, ...children));
}

// --- recent readings and corrections (online only) ----------------------------------------------------

function correctionForm(fridge, reading, rerender) {
  const input = (name, value) => h("input", { type: "number", name, step: "0.1", min: "-90", max: "60", value, class: "cc-temp", required: true });
  const reason = h("input", { name: "reason", maxlength: "1000", required: true, autocomplete: "off" });
  const form = h("form", { class: "stack cc-correct" },
    h("div", { class: "cc-temps" }, field(t("cc.current"), input("current", reading.current)), field(t("cc.min"), input("min", reading.min)),
      field(t("cc.max"), input("max", reading.max))),
    field(t("cc.reason"), reason), h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("cc.correct_save")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const [current, min, max] = ["current", "min", "max"].map((n) => Number(form.elements[n].value));
    if (!reason.value.trim()) return reason.focus();
    if (!(min <= current && current <= max)) return toast(t("cc.order"), { error: true });
    const out = [current, min, max].some((v) => v < fridge.low || v > fridge.high);
    if (out && !(await confirmDialog(t("cc.confirm_out", { low: deg(fridge.low), high: deg(fridge.high) })))) return;
    await saveThen("POST", `/coldchain/fridges/${fridge.location_id}/readings/${reading.id}/correct`,
      { current, min, max, reason: reason.value.trim() }, rerender);
  });
  return form;
}

async function recentCard(fridge, rerender) {
  const from = new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10);
  let rows;
  try {
    rows = await get(api(`/coldchain/fridges/${fridge.location_id}/readings?from=${from}`));
  } catch (err) {
    if (err instanceof ApiError && err.isNetwork) return null;
    throw err;
  }
  const manual = rows.filter((r) => r.source === "manual").reverse().slice(0, 10);
  if (!manual.length) return null;
  const list = h("ul", { class: "list", id: "cc-recent" }, ...manual.map((r) => {
    const item = h("li", { class: "list-item cc-reading", dataset: { id: r.id, corrected: String(r.corrected) } },
      h("div", { class: "row-between" }, h("span", {}, formatDateTime(r.taken_at)),
        r.corrected ? h("span", { class: "badge badge-done" }, t("cc.corrected"))
          : r.out_of_range.length ? h("span", { class: "badge badge-alert" }, t("cc.out")) : null),
      h("span", {}, `${deg(r.current)} °C (min ${deg(r.min)}, max ${deg(r.max)}) ${r.initials}`),
      r.corrects ? h("span", { class: "muted" }, t("cc.correction_of", { reason: r.reason })) : null);
    if (!r.corrected && role() !== "inspector") {
      const open = h("button", { type: "button", class: "btn cc-correct-open", onclick: () => {
        open.replaceWith(correctionForm(fridge, r, rerender));
        item.querySelector("input[name=reason]")?.focus();
      } }, t("cc.correct"));
      item.append(open);
    }
    return item;
  }));
  return panel("cc-recent-panel", t("cc.recent"), list);
}

// --- logger import and managers' settings (online only) ---------------------------------------------

function importCard(id, rerender) {
  const input = h("input", { type: "file", name: "file", accept: ".csv,text/csv,text/plain" });
  const report = h("div", { id: "cc-import-report", "aria-live": "polite" });
  let text = null;
  const send = async (dryRun) => {
    try {
      const r = await writeNow("POST", api(`/coldchain/fridges/${id}/logger-import`), { csv: text, dry_run: dryRun });
      const lines = [t(dryRun ? "cc.import_preview" : "cc.import_done", { rows: r.rows, new: r.rows - r.already_recorded, done: r.imported }),
        t("cc.import_counts", { bad: r.errors.length, dup: r.duplicates.length, gaps: r.gaps.length, out: r.out_of_range })];
      const items = [...r.errors.map((e) => t("cc.import_bad", { row: e.row, message: e.message })),
        ...r.gaps.map((g) => t("cc.import_gap", { from: formatDateTime(g.from), to: formatDateTime(g.to), min: g.minutes }))];
      report.replaceChildren(...lines.map((l) => h("p", {}, l)), items.length ? h("ul", {}, ...items.slice(0, 50).map((i) => h("li", {}, i))) : null);
      if (r.out_of_range) report.append(h("p", { class: "notice notice-alert", role: "alert" }, t(dryRun ? "cc.import_will_hold" : "cc.import_held")));
      if (dryRun && r.rows - r.already_recorded > 0) {
        report.append(h("button", { type: "button", class: "btn btn-primary btn-block", id: "cc-import-go", onclick: () => send(false) },
          t("cc.import_go", { n: r.rows - r.already_recorded })));
      }
      if (!dryRun) rerender();
    } catch (err) {
      report.replaceChildren(h("p", { class: "notice notice-alert", role: "alert" }, problemText(err.problem)));
    }
  };
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    if (!file) return;
    text = await file.text();
    send(true);
  });
  return h("details", { class: "card", id: "cc-import" }, h("summary", {}, t("cc.import")),
    h("p", { class: "muted" }, t("cc.import_hint")), field(t("cc.import_file"), input), report);
}

// Panels stay open across the re-render that follows a save.
const openPanels = new Set();
function panel(id, title, ...children) {
  const node = h("details", { class: "card", id, open: openPanels.has(id) }, h("summary", {}, title), ...children);
  node.addEventListener("toggle", () => (node.open ? openPanels.add(id) : openPanels.delete(id)));
  return node;
}

async function saveThen(method, path, body, rerender) {
  try {
    await writeNow(method, api(path), body);
    toast(t("cc.saved"));
    rerender();
  } catch (err) {
    toast(problemText(err.problem), { error: true });
  }
}

function rangeCard(fridge, rerender) {
  const low = h("input", { type: "number", name: "low", step: "0.1", value: fridge.low, required: true });
  const high = h("input", { type: "number", name: "high", step: "0.1", value: fridge.high, required: true });
  const form = h("form", { class: "stack", id: "cc-range-form" }, h("div", { class: "cc-temps" }, field(t("cc.low"), low), field(t("cc.high"), high)),
    h("button", { type: "submit", class: "btn btn-block" }, t("cc.range_save")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    saveThen("PUT", `/coldchain/fridges/${fridge.location_id}/range`, { low: Number(low.value), high: Number(high.value) }, rerender);
  });
  return panel("cc-range-panel", t("cc.range_title"), form);
}

async function settingsCard(rerender) {
  const sched = await get(api("/coldchain/schedule"));
  const times = h("input", { name: "times", value: sched.times.join(", "), required: true, autocomplete: "off" });
  const grace = h("input", { type: "number", name: "grace_minutes", min: "0", max: "720", value: sched.grace_minutes });
  const schedForm = h("form", { class: "stack", id: "cc-schedule" }, field(t("cc.times"), times), field(t("cc.grace"), grace),
    h("button", { type: "submit", class: "btn btn-block" }, t("cc.schedule_save")));
  schedForm.addEventListener("submit", (e) => {
    e.preventDefault();
    saveThen("PUT", "/coldchain/schedule", { times: times.value, grace_minutes: Number(grace.value || 0) }, rerender);
  });
  const day = h("input", { type: "date", name: "day", required: true });
  const note = h("input", { name: "note", maxlength: "200", autocomplete: "off" });
  const closedForm = h("form", { class: "stack", id: "cc-closed" }, field(t("cc.closed_day"), day), field(t("cc.closed_note"), note),
    h("button", { type: "submit", class: "btn btn-block" }, t("cc.closed_save")));
  closedForm.addEventListener("submit", (e) => {
    e.preventDefault();
    if (day.value) saveThen("POST", "/coldchain/closed-days", { day: day.value, note: note.value.trim() }, rerender);
  });
  return panel("cc-settings", t("cc.settings"),
    h("p", { class: "muted" }, t("cc.times_hint", { zone: sched.timezone })), schedForm, closedForm);
}

async function overview(view, rerender) {
  const fridges = await get(api("/coldchain/fridges"));
  const list = fridges.length
    ? h("ul", { class: "list", id: "cc-fridges" }, ...fridges.map((f) => h("li", { class: "list-item", dataset: { id: f.location_id } },
      h("div", { class: "row-between" }, h("a", { href: `#/fridge?id=${f.location_id}` }, f.name),
        f.open_incident_id ? h("span", { class: "badge badge-alert" }, t("cc.incident", { id: f.open_incident_id })) : null),
      h("span", { class: "muted" }, t("cc.range", { low: deg(f.low), high: deg(f.high) })), lastLine(f))))
    : h("p", { class: "empty" }, t("cc.no_fridges"));
  view.replaceChildren(screen(t("cc.title"), h("h2", {}, t("cc.fridges")), list,
    h("a", { href: "#/incidents", class: "btn btn-block btn-link", id: "cc-incidents" }, t("cc.incidents")),
    isManager() ? await settingsCard(rerender) : null));
}

export async function render(view, ctx) {
  const id = Number(hashParams().get("id"));
  if (!id) return overview(view, ctx.rerender);
  try {
    await fridgeScreen(view, id, ctx);
  } catch (err) {
    if (!(err instanceof ApiError) || err.isNetwork) throw err;
    view.replaceChildren(screen(t("cc.title"), h("p", { class: "error" }, problemText(err.problem))));
  }
  return null;
}

/** Due and overdue readings for "My tasks": a list, or null when it cannot be read (offline). */
export async function taskList() {
  let slots;
  try {
    slots = await get(api("/coldchain/due?missing=true"));
  } catch (err) {
    if (err instanceof ApiError && err.isNetwork) return null;
    throw err;
  }
  if (!slots.length) return h("p", { class: "empty", id: "cc-tasks-none" }, t("cc.due_none"));
  return h("ul", { class: "list", id: "cc-tasks" }, ...slots.map((s) =>
    h("li", { class: "list-item cc-task", dataset: { location: s.location_id, state: s.status } },
      h("div", { class: "row-between" },
        h("a", { href: `#/fridge?id=${s.location_id}` }, `${s.location_name}: ${t("cc.due_at", { time: s.time })}`),
        h("span", { class: s.status === "overdue" ? "badge badge-alert" : "badge" }, t(`cc.slot.${s.status}`))))));
}
