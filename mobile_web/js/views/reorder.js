// Reordering (managers): the suggestions per supplier with packs to edit, turned into draft orders
// (one per supplier) through the outbox; the open orders with Send and the order as PDF or CSV.
// #/reorder. #/reorder?receive=<order id>: receive against an order's lines by scanning the GS1 code
// on the box (assistants too): the lot and expiry come from the code, the quantity counts boxes. The
// shared scanner (camera, handheld, typed) finds the box's line and fills its code. ?suppliers=1 and
// ?reports=1: the suppliers and the reports (reorder-manage.js).
import { ApiError, get } from "/js/api.js";
import { formatDateTime, formatNumber, t } from "/js/i18n.js";
import { role } from "/js/state.js";
import "/js/reorder-strings.js";
import { api, hashParams, isManager, loadPlaces, outcomeNotice, placeSelect, resolveScan, sendWrite, stepper } from "/js/stock-actions.js";
import { askDialog, field, h, screen } from "/js/ui.js";
import { money } from "/js/reorder-charts.js";
import { cancelButton, draftEditor, reportsScreen, suppliersScreen } from "/js/reorder-manage.js";
import { mountScanner } from "/js/scanner.js";

let carried = null;
let activeScanner = null;

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
    h("span", { class: "muted order-value" }, t("reorder.order_value", { value: money(order.value) })),
    order.sent_at && h("span", { class: "muted" }, t("reorder.sent_on", { when: formatDateTime(order.sent_at) })),
    h("div", { class: "row-between" },
      h("a", { href: api(`/purchase-orders/${order.id}/order.pdf`), class: "link-more", download: "" }, "PDF"),
      h("a", { href: api(`/purchase-orders/${order.id}/order.csv`), class: "link-more", download: "" }, "CSV")));
  if (order.status === "sent" || order.status === "partly_received") {
    card.append(h("a", { href: `#/reorder?receive=${order.id}`, class: "btn btn-small receive-order" }, t("reorder.receive")));
  }
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
    card.append(send, draftEditor(order));
  }
  if (["draft", "sent", "partly_received"].includes(order.status)) card.append(cancelButton(order));
  return card;
}

function lineForm(order, line, places) {
  const code = h("input", { name: "scan", autocomplete: "off", spellcheck: "false", autocapitalize: "off",
    class: "mono", required: true });
  const boxes = stepper({ label: t("reorder.boxes"), value: 1 });
  const where = placeSelect(places, { name: "location_id", label: t("reorder.into"), selected: places[0]?.id });
  const last = h("input", { type: "checkbox", name: "final" });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const button = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("reorder.receive_line"));
  const form = h("form", { class: "stack receive-form", novalidate: true, dataset: { line: line.id } },
    field(t("reorder.scan_code"), code), boxes.node, where.node,
    h("label", { class: "check" }, last, " ", t("reorder.final")), error, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelector(".outcome")?.remove();
    const raw = code.value.trim();
    error.textContent = raw ? "" : t("reorder.need_code");
    error.hidden = Boolean(raw);
    if (!raw) return;
    button.disabled = true;
    const body = { scan: raw, quantity: boxes.value || 1, location_id: Number(where.select.value), final: last.checked };
    const outcome = await sendWrite({ method: "POST", url: api(`/purchase-orders/${order.id}/lines/${line.id}/receipts`),
      body, label: `${t("reorder.receive")} · ${order.number} · ${line.item_name}` });
    if (outcome.status === "sent") {
      const r = outcome.result;
      carried = outcomeNotice(outcome, t("reorder.received", { n: r.units, lot: r.receipt.lot_number }));
      await render(document.getElementById("view"));
      return;
    }
    button.disabled = outcome.status === "queued";
    form.append(outcomeNotice(outcome, ""));
  });
  return form;
}

function closeButton(order, line) {
  const button = h("button", { type: "button", class: "btn btn-small close-line" }, t("reorder.close_line"));
  button.addEventListener("click", async () => {
    const reason = (await askDialog(t("reorder.close_reason"), { minlength: 1 }))?.trim();
    if (!reason) return;
    button.disabled = true;
    const outcome = await sendWrite({ method: "POST", url: api(`/purchase-orders/${order.id}/lines/${line.id}/close`),
      body: { reason }, label: `${t("reorder.close_line")} · ${order.number} · ${line.item_name}` });
    if (outcome.status === "sent") {
      carried = outcomeNotice(outcome, t("reorder.line_closed", { name: line.item_name }));
      await render(document.getElementById("view"));
      return;
    }
    button.disabled = outcome.status === "queued";
    button.after(outcomeNotice(outcome, ""));
  });
  return button;
}

function receiveLine(order, line, places) {
  const open = !line.closed && places.length > 0;
  return h("li", { class: "list-item receive-line", dataset: { line: line.id, discrepancy: line.discrepancy } },
    h("strong", {}, line.item_name),
    h("span", { class: "muted" }, t("reorder.line_progress", { received: line.received_units, ordered: line.ordered_units })),
    line.discrepancy !== "none" && h("span", { class: "notice notice-alert discrepancy" },
      t(`reorder.discrepancy.${line.discrepancy}`, { n: line.discrepancy_units })),
    open && lineForm(order, line, places),
    open && closeButton(order, line));
}

/** A box scanned by camera or handheld finds its open line: the code goes into that line's form. */
function scanToLine(order, raw, found) {
  found.replaceChildren();
  delete found.dataset.line;
  return resolveScan(raw).then((answer) => {
    const itemId = answer?.prefill?.item_id;
    const line = order.lines.find((l) => !l.closed && l.item_id === itemId);
    const form = line && document.querySelector(`.receive-form[data-line="${line.id}"]`);
    if (!form) {
      found.append(h("p", { class: "notice notice-alert", role: "alert" }, t("reorder.scan_not_here")));
      return;
    }
    form.querySelector("input[name=scan]").value = raw;
    found.dataset.line = String(line.id);
    found.append(h("p", { class: "notice notice-ok", role: "status" }, t("reorder.scan_found", { name: line.item_name })));
    form.scrollIntoView({ block: "center" });
    form.querySelector("button[type=submit]").focus({ preventScroll: true });
  }).catch(() => found.append(h("p", { class: "notice notice-alert", role: "alert" }, t("reorder.scan_not_here"))));
}

async function receiveScreen(view, id) {
  const [order, places] = await Promise.all([get(api(`/purchase-orders/${id}`)), loadPlaces()]);
  const notice = carried;
  carried = null;
  const open = order.status === "sent" || order.status === "partly_received";
  const host = h("div", { class: "scanner-host", id: "receive-scanner" });
  const found = h("div", { id: "receive-found", "aria-live": "polite" });
  // A redraw after a receipt mounts a new scanner: the old one lets go of the camera and the keyboard.
  activeScanner?.destroy();
  const scanner = open && places.length ? mountScanner(host, { onScan: (raw) => scanToLine(order, raw, found) }) : null;
  activeScanner = scanner;
  view.replaceChildren(screen(t("reorder.receive_title", { number: order.number }),
    notice,
    h("p", {}, h("strong", {}, order.supplier_name), " · ",
      h("span", { class: "badge order-status", id: "order-status" }, t(`reorder.order_status.${order.status}`))),
    !open && h("p", { class: "notice notice-info" }, t("reorder.not_open")),
    scanner && h("h2", {}, t("reorder.scan_box")), scanner && host, found,
    h("ul", { class: "list", id: "receive-lines" }, ...order.lines.map((l) => receiveLine(order, l, open ? places : []))),
    isManager() && h("a", { href: "#/reorder", class: "link-more" }, t("reorder.back"))));
  return { destroy: () => { scanner?.destroy(); if (activeScanner === scanner) activeScanner = null; } };
}

/** For My tasks: orders waiting for deliveries, each a link to receive it; null when there are none
 * (or offline, or for a role that does not receive). */
export async function taskList() {
  if (!["assistant", "manager", "admin"].includes(role())) return null;
  let orders;
  try {
    orders = await get(api("/purchase-orders"));
  } catch (err) {
    if (err instanceof ApiError && err.isNetwork) return null;
    throw err;
  }
  const waiting = orders.filter((o) => o.status === "sent" || o.status === "partly_received");
  if (!waiting.length) return null;
  return h("ul", { class: "list", id: "receive-tasks" }, ...waiting.map((o) =>
    h("li", { class: "list-item", dataset: { order: o.id } },
      h("div", { class: "row-between" },
        h("a", { href: `#/reorder?receive=${o.id}` }, `${o.number} · ${o.supplier_name}`),
        h("span", { class: "badge order-status" }, t(`reorder.order_status.${o.status}`))))));
}

export async function render(view) {
  const params = hashParams();
  const receive = Number(params.get("receive"));
  if (receive > 0 && ["assistant", "manager", "admin"].includes(role())) return receiveScreen(view, receive);
  activeScanner?.destroy();
  activeScanner = null;
  if (params.has("reports")) return reportsScreen(view);
  if (!isManager()) {
    view.replaceChildren(screen(t("reorder.screen"), h("p", { class: "notice notice-info" }, t("reorder.managers_only"))));
    return;
  }
  if (params.has("suppliers")) return suppliersScreen(view);
  const [groups, orders] = await Promise.all([get(api("/reorder/suggestions")), get(api("/purchase-orders"))]);
  const open = orders.filter((o) => ["draft", "sent", "partly_received"].includes(o.status));
  const notice = carried;
  carried = null;
  const orderList = h("ul", { class: "list", id: "orders" }, ...open.map(orderCard));
  if (!open.length) orderList.append(h("li", { class: "empty" }, t("reorder.orders_none")));
  view.replaceChildren(screen(t("reorder.screen"),
    notice,
    h("div", { class: "row", id: "reorder-links" },
      h("a", { href: "#/reorder?suppliers=1", class: "btn btn-small" }, t("reorder.suppliers")),
      h("a", { href: "#/reorder?reports=1", class: "btn btn-small" }, t("reorder.reports"))),
    h("h2", {}, t("reorder.suggestions")),
    groups.length ? suggestionsForm(groups) : h("p", { class: "muted", id: "reorder-form" }, t("reorder.nothing_to_order")),
    h("h2", {}, t("reorder.orders")),
    orderList));
}
