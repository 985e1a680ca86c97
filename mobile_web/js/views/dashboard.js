import { get } from "/js/api.js";
import { formatNumber, t } from "/js/i18n.js";
import { state } from "/js/state.js";
import { h, screen } from "/js/ui.js";
import { reorderSection } from "/js/reorder-dashboard.js";

function tile(label, value, note = "") {
  return h("div", { class: "tile" }, h("span", { class: "tile-label" }, label),
    h("strong", { class: "tile-value" }, value), note && h("span", { class: "tile-note" }, note));
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
