import { get } from "/js/api.js";
import { formatNumber, t } from "/js/i18n.js";
import { role, state } from "/js/state.js";
import { h, screen } from "/js/ui.js";
import "/js/reorder-strings.js";

function tile(label, value, note = "") {
  return h("div", { class: "tile" }, h("span", { class: "tile-label" }, label),
    h("strong", { class: "tile-value" }, value), note && h("span", { class: "tile-note" }, note));
}

// A labelled bar: <meter> draws it without inline styles (the CSP allows none) and reads out its value.
function bar(label, value, max, text) {
  return h("li", { class: "bar" }, h("span", { class: "bar-label" }, label),
    h("meter", { min: "0", max: String(Math.max(max, 1)), value: String(value), "aria-label": `${label}: ${text}` }),
    h("span", { class: "bar-value" }, text));
}

function expiringText(e) {
  if (e.units === 1) return t("reorder.expiring_one");
  return t(e.lots === 1 ? "reorder.expiring_one_lot" : "reorder.expiring_value", { units: e.units, lots: e.lots });
}

function reorderSection(d) {
  const lowNote = d.low_stock.slice(0, 5).map((x) => x.item_name).join(", ");
  const alerts = d.open_alerts.reduce((n, a) => n + a.count, 0);
  const top = Math.max(...d.expiring.map((e) => e.units), 1);
  const wasteTop = Math.max(...d.wastage_by_reason.map((w) => w.count), 1);
  const orders = d.open_orders.reduce((n, o) => n + o.count, 0);
  return h("section", { id: "reorder-numbers", "aria-labelledby": "reorder-title" },
    h("h2", { id: "reorder-title" }, t("reorder.title")),
    ["manager", "admin"].includes(role())
      && h("a", { href: "#/reorder", class: "btn btn-block", id: "open-reorder" }, t("reorder.open_screen")),
    h("div", { class: "tiles" },
      h("div", { class: `tile ${d.low_stock.length ? "tile-alert" : ""}`, id: "reorder-low" },
        h("span", { class: "tile-label" }, t("reorder.low")),
        h("strong", { class: "tile-value" }, formatNumber(d.low_stock.length)),
        h("span", { class: "tile-note" }, lowNote || t("reorder.low_none"))),
      h("div", { class: "tile", id: "reorder-orders" },
        h("span", { class: "tile-label" }, t("reorder.orders")),
        h("strong", { class: "tile-value" }, formatNumber(orders)),
        h("span", { class: "tile-note" }, orders
          ? d.open_orders.map((o) => `${t(`reorder.status.${o.key}`)} ${formatNumber(o.count)}`).join(" · ")
          : t("reorder.orders_none"))),
      h("a", { class: "tile", id: "reorder-alerts", href: "#/alerts" },
        h("span", { class: "tile-label" }, t("reorder.alerts")),
        h("strong", { class: "tile-value" }, formatNumber(alerts)))),
    h("h3", {}, t("reorder.expiring")),
    h("ul", { class: "bars", id: "reorder-expiring" }, ...d.expiring.map((e) => bar(
      t("reorder.within", { days: e.days }), e.units, top, expiringText(e)))),
    h("h3", {}, t("reorder.wastage")),
    d.wastage_by_reason.length
      ? h("ul", { class: "bars", id: "reorder-wastage" }, ...d.wastage_by_reason.map((w) => bar(
        t(`reorder.reason.${w.key}`), w.count, wasteTop,
        w.count === 1 ? t("reorder.units_one") : t("reorder.units", { n: w.count }))))
      : h("p", { class: "muted", id: "reorder-wastage" }, t("reorder.wastage_none")));
}

export async function render(view) {
  const site = state.siteId;
  const [places, record, numbers] = await Promise.all([
    get(`/api/sites/${site}/locations`),
    get(`/api/sites/${site}/audit/status`),
    get(`/api/sites/${site}/reorder/dashboard`).catch(() => null),
  ]);
  const byKind = {};
  for (const p of places) byKind[p.kind] = (byKind[p.kind] || 0) + 1;
  const kinds = Object.entries(byKind).map(([k, n]) => `${t(`kind.${k}`)} ${formatNumber(n)}`).join(" · ");
  const recordText = record.ok ? t("dashboard.record_ok", { n: record.events })
    : t("dashboard.record_broken", { seq: record.first_broken_seq });
  view.replaceChildren(screen(t("dashboard.title"),
    h("div", { class: "tiles" },
      tile(t("dashboard.places"), formatNumber(places.length), kinds),
      h("div", { class: `tile ${record.ok ? "" : "tile-alert"}` },
        h("span", { class: "tile-label" }, t("dashboard.record")),
        h("strong", { class: "tile-value" }, record.ok ? "✓" : "!"),
        h("span", { class: "tile-note" }, recordText))),
    numbers && reorderSection(numbers)));
}
