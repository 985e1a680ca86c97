// Reordering (managers): the suggestions per supplier with packs to edit, turned into draft orders
// (one per supplier) through the outbox; the open orders with Send and the order as PDF or CSV.
// #/reorder. Receiving against an order is in the API only for now.
import { get } from "/js/api.js";
import { formatDateTime, formatNumber, t } from "/js/i18n.js";
import "/js/reorder-strings.js";
import { api, isManager, outcomeNotice, sendWrite } from "/js/stock-actions.js";
import { h, screen } from "/js/ui.js";

let carried = null;

function suggestionRow(line) {
  const input = h("input", {
    type: "number", min: "0", max: "100000", step: "1", inputmode: "numeric", value: String(line.packs),
    name: `packs-${line.item_id}`, "aria-label": t("reorder.packs_for", { name: line.item_name }),
    class: "packs-input", dataset: { item: line.item_id, suggested: line.packs },
  });
  const facts = t("reorder.facts", { on_hand: line.usable_on_hand, on_order: line.on_order, par: line.par_level });
  return h("li", { class: "list-item suggestion", dataset: { item: line.item_id } },
    h("div", { class: "row-between" }, h("strong", {}, line.item_name), input),
    h("span", { class: "muted" }, facts),
    h("span", { class: "muted" }, t("reorder.pack_of", { n: line.pack_qty })),
    line.capped && h("span", { class: "notice notice-info" }, t("reorder.capped", { n: line.month_supply })),
    !line.capped && line.note && h("span", { class: "notice notice-info" }, t("reorder.no_usage")));
}

function suggestionsForm(groups) {
  const lists = groups.map((g) => h("section", { class: "card stack supplier-group", dataset: { supplier: g.supplier_name } },
    h("h3", {}, g.supplier_name || t("reorder.no_supplier")),
    h("ul", { class: "list" }, ...g.lines.map(suggestionRow))));
  const button = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("reorder.make_drafts"));
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const form = h("form", { id: "reorder-form", class: "stack", novalidate: true }, ...lists, error, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelector(".outcome")?.remove();
    const lines = [...form.querySelectorAll(".packs-input")]
      .map((i) => ({ item_id: Number(i.dataset.item), packs: Number(i.value), suggested_packs: Number(i.dataset.suggested) }))
      .filter((l) => Number.isInteger(l.packs) && l.packs > 0);
    error.textContent = lines.length ? "" : t("reorder.nothing_chosen");
    error.hidden = lines.length > 0;
    if (!lines.length) return;
    button.disabled = true;
    const outcome = await sendWrite({ method: "POST", url: api("/purchase-orders/drafts"), body: { lines },
      label: t("reorder.make_drafts") });
    if (outcome.status === "sent") {
      carried = outcomeNotice(outcome, t("reorder.drafts_made", { n: outcome.result.orders.length }));
      await render(document.getElementById("view"));
      return;
    }
    button.disabled = outcome.status === "queued";
    form.append(outcomeNotice(outcome, ""));
  });
  return form;
}

function orderCard(order) {
  const units = order.lines.reduce((n, l) => n + l.ordered_units, 0);
  const card = h("li", { class: "list-item order", dataset: { order: order.id, status: order.status } },
    h("div", { class: "row-between" }, h("strong", { class: "mono" }, order.number),
      h("span", { class: "badge order-status" }, t(`reorder.order_status.${order.status}`))),
    h("span", {}, order.supplier_name),
    h("span", { class: "muted" }, t("reorder.order_lines", { lines: order.lines.length, units: formatNumber(units) })),
    order.sent_at && h("span", { class: "muted" }, t("reorder.sent_on", { when: formatDateTime(order.sent_at) })),
    h("div", { class: "row-between" },
      h("a", { href: api(`/purchase-orders/${order.id}/order.pdf`), class: "link-more", download: "" }, "PDF"),
      h("a", { href: api(`/purchase-orders/${order.id}/order.csv`), class: "link-more", download: "" }, "CSV")));
  if (order.status === "draft") {
    const send = h("button", { type: "button", class: "btn btn-small send-order" }, t("reorder.send"));
    send.addEventListener("click", async () => {
      send.disabled = true;
      card.querySelector(".outcome")?.remove();
      const outcome = await sendWrite({ method: "POST", url: api(`/purchase-orders/${order.id}/send`), body: {},
        label: `${t("reorder.send")} · ${order.number}` });
      if (outcome.status === "sent") {
        carried = outcomeNotice(outcome, t("reorder.sent", { number: order.number }));
        await render(document.getElementById("view"));
        return;
      }
      send.disabled = outcome.status === "queued";
      card.append(outcomeNotice(outcome, ""));
    });
    card.append(send);
  }
  return card;
}

export async function render(view) {
  if (!isManager()) {
    view.replaceChildren(screen(t("reorder.screen"), h("p", { class: "notice notice-info" }, t("reorder.managers_only"))));
    return;
  }
  const [groups, orders] = await Promise.all([get(api("/reorder/suggestions")), get(api("/purchase-orders"))]);
  const open = orders.filter((o) => ["draft", "sent", "partly_received"].includes(o.status));
  const notice = carried;
  carried = null;
  const orderList = h("ul", { class: "list", id: "orders" }, ...open.map(orderCard));
  if (!open.length) orderList.append(h("li", { class: "empty" }, t("reorder.orders_none")));
  view.replaceChildren(screen(t("reorder.screen"),
    notice,
    h("h2", {}, t("reorder.suggestions")),
    groups.length ? suggestionsForm(groups) : h("p", { class: "muted", id: "reorder-form" }, t("reorder.nothing_to_order")),
    h("h2", {}, t("reorder.orders")),
    orderList));
}
