// What to do with something scanned: the action sheet (Use, Receive, Waste, Move, Count, Link) and the
// small parts the stock screens share (quantity stepper, dates, lot status, places, writes).
//
//   const sheet = actionSheet(answer, { raw, refresh });   // answer: the scan endpoint's JSON
//   panel.replaceChildren(sheet.node);                      // sheet.destroy() when the panel goes
//
// Every write goes through the outbox (its id is the Idempotency-Key). When online the sheet waits a
// few seconds for the server's answer and shows it; offline the write waits on this phone and the
// "waiting to send" banner says so.
import "/js/stock-strings.js";
import { get, request } from "/js/api.js";
import { has, locale, problemText, t } from "/js/i18n.js";
import * as outbox from "/js/outbox.js";
import { role, state } from "/js/state.js";
import { field, h, toast } from "/js/ui.js";

export const api = (path) => `/api/sites/${state.siteId}${path}`;

/** The query part of "#/lot?id=12". */
export function hashParams() {
  return new URLSearchParams(location.hash.split("?")[1] || "");
}

/** Change the query of screen `view` without rendering it again (filters, tabs); nothing when the
 * user has already moved on to another screen. */
export function setHashParams(view, values) {
  const name = location.hash.replace(/^#\//, "").split("?")[0];
  if (name !== view) return;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== null && value !== undefined && value !== "") params.set(key, value);
  const query = params.toString();
  history.replaceState(history.state, "", `#/${name}${query ? `?${query}` : ""}`);
}

export const isManager = () => ["manager", "admin"].includes(role());

// --- dates and words ----------------------------------------------------------------------------------

function dayOf(iso) {
  const [y, m, d] = String(iso).slice(0, 10).split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d, 12));
}

/** A calendar date ("2027-01-31") as the user reads it; no time zone can move it to another day. */
export function formatDay(iso) {
  if (!iso) return t("stock.no_expiry");
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeZone: "UTC" }).format(dayOf(iso));
}

function todayIso() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** Whole days from today to a date (negative when past). */
export function daysLeft(iso) {
  return Math.round((dayOf(iso) - dayOf(todayIso())) / 86_400_000);
}

/** "Expires Jan 31, 2027", "Expired Jan 31, 2027", "No expiry". */
export function expiryText(iso) {
  if (!iso) return t("stock.no_expiry");
  return t(daysLeft(iso) < 0 ? "stock.expired_on" : "stock.expires_on", { date: formatDay(iso) });
}

/** "in 12 days", "today", "3 days ago". */
export function whenText(iso) {
  const n = daysLeft(iso);
  if (n === 0) return t("stock.today");
  if (n > 0) return n === 1 ? t("stock.in_one_day") : t("stock.in_days", { n });
  return n === -1 ? t("stock.one_day_ago") : t("stock.days_ago", { n: -n });
}

const ALERT_STATUSES = new Set(["recalled", "quarantined", "expired"]);

export function statusBadge(status, expiry) {
  const shown = status === "available" && expiry && daysLeft(expiry) < 0 ? "expired" : status;
  return h("span", { class: `badge lot-status lot-status-${shown}${ALERT_STATUSES.has(shown) ? " badge-alert" : ""}`,
    dataset: { status: shown } }, t(`lot.status.${shown}`));
}

export function movementText(kind) {
  return has(`move.${kind}`) ? t(`move.${kind}`) : kind;
}

/** A server warning (FEFO, expiry mismatch, ...) in the user's language. */
export function warningText(w) {
  switch (w.code) {
    case "fefo":
      return t("warn.fefo", { lot: w.lot_number, date: formatDay(w.expiry) });
    case "expiry_mismatch":
      return t("warn.expiry_mismatch");
    case "received_expired":
      return t("warn.received_expired");
    default:
      return has(`warn.${w.code}`) ? t(`warn.${w.code}`) : w.message;
  }
}

function scanErrorText(e) {
  return has(`scanerr.${e.code}`) ? t(`scanerr.${e.code}`) : e.message;
}

/** Why an action is not possible, from its stable code (the server's reason is English). Move and
 * waste carry no code of their own: none left, or the same block as use. */
function blockedText(action, answer) {
  const total = (answer.levels || []).reduce((n, l) => n + l.on_hand, 0);
  const code = action.code || (total > 0 ? answer.actions?.find((a) => a.action === "use")?.code : null);
  if (code && has(`problem.${code}`)) return t(`problem.${code}`);
  if (total === 0 && answer.kind === "lot") return t("act.none_left");
  return action.reason || "";
}

// --- places -------------------------------------------------------------------------------------------

const PLACES_KEY = "clinitrack.places";
let placesCache = null;

/** The site's active places; kept on the phone so the forms still work offline. */
export async function loadPlaces() {
  const site = state.siteId;
  if (placesCache?.site === site) return placesCache.list;
  try {
    const list = (await get(api("/locations"))).filter((p) => p.active !== false);
    placesCache = { site, list };
    localStorage.setItem(`${PLACES_KEY}.${site}`, JSON.stringify(list));
    return list;
  } catch (err) {
    if (!err.isNetwork) throw err;
    return JSON.parse(localStorage.getItem(`${PLACES_KEY}.${site}`) || "[]");
  }
}

export function placeSelect(places, { name, selected, label, all = false, exclude = null }) {
  const select = h("select", { name },
    all && h("option", { value: "" }, t("stock.all_places")),
    ...places.filter((p) => p.id !== exclude).map((p) => h("option", {
      value: p.id, selected: Number(selected) === p.id,
    }, p.on_hand === undefined ? p.name : t("act.place_on_hand", { place: p.name, n: p.on_hand }))));
  return { node: field(label, select), select };
}

// --- the quantity stepper ------------------------------------------------------------------------------

/** − [ n ] + with 48 px buttons; the input stays typeable. onChange(value) after every change. */
export function stepper({ label, name = "quantity", value = 1, min = 1, max = 1_000_000, onChange, allowEmpty = false }) {
  const input = h("input", { type: "number", name, inputmode: "numeric", min, max, step: 1,
    value: value ?? "", class: "stepper-input", autocomplete: "off", placeholder: allowEmpty ? "–" : false });
  const id = `q-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  const minus = h("button", { type: "button", class: "btn stepper-btn", "aria-label": t("act.less"), "aria-controls": id }, "−");
  const plus = h("button", { type: "button", class: "btn stepper-btn", "aria-label": t("act.more"), "aria-controls": id }, "+");
  const read = () => (input.value === "" ? null : Number(input.value));
  const self = {
    get value() { return read(); },
    set value(v) { input.value = v === null || v === undefined ? "" : String(v); sync(); },
    set max(v) { max = v; input.max = v; sync(); },
    input,
  };
  function clamp(v) { return Math.min(max, Math.max(min, Math.round(v))); }
  function sync() {
    const v = read();
    minus.disabled = v !== null && v <= min;
    plus.disabled = v !== null && v >= max;
  }
  function set(v, notify = true) {
    input.value = String(clamp(v));
    sync();
    if (notify) onChange?.(read());
  }
  minus.addEventListener("click", () => set((read() ?? min + 1) - 1));
  plus.addEventListener("click", () => set(read() === null ? Math.max(min, 1) : read() + 1));
  input.addEventListener("change", () => {
    if (input.value === "" && allowEmpty) { sync(); onChange?.(null); return; }
    set(Number(input.value) || min);
  });
  input.addEventListener("input", () => { if (input.value !== "") onChange?.(read()); });
  sync();
  self.node = h("div", { class: "field stepper" }, h("label", { for: id }, label),
    h("div", { class: "stepper-row" }, minus, input, plus));
  return self;
}

// --- writes -------------------------------------------------------------------------------------------

/**
 * Queue a write and, when online, wait a little for the server's answer:
 * {status: "sent", result} | {status: "rejected", problem, id} | {status: "queued", id}.
 */
export async function sendWrite(write, { wait = 12_000 } = {}) {
  let id = null;
  const early = [];
  let finish;
  const done = new Promise((resolve) => { finish = resolve; });
  const check = (summary, event) => {
    if (event.sent?.item.id === id) finish({ status: "sent", result: event.sent.result, id });
    else if (event.rejected?.id === id) {
      const stored = summary.items.find((i) => i.id === id);
      finish({ status: "rejected", problem: stored?.error || { code: "internal_error" }, id });
    } else if (!summary.sending && summary.items.some((i) => i.id === id && i.status === "pending" && i.attempts > 0)) {
      finish({ status: "queued", id }); // the server could not be reached: it waits for the connection
    }
  };
  const stop = outbox.onChange((summary, event) => {
    if (id === null) early.push([summary, event]);
    else check(summary, event);
  });
  try {
    const item = await outbox.enqueue(write);
    id = item.id;
    for (const [summary, event] of early) check(summary, event);
    if (!navigator.onLine) return { status: "queued", id };
    const timer = setTimeout(() => finish({ status: "queued", id }), wait);
    const outcome = await done;
    clearTimeout(timer);
    return outcome;
  } finally {
    stop();
  }
}

/** A notice for a write's outcome; a rejected write can be discarded from here. */
export function outcomeNotice(outcome, sentText) {
  if (outcome.status === "sent") {
    return h("div", { class: "notice notice-ok outcome", role: "status", dataset: { outcome: "sent" } }, sentText);
  }
  if (outcome.status === "queued") {
    return h("div", { class: "notice notice-info outcome", role: "status", dataset: { outcome: "queued" } }, t("act.queued"));
  }
  const box = h("div", { class: "notice notice-alert outcome", role: "alert", dataset: { outcome: "rejected", code: outcome.problem?.code || "" } },
    h("p", {}, problemText(outcome.problem)),
    h("button", { type: "button", class: "btn btn-small", onclick: async () => {
      await outbox.discard(outcome.id);
      box.replaceChildren(h("p", {}, t("act.discarded")));
    } }, t("act.discard")));
  return box;
}

// --- resolving scans ----------------------------------------------------------------------------------

const SCANS_KEY = "clinitrack.scans";
const SCANS_KEPT = 40;

function scanCache() {
  try { return JSON.parse(localStorage.getItem(`${SCANS_KEY}.${state.siteId}`) || "{}"); } catch { return {}; }
}

function remember(raw, answer) {
  const cache = scanCache();
  cache[raw] = { at: new Date().toISOString(), answer };
  const keys = Object.keys(cache).sort((a, b) => cache[b].at.localeCompare(cache[a].at));
  for (const key of keys.slice(SCANS_KEPT)) delete cache[key];
  try { localStorage.setItem(`${SCANS_KEY}.${state.siteId}`, JSON.stringify(cache)); } catch { /* full: fine */ }
}

/**
 * What the server knows about a scan (read-only, sent at once). Offline, a code scanned before on
 * this phone is answered from memory with `stale` set; otherwise the network error is thrown.
 */
export async function resolveScan(raw) {
  try {
    if (!navigator.onLine) throw Object.assign(new Error("offline"), { isNetwork: true });
    const answer = await request("POST", api("/scans"), { body: { raw } });
    if (answer && answer.kind !== "unknown") remember(raw, answer);
    return answer;
  } catch (err) {
    if (!err.isNetwork) throw err;
    const kept = scanCache()[raw];
    if (!kept) throw err;
    return { ...kept.answer, stale: kept.at };
  }
}

// --- finding an item -----------------------------------------------------------------------------------

/** Search the catalog by name and pick one item: {node, chosen, destroy}. */
export function itemPicker({ label, onPick = null }) {
  const search = h("input", { type: "search", name: "q", autocomplete: "off", maxlength: 100, class: "item-search" });
  const results = h("ul", { class: "list pick-list" });
  const chosenText = h("p", { class: "muted chosen", role: "status" }, t("act.link_pick"));
  let chosen = null;
  let seq = 0;
  let timer;
  async function find() {
    const mine = ++seq;
    let items;
    try {
      items = await get(api(`/items?q=${encodeURIComponent(search.value.trim())}`));
    } catch (err) {
      if (mine === seq) results.replaceChildren(h("li", { class: "empty" }, err.isNetwork ? t("act.link_offline") : problemText(err.problem)));
      return;
    }
    if (mine !== seq) return;
    results.replaceChildren(...items.slice(0, 12).map((item) => h("li", {},
      h("button", { type: "button", class: "btn pick", "aria-pressed": String(chosen?.id === item.id), dataset: { itemId: item.id },
        onclick: (e) => {
          chosen = item;
          for (const b of results.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === e.currentTarget));
          chosenText.textContent = t("act.link_chosen", { name: item.name });
          onPick?.(item);
        } }, item.name))));
    if (!items.length) results.append(h("li", { class: "empty" }, t("act.link_none")));
  }
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(find, 250); });
  find();
  return {
    node: h("div", { class: "item-picker stack" }, field(label, search), results, chosenText),
    get chosen() { return chosen; },
    destroy: () => { clearTimeout(timer); seq += 1; },
  };
}

// --- the action sheet ---------------------------------------------------------------------------------

const ACTION_ORDER = ["use", "receive", "waste", "move", "count", "link", "show"];
const WASTE_REASONS = ["expired", "broken", "cold_chain", "beyond_use", "other"];

function lotLine(answer) {
  const lot = answer.entity;
  return h("p", { class: "sheet-lot" },
    h("span", { class: "mono" }, t("stock.lot_n", { lot: lot.lot_number })), " · ",
    h("span", {}, expiryText(lot.expiry)), " ",
    statusBadge(lot.status, lot.expiry));
}

function levelsList(levels) {
  if (!levels.length) return h("p", { class: "muted sheet-levels" }, t("act.none_here"));
  return h("ul", { class: "levels sheet-levels" }, ...levels.map((l) => h("li", { dataset: { location: l.location_id } },
    h("span", {}, l.location_name), h("strong", {}, t("act.on_hand_n", { n: l.on_hand })))));
}

function defaultPlace(places, item) {
  const fridge = ["fridge", "freezer"].includes(item?.storage);
  const wanted = item?.storage === "freezer" ? ["freezer", "fridge"] : fridge ? ["fridge", "freezer"] : ["supply_room", "cabinet", "room"];
  for (const kind of wanted) {
    const hit = places.find((p) => p.kind === kind);
    if (hit) return hit.id;
  }
  return places[0]?.id;
}

/**
 * The sheet for one scan answer. opts: {raw, refresh(outcomeNode)} where refresh resolves the scan
 * again and rebuilds the sheet (after a write) keeping the outcome on top.
 */
export function actionSheet(answer, { raw = "", refresh = null, outcome = null } = {}) {
  const kind = answer.kind || "unknown";
  const sheet = h("div", { class: "sheet", dataset: { kind } });
  const formHost = h("div", { class: "sheet-form-host" });
  const cleanups = [];
  const actions = [...(answer.actions || [])].sort((a, b) => ACTION_ORDER.indexOf(a.action) - ACTION_ORDER.indexOf(b.action));
  const buttons = new Map();

  if (outcome) sheet.append(outcome);
  if (answer.stale) sheet.append(h("p", { class: "notice notice-info", role: "status" }, t("act.stale")));

  // What it is.
  const head = h("div", { class: "sheet-head" });
  if (kind === "lot") {
    head.append(h("h2", { class: "sheet-title" }, answer.item?.name || ""), lotLine(answer), levelsList(answer.levels || []),
      h("a", { href: `#/lot?id=${answer.entity.id}`, class: "link-more" }, t("act.details")));
  } else if (kind === "item") {
    head.append(h("h2", { class: "sheet-title" }, answer.item?.name || ""),
      h("p", { class: "muted" }, answer.prefill?.lot_number ? t("act.new_lot", { lot: answer.prefill.lot_number }) : t("act.no_lot")));
  } else if (["fridge", "room", "location"].includes(kind)) {
    head.append(h("h2", { class: "sheet-title" }, answer.entity?.name || ""),
      h("p", { class: "muted" }, t(`kind.${answer.entity?.kind}`)));
    if (kind === "room" && answer.entity?.id) {
      head.append(h("a", { href: `#/cleaning?room=${answer.entity.id}`, class: "btn btn-primary btn-block btn-link", id: "open-cleaning" },
        t("clean.open")));
    }
    if (kind === "fridge" && answer.entity?.id) {
      head.append(h("a", { href: `#/fridge?id=${answer.entity.id}`, class: "btn btn-primary btn-block btn-link", id: "open-fridge" },
        t("cc.open")));
    }
  } else if (["device", "pack"].includes(kind) && answer.entity?.device) {
    const device = answer.entity.device;
    head.append(h("h2", { class: "sheet-title" }, device.name),
      h("p", { class: "muted" }, answer.entity.pack ? answer.entity.pack.label_code : t(`rp.status.${device.status}`)),
      h("a", { href: `#/reprocessing?code=${encodeURIComponent(answer.entity.pack?.label_code || device.label_code)}`,
        class: "btn btn-primary btn-block btn-link", id: "open-reprocessing" }, t("rp.open")));
  } else {
    head.append(h("h2", { class: "sheet-title" }, t("act.unknown_title")),
      h("p", {}, (answer.actions || []).some((a) => a.action === "link") ? t("act.unknown_link") : t("act.unknown_plain")));
  }
  sheet.append(head);

  // What to look out for, in plain words.
  const notices = h("div", { class: "sheet-notices" });
  for (const w of answer.warnings || []) {
    notices.append(h("p", { class: `notice ${w.code === "fefo" ? "notice-warn" : "notice-alert"} warning`, role: "alert",
      dataset: { code: w.code } }, warningText(w)));
  }
  for (const e of answer.errors || []) {
    notices.append(h("p", { class: "notice notice-alert scan-error", role: "alert", dataset: { code: e.code } }, scanErrorText(e)));
  }
  if (answer.ambiguous) notices.append(h("p", { class: "notice notice-warn", role: "alert", dataset: { code: "ambiguous" } }, t("act.ambiguous")));
  if (notices.children.length) sheet.append(notices);

  // What can be done.
  // Reprocessing labels open their own screen: its next step is not a stock action.
  const shown = ["device", "pack", "sterilizer"].includes(kind) ? []
    : actions.filter((a) => a.action !== "link" || kind === "unknown");
  if (shown.length) {
    const group = h("div", { class: "sheet-actions", role: "group", "aria-label": t("act.what_now") });
    const blocked = h("div", { class: "sheet-blocked" });
    for (const action of shown) {
      const reasonId = `why-${action.action}-${Math.random().toString(36).slice(2, 7)}`;
      const button = h("button", {
        type: "button", class: "btn action-btn", "aria-pressed": "false", disabled: !action.enabled,
        "aria-describedby": action.enabled ? false : reasonId, dataset: { action: action.action },
        onclick: () => open(action.action),
      }, t(`act.${action.action}`));
      buttons.set(action.action, button);
      group.append(button);
      if (!action.enabled) {
        blocked.append(h("p", { id: reasonId, class: "notice notice-alert blocked", dataset: { action: action.action, code: action.code || "" } },
          h("strong", {}, `${t(`act.${action.action}`)}: `), blockedText(action, answer)));
      }
    }
    sheet.append(group);
    if (blocked.children.length) sheet.append(blocked);
  }
  sheet.append(formHost);

  function open(name) {
    for (const [key, button] of buttons) button.setAttribute("aria-pressed", String(key === name));
    while (cleanups.length) cleanups.pop()();
    const builders = { use: useForm, receive: receiveForm, waste: wasteForm, move: moveForm, count: countStep, link: linkForm, show: showStep };
    const node = builders[name]?.();
    formHost.replaceChildren(...(node ? [node] : []));
    const first = formHost.querySelector("input:not([type=hidden]), select");
    if (first && name !== "use") first.focus({ preventScroll: true });
    formHost.scrollIntoView?.({ block: "nearest" });
  }

  // After a write: the server's answer, then (when it was sent) the sheet again with fresh numbers.
  async function finish(result, sentText, form) {
    const notice = outcomeNotice(result, sentText(result.result));
    if (result.status === "sent" && refresh) {
      await refresh(notice);
      return;
    }
    form.querySelector(".outcome")?.remove();
    form.append(notice);
    if (result.status !== "rejected") form.querySelector("button[type=submit]").disabled = true;
  }

  function submitButton(textFor, getQty) {
    const button = h("button", { type: "submit", class: "btn btn-primary btn-block" }, textFor(getQty()));
    return { button, update: () => { button.textContent = textFor(getQty()); } };
  }

  function movementForm(name, children, { build, label, sentText }) {
    const form = h("form", { class: "card stack sheet-form", dataset: { action: name }, novalidate: true },
      h("h3", { class: "form-title" }, t(`act.${name}_title`)), ...children);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = build();
      if (!body) return;
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const result = await sendWrite({ method: "POST", url: api(`/movements/${name === "move" ? "transfer" : name}`), body, label: label(body) });
        await finish(result, sentText, form);
      } finally {
        if (form.isConnected) button.disabled = form.querySelector(".outcome[data-outcome=queued]") !== null;
      }
    });
    return form;
  }

  const levels = answer.levels || [];
  const lot = kind === "lot" ? answer.entity : null;
  const itemName = answer.item?.name || "";
  const levelPlaces = levels.map((l) => ({ id: l.location_id, name: l.location_name, on_hand: l.on_hand }));
  const biggest = [...levelPlaces].sort((a, b) => b.on_hand - a.on_hand)[0];
  const onHandAt = (id) => levelPlaces.find((p) => p.id === Number(id))?.on_hand ?? 0;

  function qtyForPlace(select, qty, submit) {
    const apply = () => { qty.max = Math.max(1, onHandAt(select.value)); submit.update(); };
    select.addEventListener("change", apply);
    apply();
  }

  function useForm() {
    const from = placeSelect(levelPlaces, { name: "location_id", selected: biggest?.id, label: t("act.from") });
    let submit;
    const qty = stepper({ label: t("act.how_many"), value: 1, onChange: () => submit.update() });
    submit = submitButton((n) => t("act.use_n", { n: n ?? 1 }), () => qty.value);
    qtyForPlace(from.select, qty, submit);
    return movementForm("use", [from.node, qty.node, submit.button], {
      build: () => ({ lot_id: lot.id, location_id: Number(from.select.value), quantity: qty.value || 1 }),
      label: (b) => `${t("act.use_n", { n: b.quantity })} · ${itemName} ${t("stock.lot_n", { lot: lot.lot_number })}`,
      sentText: (r) => t("act.used", { n: qty.value || 1, left: r?.on_hand?.[from.select.value] ?? 0 }),
    });
  }

  function wasteForm() {
    const from = placeSelect(levelPlaces, { name: "location_id", selected: biggest?.id, label: t("act.from") });
    let submit;
    const qty = stepper({ label: t("act.how_many"), value: 1, onChange: () => submit.update() });
    submit = submitButton((n) => t("act.waste_n", { n: n ?? 1 }), () => qty.value);
    qtyForPlace(from.select, qty, submit);
    const expired = lot.status === "expired" || (lot.expiry && daysLeft(lot.expiry) < 0);
    const reason = h("select", { name: "reason", required: true },
      h("option", { value: "" }, t("act.choose_reason")),
      ...WASTE_REASONS.map((r) => h("option", { value: r, selected: expired && r === "expired" }, t(`waste.${r}`))));
    const reasonError = h("p", { class: "field-error", role: "alert", hidden: true }, t("act.reason_needed"));
    const note = h("input", { name: "note", maxlength: 1000, autocomplete: "off" });
    return movementForm("waste", [from.node, qty.node, field(t("act.reason"), reason), reasonError, field(t("act.note"), note), submit.button], {
      build: () => {
        reasonError.hidden = Boolean(reason.value);
        if (!reason.value) { reason.focus(); return null; }
        return { lot_id: lot.id, location_id: Number(from.select.value), quantity: qty.value || 1, reason: reason.value, note: note.value.trim() };
      },
      label: (b) => `${t("act.waste_n", { n: b.quantity })} · ${itemName} ${t("stock.lot_n", { lot: lot.lot_number })}`,
      sentText: (r) => t("act.wasted", { n: qty.value || 1, left: r?.on_hand?.[from.select.value] ?? 0 }),
    });
  }

  function moveForm() {
    const from = placeSelect(levelPlaces, { name: "from_location_id", selected: biggest?.id, label: t("act.from") });
    const toHost = h("div");
    let to = null;
    let submit;
    const qty = stepper({ label: t("act.how_many"), value: 1, onChange: () => submit.update() });
    submit = submitButton((n) => t("act.move_n", { n: n ?? 1 }), () => qty.value);
    qtyForPlace(from.select, qty, submit);
    const fill = async () => {
      const all = await loadPlaces();
      to = placeSelect(all, { name: "to_location_id", label: t("act.to"), exclude: Number(from.select.value) });
      toHost.replaceChildren(to.node);
    };
    from.select.addEventListener("change", fill);
    fill();
    return movementForm("move", [from.node, toHost, qty.node, submit.button], {
      build: () => (to ? { lot_id: lot.id, from_location_id: Number(from.select.value), to_location_id: Number(to.select.value), quantity: qty.value || 1 } : null),
      label: (b) => `${t("act.move_n", { n: b.quantity })} · ${itemName} ${t("stock.lot_n", { lot: lot.lot_number })}`,
      sentText: () => t("act.moved", { n: qty.value || 1, place: to?.select.selectedOptions[0]?.textContent || "" }),
    });
  }

  function receiveForm() {
    const prefill = answer.prefill || {};
    const itemId = prefill.item_id ?? answer.item?.id;
    const number = h("input", { name: "lot_number", required: true, maxlength: 40, autocomplete: "off", autocapitalize: "characters",
      spellcheck: "false", value: prefill.lot_number ?? lot?.lot_number ?? "" });
    const expiry = h("input", { name: "expiry", type: "date", value: prefill.expiry ?? lot?.expiry ?? "" });
    const serial = h("input", { name: "serial", maxlength: 40, autocomplete: "off", value: prefill.serial ?? "" });
    const pack = prefill.pack_qty > 1 ? prefill.pack_qty : 1;
    let submit;
    const qty = stepper({ label: t("act.how_many_units"), value: pack, onChange: () => submit.update() });
    submit = submitButton((n) => t("act.receive_n", { n: n ?? 1 }), () => qty.value);
    const placeHost = h("div");
    let into = null;
    loadPlaces().then((all) => {
      into = placeSelect(all, { name: "location_id", label: t("act.into"), selected: levelPlaces[0]?.id ?? defaultPlace(all, answer.item) });
      placeHost.replaceChildren(into.node);
    });
    const numberError = h("p", { class: "field-error", role: "alert", hidden: true }, t("act.lot_needed"));
    const children = [field(t("act.lot_number"), number), numberError, field(t("act.expiry"), expiry)];
    if (prefill.serial) children.push(field(t("act.serial"), serial));
    if (pack > 1) children.push(h("p", { class: "muted" }, t("act.pack_of", { n: pack })));
    children.push(qty.node, placeHost, submit.button);
    return movementForm("receive", children, {
      build: () => {
        const lotNumber = number.value.trim();
        numberError.hidden = Boolean(lotNumber);
        if (!lotNumber) { number.focus(); return null; }
        if (!into) return null;
        const body = { item_id: itemId, lot_number: lotNumber, expiry: expiry.value || null, quantity: qty.value || 1,
          location_id: Number(into.select.value) };
        if (serial.value.trim()) body.serial = serial.value.trim();
        return body;
      },
      label: (b) => `${t("act.receive_n", { n: b.quantity })} · ${itemName} ${t("stock.lot_n", { lot: b.lot_number })}`,
      sentText: (r) => t("act.received", { n: qty.value || 1, place: into?.select.selectedOptions[0]?.textContent || "",
        total: r?.on_hand?.[into?.select.value] ?? qty.value }),
    });
  }

  function countStep() {
    // Counting happens on the count screen, for one place at a time.
    if (!lot) {
      const place = answer.entity;
      return h("div", { class: "card stack sheet-form", dataset: { action: "count" } },
        h("p", {}, t("act.count_place", { place: place.name })),
        h("a", { class: "btn btn-primary btn-block btn-link", href: `#/count?location=${place.id}` }, t("act.count_go")));
    }
    const where = placeSelect(levelPlaces.length ? levelPlaces : [], { name: "location_id", selected: biggest?.id, label: t("act.count_where") });
    const link = h("a", { class: "btn btn-primary btn-block btn-link" }, t("act.count_go"));
    const setHref = () => { link.href = `#/count?location=${where.select.value}&lot=${lot.id}`; };
    where.select.addEventListener("change", setHref);
    setHref();
    if (!levelPlaces.length) {
      loadPlaces().then((all) => {
        const full = placeSelect(all, { name: "location_id", label: t("act.count_where") });
        where.node.replaceWith(full.node);
        full.select.addEventListener("change", () => { link.href = `#/count?location=${full.select.value}&lot=${lot.id}`; });
        link.href = `#/count?location=${full.select.value}&lot=${lot.id}`;
      });
    }
    return h("div", { class: "card stack sheet-form", dataset: { action: "count" } }, h("p", {}, t("act.count_hint")), where.node, link);
  }

  function showStep() {
    const place = answer.entity;
    location.hash = `#/stock?location=${place.id}`;
    return null;
  }

  function linkForm() {
    const code = answer.code || raw;
    const picker = itemPicker({ label: t("act.link_search") });
    cleanups.push(picker.destroy);
    const qty = stepper({ label: t("act.link_pack"), name: "pack_qty", value: 1 });
    const error = h("p", { class: "field-error", role: "alert", hidden: true }, t("act.link_pick"));
    const form = h("form", { class: "card stack sheet-form", dataset: { action: "link" }, novalidate: true },
      h("h3", { class: "form-title" }, t("act.link_title")),
      h("p", { class: "mono code-shown" }, code),
      picker.node, qty.node,
      h("p", { class: "muted" }, t("act.link_missing")),
      h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("act.link_save")), error);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const chosen = picker.chosen;
      error.hidden = Boolean(chosen);
      if (!chosen) return;
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      const result = await sendWrite({ method: "POST", url: api(`/items/${chosen.id}/codes`),
        body: { code, pack_qty: qty.value || 1, kind: parsed.gtin ? "gtin" : "barcode" },
        label: `${t("act.link")} · ${code} → ${chosen.name}` });
      button.disabled = false;
      await finish(result, () => t("act.linked", { name: chosen.name }), form);
    });
    return form;
  }

  // Open the likely next step: a new lot is received, an unknown code is linked.
  const enabled = shown.filter((a) => a.enabled).map((a) => a.action);
  if (kind === "item" && enabled.includes("receive")) open("receive");
  else if (kind === "unknown" && enabled.includes("link")) open("link");
  else if (kind === "lot" && enabled.includes("use")) open("use");

  return { node: sheet, open, destroy: () => { while (cleanups.length) cleanups.pop()(); } };
}

/** Lot detail as a scan answer, so the lot screen offers the same sheet (the server checks again). */
export function answerFromLot(detail, item) {
  const lot = detail.lot;
  const levels = detail.levels.filter((l) => l.on_hand > 0);
  const total = levels.reduce((n, l) => n + l.on_hand, 0);
  const expired = lot.status === "expired" || (lot.expiry && daysLeft(lot.expiry) < 0);
  const block = lot.status === "recalled" ? "lot_recalled" : lot.status === "quarantined" ? "lot_quarantined" : expired ? "lot_expired" : null;
  const none = total === 0;
  return {
    kind: "lot",
    entity: { id: lot.id, lot_number: lot.lot_number, expiry: lot.expiry, status: lot.status, item_id: lot.item_id },
    item: item || { id: lot.item_id, name: detail.item_name },
    levels,
    prefill: { item_id: lot.item_id, lot_number: lot.lot_number, expiry: lot.expiry, serial: lot.serial || null, pack_qty: 1 },
    actions: [
      { action: "use", enabled: !block && !none, code: block, reason: block || none ? "blocked" : null },
      { action: "receive", enabled: true },
      { action: "waste", enabled: !none, reason: none ? "none" : null },
      { action: "move", enabled: !none && !block, code: block, reason: block || none ? "blocked" : null },
    ],
    warnings: [],
    errors: [],
  };
}

/** A short toast for places that do not show a sheet. */
export function announce(outcome, sentText) {
  if (outcome.status === "sent") toast(sentText);
  else if (outcome.status === "queued") toast(t("act.queued"));
  else toast(problemText(outcome.problem), { error: true });
}
