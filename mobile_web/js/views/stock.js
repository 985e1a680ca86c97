// Stock: what is on hand (search by name or lot, filter by place) and what expires soon (30/60/90 days).
import { get } from "/js/api.js";
import { formatNumber, t } from "/js/i18n.js";
import { api, expiryText, hashParams, isManager, loadPlaces, placeSelect, setHashParams, statusBadge, whenText, daysLeft } from "/js/stock-actions.js";
import { field, h, screen } from "/js/ui.js";

const WINDOWS = [30, 60, 90];

function lotRow(row, { showPlace = true, showWhen = false } = {}) {
  const soon = row.expiry && daysLeft(row.expiry) <= 30;
  return h("li", { class: "stock-lot", dataset: { lotId: row.lot_id, lot: row.lot_number, location: row.location_id } },
    h("a", { href: `#/lot?id=${row.lot_id}`, class: "stock-lot-link" },
      h("span", { class: "stock-lot-main" },
        h("span", { class: "mono" }, t("stock.lot_n", { lot: row.lot_number })),
        h("span", { class: `stock-expiry${soon ? " stock-expiry-soon" : ""}` },
          expiryText(row.expiry), showWhen && row.expiry ? ` (${whenText(row.expiry)})` : ""),
        showPlace && h("span", { class: "muted" }, row.location_name)),
      h("span", { class: "stock-lot-side" },
        h("strong", { class: "stock-qty", "aria-label": t("stock.on_hand_n", { n: row.on_hand }) }, formatNumber(row.on_hand)),
        row.status !== "available" || (row.expiry && daysLeft(row.expiry) < 0) ? statusBadge(row.status, row.expiry) : null)));
}

/** Rows grouped by item, item names in the order the server sorted them. */
function groupByItem(rows) {
  const groups = new Map();
  for (const row of rows) {
    if (!groups.has(row.item_id)) groups.set(row.item_id, { id: row.item_id, name: row.item_name, kind: row.item_kind, rows: [] });
    groups.get(row.item_id).rows.push(row);
  }
  return [...groups.values()];
}

function matches(row, words) {
  const text = `${row.item_name} ${row.lot_number}`.toLowerCase();
  return words.every((w) => text.includes(w));
}

export async function render(view) {
  const params = hashParams();
  let tab = params.get("tab") === "expiring" ? "expiring" : "on_hand";
  let days = WINDOWS.includes(Number(params.get("days"))) ? Number(params.get("days")) : 30;
  let placeId = params.get("location") || "";
  let query = params.get("q") || "";
  let seq = 0;

  const places = await loadPlaces();
  const list = h("div", { id: "stock-list", "aria-live": "polite" });
  const count = h("p", { class: "muted", id: "stock-count", role: "status" });

  const tabButtons = ["on_hand", "expiring"].map((name) => h("button", {
    type: "button", class: "seg-btn", dataset: { tab: name }, "aria-pressed": String(tab === name),
    onclick: () => { tab = name; sync(); load(); },
  }, t(`stock.tab_${name}`)));

  const search = h("input", { type: "search", name: "q", value: query, autocomplete: "off", maxlength: 100, enterkeyhint: "search" });
  let searchTimer;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { query = search.value; sync(); draw(); }, 200);
  });
  const place = placeSelect(places, { name: "location", selected: placeId, label: t("stock.place"), all: true });
  place.select.addEventListener("change", () => { placeId = place.select.value; sync(); load(); });
  const filters = h("div", { class: "stock-filters" }, field(t("stock.search"), search), place.node);

  const dayButtons = WINDOWS.map((n) => h("button", {
    type: "button", class: "seg-btn", dataset: { days: n }, "aria-pressed": String(days === n),
    onclick: () => { days = n; sync(); load(); },
  }, t("stock.days_n", { n })));
  const dayBar = h("div", { class: "segmented", role: "group", "aria-label": t("stock.within") }, ...dayButtons);

  const links = h("div", { class: "row stock-links" },
    h("a", { class: "btn btn-small btn-link", href: "#/count" }, t("stock.counts")),
    isManager() && h("a", { class: "btn btn-small btn-link", href: "#/recall" }, t("stock.recalls")));

  let rows = [];
  function sync() {
    for (const b of tabButtons) b.setAttribute("aria-pressed", String(b.dataset.tab === tab));
    for (const b of dayButtons) b.setAttribute("aria-pressed", String(Number(b.dataset.days) === days));
    dayBar.hidden = tab !== "expiring";
    setHashParams("stock", { tab: tab === "expiring" ? "expiring" : null, days: tab === "expiring" ? days : null, location: placeId, q: query.trim() });
  }

  async function load() {
    const mine = ++seq;
    list.setAttribute("aria-busy", "true");
    let fresh;
    try {
      fresh = tab === "expiring" ? await get(api(`/stock/expiring?days=${days}`))
        : await get(api(`/stock${placeId ? `?location_id=${placeId}` : ""}`));
    } catch (err) {
      if (mine !== seq) return;
      list.removeAttribute("aria-busy");
      if (!err.isNetwork) throw err;
      list.replaceChildren(h("p", { class: "notice notice-info" }, t("stock.offline")));
      count.textContent = "";
      return;
    }
    if (mine !== seq) return;
    rows = fresh;
    list.removeAttribute("aria-busy");
    draw();
  }

  function draw() {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = rows.filter((r) => matches(r, words));
    if (tab === "expiring" && placeId) shown = shown.filter((r) => String(r.location_id) === String(placeId));
    if (tab === "expiring") {
      const groups = [
        ["expired", shown.filter((r) => daysLeft(r.expiry) < 0)],
        ["soon", shown.filter((r) => daysLeft(r.expiry) >= 0)],
      ].filter(([, g]) => g.length);
      list.replaceChildren(...groups.map(([name, g]) => h("section", { class: "stock-group", dataset: { group: name } },
        h("h2", {}, t(`stock.group_${name}`, { n: days })),
        h("ul", { class: "list" }, ...g.map((r) => h("li", { class: "list-item stock-item", dataset: { itemId: r.item_id } },
          h("strong", {}, r.item_name), h("ul", { class: "stock-lots" }, lotRow(r, { showWhen: true }))))))));
      count.textContent = shown.length ? t("stock.expiring_count", { n: shown.length, days }) : "";
      if (!shown.length) list.append(h("p", { class: "empty" }, t("stock.none_expiring", { n: days })));
      return;
    }
    const groups = groupByItem(shown);
    list.replaceChildren(h("ul", { class: "list" }, ...groups.map((g) => {
      const total = g.rows.reduce((n, r) => n + r.on_hand, 0);
      return h("li", { class: "list-item stock-item", dataset: { itemId: g.id, name: g.name } },
        h("div", { class: "row-between" },
          h("a", { href: `#/lot?item=${g.id}`, class: "stock-item-name" }, g.name),
          h("span", { class: "stock-total" }, t("stock.total_n", { n: total }))),
        h("ul", { class: "stock-lots" }, ...g.rows.map((r) => lotRow(r, { showPlace: !placeId }))));
    })));
    count.textContent = groups.length ? t("stock.items_count", { n: groups.length }) : "";
    if (!groups.length) list.append(h("p", { class: "empty" }, words.length ? t("stock.no_match") : t("stock.none")));
  }

  sync();
  await load();
  view.replaceChildren(screen(t("stock.title"),
    h("div", { class: "segmented", role: "group", "aria-label": t("stock.view") }, ...tabButtons),
    filters, dayBar, links, count, list));
  return { destroy: () => { seq += 1; clearTimeout(searchTimer); } };
}
