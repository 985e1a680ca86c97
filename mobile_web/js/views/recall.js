// Recalls: managers enter a recall notice (item or GTIN + lot numbers); the matching lots are marked
// recalled and located, with what is on hand where and how much was used. #/recall, #/recall?id=<id>.
import { get } from "/js/api.js";
import { formatDateTime, formatNumber, t } from "/js/i18n.js";
import { api, expiryText, hashParams, isManager, itemPicker, outcomeNotice, sendWrite, statusBadge } from "/js/stock-actions.js";
import { field, h, screen } from "/js/ui.js";

let carried = null;

/** "A1, A2 B3;B4" or one per line -> ["A1", "A2", "B3", "B4"], without repeats. */
function lotNumbers(text) {
  return [...new Set(text.split(/[\s,;]+/).map((s) => s.trim()).filter(Boolean))];
}

function lotCard(lot) {
  const places = lot.locations.filter((l) => l.on_hand > 0);
  return h("li", { class: "list-item recalled-lot", dataset: { lot: lot.lot_number, lotId: lot.lot_id } },
    h("div", { class: "row-between" },
      h("a", { href: `#/lot?id=${lot.lot_id}`, class: "mono" }, t("stock.lot_n", { lot: lot.lot_number })),
      statusBadge(lot.status, lot.expiry)),
    h("span", {}, expiryText(lot.expiry)),
    h("span", { class: "muted" }, t("recall.numbers", { received: lot.received, used: lot.used, on_hand: lot.on_hand })),
    places.length
      ? h("div", { class: "notice notice-alert" }, h("strong", {}, t("recall.set_aside")),
        h("ul", { class: "levels" }, ...places.map((p) => h("li", { dataset: { location: p.location_id } },
          h("span", {}, p.location_name), h("strong", {}, t("act.on_hand_n", { n: p.on_hand }))))))
      : h("p", { class: "muted" }, t("recall.none_left")));
}

async function detailScreen(view, id) {
  const detail = await get(api(`/recalls/${id}`));
  const r = detail.recall;
  const children = [];
  if (carried?.id === id) children.push(carried.notice);
  carried = null;
  const onHand = detail.lots.reduce((n, l) => n + l.on_hand, 0);
  children.push(
    h("div", { class: "card stack" },
      h("p", {}, h("strong", {}, r.item_name)),
      h("p", { class: "mono" }, r.lot_numbers.join(", ")),
      h("p", { class: "recall-notice" }, r.notice),
      r.source && h("p", { class: "muted" }, t("recall.from", { source: r.source })),
      h("p", { class: "muted" }, `${formatDateTime(r.created_at)} · ${t("logs.who")} ${r.created_by}`)),
    h("p", { class: onHand ? "notice notice-alert" : "notice notice-ok", role: "status", id: "recall-summary" },
      onHand ? t("recall.summary", { n: formatNumber(onHand), lots: detail.lots.length }) : t("recall.summary_none", { lots: detail.lots.length })),
    h("h2", {}, t("recall.lots")),
    h("ul", { class: "list", id: "recalled-lots" }, ...detail.lots.map(lotCard)),
    detail.not_found.length > 0 && h("p", { class: "notice notice-info", id: "recall-not-found" },
      t("recall.not_found", { lots: detail.not_found.join(", ") })),
    h("a", { href: "#/recall", class: "link-more" }, t("recall.all")));
  view.replaceChildren(screen(t("recall.title_one"), ...children));
}

function entryForm() {
  const picker = itemPicker({ label: t("recall.item") });
  const gtin = h("input", { name: "gtin", inputmode: "numeric", autocomplete: "off", maxlength: 64 });
  const lots = h("textarea", { name: "lot_numbers", rows: 3, required: true, autocapitalize: "characters", spellcheck: "false" });
  const notice = h("textarea", { name: "notice", rows: 4, required: true, maxlength: 4000 });
  const source = h("input", { name: "source", maxlength: 200, autocomplete: "off" });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const button = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("recall.save"));
  const form = h("form", { class: "card stack", id: "recall-form", novalidate: true },
    h("h2", {}, t("recall.enter")), h("p", { class: "muted" }, t("recall.hint")),
    picker.node, field(t("recall.gtin"), gtin),
    field(t("recall.lot_numbers"), lots), h("p", { class: "muted hint" }, t("recall.lot_numbers_hint")),
    field(t("recall.notice"), notice), field(t("recall.source"), source), error, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelector(".outcome")?.remove();
    const numbers = lotNumbers(lots.value);
    const item = picker.chosen;
    const code = gtin.value.trim();
    const problem = !item && !code ? t("recall.need_item") : !numbers.length ? t("recall.need_lots")
      : !notice.value.trim() ? t("recall.need_notice") : "";
    error.textContent = problem;
    error.hidden = !problem;
    if (problem) return;
    const body = { lot_numbers: numbers, notice: notice.value.trim(), source: source.value.trim() };
    if (item) body.item_id = item.id; else body.gtin = code;
    button.disabled = true;
    const outcome = await sendWrite({ method: "POST", url: api("/recalls"), body,
      label: `${t("recall.enter")} · ${item?.name || code} · ${numbers.join(", ")}` });
    if (outcome.status === "sent") {
      carried = { id: outcome.result.recall.id, notice: outcomeNotice(outcome, t("recall.saved")) };
      location.hash = `#/recall?id=${outcome.result.recall.id}`;
      return;
    }
    button.disabled = outcome.status === "queued";
    form.append(outcomeNotice(outcome, ""));
  });
  return { node: form, destroy: picker.destroy };
}

async function listScreen(view) {
  const recalls = await get(api("/recalls?limit=50"));
  const list = h("ul", { class: "list", id: "recalls" }, ...recalls.map((r) => h("li", { class: "list-item", dataset: { recallId: r.id } },
    h("a", { href: `#/recall?id=${r.id}`, class: "row-between" }, h("strong", {}, r.item_name), h("span", { class: "muted" }, formatDateTime(r.created_at))),
    h("span", { class: "mono" }, r.lot_numbers.join(", ")))));
  if (!recalls.length) list.append(h("li", { class: "empty" }, t("recall.none")));
  const form = isManager() ? entryForm() : null;
  view.replaceChildren(screen(t("recall.title"),
    form ? form.node : h("p", { class: "notice notice-info" }, t("recall.managers_only")),
    h("h2", {}, t("recall.past")), list));
  return form ? { destroy: form.destroy } : null;
}

export async function render(view) {
  const id = Number(hashParams().get("id"));
  if (id > 0) return detailScreen(view, id);
  return listScreen(view);
}
