// Money in the site's currency and two small inline-SVG pictures (bars, a ring), no chart library.
// SVG attributes only: the CSP allows no inline styles, colours come from reorder.css classes.
import { formatNumber, t } from "/js/i18n.js";
import { h } from "/js/ui.js";

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

/** CAD as the phone's language writes it; null (no known cost) is "unknown", never $0. */
export function money(value) {
  if (value === null || value === undefined) return t("reorder.unknown");
  return formatNumber(value, { style: "currency", currency: "CAD" });
}

/** A value with the units it leaves out: "$20.00 + 3 units with no cost". */
export function moneyNote(value, unpriced) {
  return unpriced ? `${money(value)} ${t("reorder.unpriced", { n: formatNumber(unpriced) })}` : money(value);
}

/** One labelled bar per row ({label, amount, text}); the text beside each bar is what is read out. */
export function barList(rows, { id } = {}) {
  const top = Math.max(...rows.map((r) => r.amount), 0) || 1;
  return h("ul", { class: "bars", id }, ...rows.map((r) => {
    const width = Math.max(0, Math.round((r.amount / top) * 100));
    const picture = svg("svg", { class: "bar-svg", viewBox: "0 0 100 8", preserveAspectRatio: "none", "aria-hidden": "true", focusable: "false" },
      svg("rect", { class: "bar-track", x: 0, y: 0, width: 100, height: 8, rx: 2 }),
      svg("rect", { class: `bar-fill${r.unknown ? " bar-unknown" : ""}`, x: 0, y: 0, width: r.unknown ? 100 : width, height: 8, rx: 2 }));
    return h("li", { class: "bar" }, h("span", { class: "bar-label" }, r.label), picture, h("span", { class: "bar-value" }, r.text));
  }));
}

/** A ring filled done/total with the share in the middle; the label says the same in words. */
export function ring(done, total, label) {
  const share = total ? done / total : 0;
  const r = 15.915; // circumference 100: the dash length is the percentage
  return svg("svg", { class: `ring ${total && share < 1 ? "ring-late" : ""}`, viewBox: "0 0 40 40", width: 56, height: 56, role: "img", "aria-label": label },
    svg("circle", { class: "ring-track", cx: 20, cy: 20, r, fill: "none", "stroke-width": 5 }),
    svg("circle", { class: "ring-fill", cx: 20, cy: 20, r, fill: "none", "stroke-width": 5,
      "stroke-dasharray": `${Math.round(share * 100)} 100`, transform: "rotate(-90 20 20)" }),
    svg("text", { x: 20, y: 24, "text-anchor": "middle", class: "ring-text" }, total ? `${Math.round(share * 100)}%` : "–"));
}
