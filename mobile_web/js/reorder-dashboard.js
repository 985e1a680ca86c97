// The manager's reordering numbers on the dashboard: what to reorder, open orders and alerts, overdue
// tasks, cleaning and reprocessing compliance (rings), and money: stock expiring in 30/60/90 days and
// this month's wastage by reason, in CAD, with what has no cost said plainly (never counted as $0).
import { formatNumber, t } from "/js/i18n.js";
import { role } from "/js/state.js";
import { h } from "/js/ui.js";
import { barList, money, moneyNote, ring } from "/js/reorder-charts.js";
import "/js/reorder-strings.js";

function expiringText(e) {
  const units = e.units === 1 ? t("reorder.expiring_one")
    : t(e.lots === 1 ? "reorder.expiring_one_lot" : "reorder.expiring_value", { units: e.units, lots: e.lots });
  return e.units ? `${moneyNote(e.value, e.unpriced_units)} · ${units}` : units;
}

function unitsText(n) {
  return n === 1 ? t("reorder.units_one") : t("reorder.units", { n: formatNumber(n) });
}

function wasteText(w) {
  return `${moneyNote(w.value, w.unpriced_units)} · ${unitsText(w.units)}`;
}

function complianceTile(id, title, c, note, none) {
  const late = c && c.late > 0;
  return h("div", { class: `tile tile-ring ${late ? "tile-alert" : ""}`, id },
    h("span", { class: "tile-label" }, title),
    c && c.total ? ring(c.done, c.total, `${title}: ${note}`) : null,
    h("span", { class: "tile-note" }, c && c.total ? note : none));
}

function overdueTile(d) {
  const total = d.overdue_tasks.reduce((n, o) => n + o.count, 0);
  return h("div", { class: `tile ${total ? "tile-alert" : ""}`, id: "reorder-overdue" },
    h("span", { class: "tile-label" }, t("reorder.overdue")),
    h("strong", { class: "tile-value" }, formatNumber(total)),
    h("span", { class: "tile-note" }, total
      ? d.overdue_tasks.map((o) => `${t(`reorder.overdue.${o.key}`)} ${formatNumber(o.count)}`).join(" · ")
      : t("reorder.overdue_none")));
}

export function reorderSection(d) {
  const lowNote = d.low_stock.slice(0, 5).map((x) => x.item_name).join(", ");
  const alerts = d.open_alerts.reduce((n, a) => n + a.count, 0);
  const orders = d.open_orders.reduce((n, o) => n + o.count, 0);
  const in90 = d.expiring[d.expiring.length - 1];
  const wasted = d.wastage_total;
  const priced = (x) => (x.value === null ? 0 : x.value);
  const manager = ["manager", "admin"].includes(role());
  const c = d.cleaning;
  const r = d.reprocessing;
  return h("section", { id: "reorder-numbers", "aria-labelledby": "reorder-title" },
    h("h2", { id: "reorder-title" }, t("reorder.title")),
    manager && h("a", { href: "#/reorder", class: "btn btn-block", id: "open-reorder" }, t("reorder.open_screen")),
    h("div", { class: "tiles" },
      h("div", { class: `tile ${d.low_stock.length ? "tile-alert" : ""}`, id: "reorder-low" },
        h("span", { class: "tile-label" }, t("reorder.low")),
        h("strong", { class: "tile-value" }, formatNumber(d.low_stock.length)),
        h("span", { class: "tile-note" }, lowNote || t("reorder.low_none"))),
      h("div", { class: "tile", id: "reorder-value-expiring" },
        h("span", { class: "tile-label" }, t("reorder.value_expiring")),
        h("strong", { class: "tile-value money" }, money(in90.units ? in90.value : 0)),
        h("span", { class: "tile-note" }, in90.unpriced_units
          ? t("reorder.unpriced", { n: formatNumber(in90.unpriced_units) })
          : t("reorder.value_units", { units: formatNumber(in90.units) }))),
      h("div", { class: `tile ${wasted && wasted.units ? "tile-alert" : ""}`, id: "reorder-value-wasted" },
        h("span", { class: "tile-label" }, t("reorder.value_wasted")),
        h("strong", { class: "tile-value money" }, money(wasted && wasted.units ? wasted.value : 0)),
        h("span", { class: "tile-note" }, wasted && wasted.unpriced_units
          ? t("reorder.unpriced", { n: formatNumber(wasted.unpriced_units) })
          : unitsText(wasted ? wasted.units : 0))),
      overdueTile(d),
      complianceTile("reorder-cleaning", t("reorder.cleaning"), c,
        c && t("reorder.cleaning_note", { done: c.done, total: c.total, late: c.late }), t("reorder.cleaning_none")),
      complianceTile("reorder-reprocessing", t("reorder.reprocessing"), r,
        r && t("reorder.reprocessing_note", { done: r.done, total: r.total, late: r.late }), t("reorder.reprocessing_none")),
      h("div", { class: "tile", id: "reorder-orders" },
        h("span", { class: "tile-label" }, t("reorder.orders")),
        h("strong", { class: "tile-value" }, formatNumber(orders)),
        h("span", { class: "tile-note" }, orders
          ? d.open_orders.map((o) => `${t(`reorder.status.${o.key}`)} ${formatNumber(o.count)}`).join(" · ")
          : t("reorder.orders_none"))),
      h("a", { class: "tile", id: "reorder-alerts", href: "#/alerts" },
        h("span", { class: "tile-label" }, t("reorder.alerts")),
        h("strong", { class: "tile-value" }, formatNumber(alerts)))),
    h("p", { class: `muted ${d.sterilization_gaps_today ? "gaps" : ""}`, id: "reorder-gaps" }, d.sterilization_gaps_today
      ? t("reorder.gaps_today", { n: d.sterilization_gaps_today }) : t("reorder.gaps_none")),
    d.items_without_cost > 0 && h("p", { class: "notice notice-info", id: "reorder-no-cost" },
      t("reorder.no_cost", { n: d.items_without_cost, total: d.active_items }), " ", t("reorder.set_costs")),
    h("h3", {}, t("reorder.expiring")),
    barList(d.expiring.map((e) => ({
      label: t("reorder.within", { days: e.days }),
      amount: d.expiring.some((x) => x.value) ? priced(e) : e.units,
      text: expiringText(e),
    })), { id: "reorder-expiring" }),
    h("h3", { id: "reorder-wastage-title" }, t("reorder.chart_wastage")),
    d.wastage_cost.length
      ? barList(d.wastage_cost.map((w) => ({
        label: t(`reorder.reason.${w.reason}`),
        amount: d.wastage_cost.some((x) => x.value) ? priced(w) : w.units,
        unknown: w.value === null,
        text: wasteText(w),
      })), { id: "reorder-wastage" })
      : h("p", { class: "muted", id: "reorder-wastage" }, t("reorder.wastage_none")));
}
