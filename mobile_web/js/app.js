// The shell: sign-in state, role homes, bottom navigation, site switcher, language, outbox status.
import { get, request, ApiError } from "/js/api.js";
import { lang, setLang, setTimeZone, t, translateStatic } from "/js/i18n.js";
import * as outbox from "/js/outbox.js";
import { role, setMe, setSite, site, state } from "/js/state.js";
import "/js/stock-strings.js"; // the Stock tab and stock history entries need their words early
import "/js/labels-strings.js"; // the "Print labels" link on Places
import "/js/cleaning-strings.js"; // "Clean this room" on a room scan, cleaning in My tasks
import "/js/coldchain-strings.js"; // "Record temperature" on a fridge scan, readings in My tasks
import "/js/alerts-strings.js"; // the bell's label
import "/js/reprocessing-strings.js"; // "Reprocess" on a device or pack scan
import { updateBell } from "/js/alerts-bell.js";
import { h } from "/js/ui.js";

const VIEWS = {
  login: () => import("/js/views/login.js"),
  scan: () => import("/js/views/scan.js"),
  tasks: () => import("/js/views/tasks.js"),
  dashboard: () => import("/js/views/dashboard.js"),
  logs: () => import("/js/views/logs.js"),
  places: () => import("/js/views/places.js"),
  admin: () => import("/js/views/admin.js"),
  account: () => import("/js/views/account.js"),
  outbox: () => import("/js/views/outbox.js"),
  stock: () => import("/js/views/stock.js"),
  lot: () => import("/js/views/lot.js"),
  count: () => import("/js/views/count.js"),
  recall: () => import("/js/views/recall.js"),
  labels: () => import("/js/views/labels.js"),
  cleaning: () => import("/js/views/cleaning.js"),
  "cleaning-records": () => import("/js/views/cleaning-records.js"),
  "cleaning-plan": () => import("/js/views/cleaning-plan.js"),
  "cleaning-log": () => import("/js/views/cleaning-log.js"),
  coldchain: () => import("/js/views/fridge.js"),
  fridge: () => import("/js/views/fridge.js"),
  incidents: () => import("/js/views/incidents.js"),
  alerts: () => import("/js/views/alerts.js"),
  reprocessing: () => import("/js/views/reprocessing.js"),
  loads: () => import("/js/views/loads.js"),
  reorder: () => import("/js/views/reorder.js"),
  sterilization: () => import("/js/views/sterilization.js"),
  "rp-records": () => import("/js/views/rp-records.js"),
  equipment: () => import("/js/views/equipment.js"),
};

// One thumb: at most five tabs, the role's home first.
const TABS = {
  assistant: ["scan", "stock", "tasks", "account"],
  manager: ["dashboard", "scan", "stock", "places", "account"],
  inspector: ["logs", "stock", "account"],
  admin: ["admin", "places", "logs", "account"],
};
const ICONS = { scan: "▦", stock: "▥", tasks: "✓", dashboard: "▤", logs: "☰", places: "⌂", admin: "⚙", account: "●" };
// Screens reached from a tab keep that tab lit.
const TAB_OF = { alerts: "", lot: "stock", count: "stock", recall: "stock", labels: "places", cleaning: "scan", "cleaning-plan": "scan", "cleaning-records": "logs", "cleaning-log": "logs", fridge: "scan", reprocessing: "scan", loads: "scan", sterilization: "logs", "rp-records": "logs", equipment: "dashboard", coldchain: "dashboard", incidents: "dashboard" };

export function home() {
  return TABS[role()]?.[0] ?? "account";
}

export function go(name) {
  if (location.hash !== `#/${name}`) location.hash = `#/${name}`;
  else render();
}

let current = null;
let renderSeq = 0;

// Each render builds into a detached container and is attached only if it is still the latest,
// so a slow screen can never replace the one the user has moved on to.
async function render() {
  const seq = ++renderSeq;
  const name = location.hash.replace(/^#\//, "").split("?")[0] || "";
  if (!state.me) {
    if (name !== "login") return go("login");
  } else if (!name || name === "login" || !VIEWS[name]) {
    return go(home());
  }
  renderChrome(name);
  updateBell();
  const view = document.getElementById("view");
  current?.destroy?.();
  current = null;
  const container = h("div", { class: "view-body" });
  const slow = setTimeout(() => {
    if (seq === renderSeq) view.replaceChildren(h("p", { class: "muted" }, t("app.loading")));
  }, 150);
  let handle = null;
  try {
    const module = await VIEWS[name]();
    handle = await module.render(container, { go, refreshMe, rerender: render });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return signedOut();
    console.error(err);
    container.replaceChildren(h("p", { class: "error" }, t("app.error")),
      h("button", { class: "btn", type: "button", onclick: render }, t("app.retry")));
  } finally {
    clearTimeout(slow);
  }
  if (seq !== renderSeq) {
    handle?.destroy?.();
    return;
  }
  current = handle;
  // Managers and admins print place and door labels: the way in is on Places.
  if (name === "places" && ["manager", "admin"].includes(role())) {
    container.querySelector(".screen-title")?.after(
      h("a", { href: "#/labels", class: "btn btn-block btn-link", id: "open-labels" }, t("labels.open")));
  }
  // The cold chain (fridges, incidents) from the manager's dashboard and the inspector's logs.
  if (["dashboard", "logs"].includes(name)) {
    container.querySelector(".screen-title")?.after(
      h("a", { href: "#/coldchain", class: "btn btn-block btn-link", id: "open-coldchain" }, t("cc.title")));
    // Cleaning records (on time per week, logs, audits, CSV/PDF) from the same two screens.
    container.querySelector("#open-coldchain")?.after(
      h("a", { href: "#/cleaning-records", class: "btn btn-block btn-link", id: "open-cleaning-records" }, t("clean.records")));
    // Sterilization records (loads, indicators, what is missing today, failures, CSV/PDF) too.
    container.querySelector("#open-cleaning-records")?.after(
      h("a", { href: "#/sterilization", class: "btn btn-block btn-link", id: "open-sterilization" }, t("rp.records")));
    // Stock reports in dollars (wastage, expiry loss, usage, valuation; CSV/PDF), inspectors included.
    container.querySelector("#open-sterilization")?.after(
      h("a", { href: "#/reorder?reports=1", class: "btn btn-block btn-link", id: "open-stock-reports" }, t("dashboard.stock_reports")));
  }
  // Sterilizer loads from the manager's dashboard and the assistant's tasks.
  if (["dashboard", "tasks"].includes(name) && role() !== "inspector") {
    container.querySelector(".screen-title")?.after(
      h("a", { href: "#/loads", class: "btn btn-block btn-link", id: "open-loads" }, t("rp.loads")));
    container.querySelector("#open-loads")?.after(
      h("a", { href: "#/equipment", class: "btn btn-block btn-link", id: "open-equipment" }, t("rp.equipment")));
  }
  view.replaceChildren(container);
  const first = container.querySelector("[autofocus]");
  if (first) first.focus();
  else if (document.activeElement === document.body) view.focus({ preventScroll: true });
}

function renderChrome(active) {
  translateStatic();
  setTimeZone(site()?.timezone);
  const brand = document.querySelector(".brand");
  brand.textContent = state.me && state.me.memberships.length === 1 ? site()?.site_name ?? "clinitrack" : "clinitrack";
  const langButton = document.getElementById("lang-switch");
  langButton.textContent = lang() === "fr" ? "EN" : "FR";
  langButton.lang = lang() === "fr" ? "en" : "fr";
  langButton.setAttribute("aria-label", `${langButton.textContent} – ${t("app.language")}`);
  const nav = document.getElementById("tabs");
  nav.setAttribute("aria-label", t("app.site"));
  const tabs = state.me ? TABS[role()] ?? ["account"] : [];
  nav.hidden = tabs.length === 0;
  nav.replaceChildren(...tabs.map((tab) => h("a", {
    href: `#/${tab}`, class: "tab", "aria-current": tab === (TAB_OF[active] ?? active) ? "page" : false,
  }, h("span", { class: "tab-icon", "aria-hidden": "true" }, ICONS[tab]), h("span", {}, t(`nav.${tab}`)))));
  const picker = document.querySelector(".site-picker");
  const select = document.getElementById("site-switcher");
  const memberships = state.me?.memberships ?? [];
  picker.hidden = memberships.length < 2;
  select.replaceChildren(...memberships.map((m) => h("option", {
    value: m.site_id, selected: m.site_id === state.siteId,
  }, m.site_name)));
}

async function refreshMe() {
  try {
    setMe(await get("/api/me"));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return signedOut();
    if (!(err instanceof ApiError && err.isNetwork)) throw err;
  }
  return state.me;
}

function signedOut() {
  setMe(null);
  go("login");
}

async function showOutbox(s) {
  const el = document.getElementById("outbox-status");
  if (s.rejected) {
    el.textContent = t("outbox.rejected", { n: s.rejected });
    el.classList.add("banner-error");
  } else if (s.pending) {
    el.textContent = s.needsSignIn ? `${t("outbox.waiting", { n: s.pending })}. ${t("outbox.signin")}`
      : s.pending === 1 ? t("outbox.waiting_one") : t("outbox.waiting", { n: s.pending });
    el.classList.remove("banner-error");
  }
  el.dataset.pending = s.pending;
  el.dataset.rejected = s.rejected;
  el.hidden = !s.pending && !s.rejected;
}

function showConnection() {
  const el = document.getElementById("connection");
  el.hidden = navigator.onLine;
  el.textContent = navigator.onLine ? "" : t("app.offline");
}

async function boot() {
  document.getElementById("lang-switch").addEventListener("click", () => {
    setLang(lang() === "fr" ? "en" : "fr");
    render();
  });
  document.getElementById("site-switcher").addEventListener("change", (e) => {
    setSite(Number(e.target.value));
    go(home());
    render();
  });
  document.getElementById("outbox-status").addEventListener("click", () => go("outbox"));
  addEventListener("online", showConnection);
  addEventListener("offline", showConnection);
  addEventListener("hashchange", render);
  showConnection();
  outbox.onChange(showOutbox);
  if (state.me && navigator.onLine) await refreshMe();
  outbox.start();
  setInterval(updateBell, 60_000);
  render();
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  warmScreens();
}

// The screens each role works in beyond the shell. Once the service worker controls the page they
// are loaded (not shown): the worker caches them, so they open with no network later.
const ROLE_SCREENS = {
  assistant: ["stock", "lot", "count", "cleaning", "cleaning-log", "fridge", "alerts", "reprocessing", "loads",
    "equipment"],
  inspector: ["cleaning-records", "cleaning-log", "fridge", "incidents", "rp-records", "sterilization", "loads"],
};

async function warmScreens() {
  if (!("serviceWorker" in navigator) || !state.me || !navigator.onLine) return;
  const sw = navigator.serviceWorker;
  const registration = await sw.ready;
  if (!sw.controller) {
    const controlled = new Promise((done) => sw.addEventListener("controllerchange", done, { once: true }));
    registration.active?.postMessage("claim"); // in case this page loaded while the worker activated
    await controlled;
  }
  const names = ROLE_SCREENS[role()] || Object.keys(VIEWS); // managers and admins: every screen
  for (const name of names) await VIEWS[name]?.().catch(() => {});
  document.documentElement.dataset.screensCached = "true";
}

export async function signIn(username, password) {
  const me = await request("POST", "/api/auth/login", { body: { username, password } });
  setMe(me);
  outbox.flush();
  go(home());
  warmScreens();
}

export async function signOut() {
  try { await request("POST", "/api/auth/logout"); } catch { /* offline: forget locally anyway */ }
  signedOut();
}

boot();
