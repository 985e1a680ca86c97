// Item and lot detail with their history: #/lot?id=<lot id> or #/lot?item=<item id>.
import { get } from "/js/api.js";
import { formatDateTime, formatNumber, has, t } from "/js/i18n.js";
import { role } from "/js/state.js";
import {
  actionSheet, answerFromLot, api, expiryText, formatDay, hashParams, movementText, statusBadge,
} from "/js/stock-actions.js";
import { h, screen } from "/js/ui.js";

function reasonText(row) {
  if (!row.reason) return "";
  if (row.kind === "waste" && has(`waste.${row.reason}`)) return t(`waste.${row.reason}`);
  if (row.kind === "adjust" && has(`adjust.${row.reason}`)) return t(`adjust.${row.reason}`);
  return row.reason;
}

function historyItem(row, { showLot }) {
  const sign = row.quantity > 0 ? "+" : row.quantity < 0 ? "−" : "";
  const details = [row.location_name, reasonText(row), row.reference, row.note].filter(Boolean).join(" · ");
  return h("li", { class: "list-item history-item", dataset: { kind: row.kind, movementId: row.id } },
    h("div", { class: "row-between" },
      h("strong", {}, movementText(row.kind)),
      h("span", { class: `history-qty ${row.quantity < 0 ? "qty-out" : "qty-in"}` }, `${sign}${formatNumber(Math.abs(row.quantity))}`)),
    showLot && h("a", { href: `#/lot?id=${row.lot_id}`, class: "mono" }, t("stock.lot_n", { lot: row.lot_number })),
    details && h("span", {}, details),
    h("span", { class: "muted" }, `${formatDateTime(row.at)} · ${t("logs.who")} ${row.actor_name || row.actor}`));
}

function historyList(rows, opts) {
  const list = h("ol", { class: "list history", id: "history" }, ...rows.map((r) => historyItem(r, opts)));
  if (!rows.length) list.append(h("li", { class: "empty" }, t("lot.no_history")));
  return list;
}

let carried = null;

async function lotScreen(view, lotId, rerender) {
  const detail = await get(api(`/stock/lots/${lotId}`));
  const lot = detail.lot;
  const here = detail.levels.filter((l) => l.on_hand > 0);
  const total = here.reduce((n, l) => n + l.on_hand, 0);
  const facts = h("div", { class: "card stack lot-facts" },
    h("p", { class: "sheet-lot" }, h("span", { class: "mono" }, t("stock.lot_n", { lot: lot.lot_number })), " ",
      statusBadge(lot.status, lot.expiry)),
    h("p", {}, expiryText(lot.expiry)),
    lot.serial && h("p", { class: "mono" }, t("lot.serial_n", { serial: lot.serial })),
    h("h2", {}, t("lot.where")),
    here.length ? h("ul", { class: "levels", id: "lot-levels" }, ...here.map((l) => h("li", { dataset: { location: l.location_id } },
      h("span", {}, l.location_name), h("strong", {}, t("act.on_hand_n", { n: l.on_hand })))))
      : h("p", { class: "muted", id: "lot-levels" }, t("act.none_here")),
    here.length > 1 && h("p", { class: "muted" }, t("stock.total_n", { n: total })),
    h("a", { href: `#/lot?item=${lot.item_id}`, class: "link-more" }, t("lot.all_lots", { name: detail.item_name })));
  let sheet = null;
  const children = [facts];
  if (carried?.lotId === lotId) children.unshift(carried.notice);
  carried = null;
  if (role() !== "inspector") {
    // After a write the screen is drawn again with fresh numbers, the server's answer on top.
    sheet = actionSheet(answerFromLot(detail), { refresh: async (notice) => { carried = { lotId, notice }; rerender(); } });
    sheet.node.querySelector(".sheet-head")?.remove(); // the facts above already say it
    children.push(h("section", { class: "card lot-actions", "aria-label": t("act.what_now") }, sheet.node));
  }
  children.push(h("h2", {}, t("lot.history")), historyList(detail.history, { showLot: false }));
  view.replaceChildren(screen(detail.item_name, ...children));
  return { destroy: () => sheet?.destroy() };
}

async function itemScreen(view, itemId) {
  const [item, rows, page] = await Promise.all([
    get(api(`/items/${itemId}`)),
    get(api(`/stock?item_id=${itemId}`)),
    get(api(`/journal?item_id=${itemId}&limit=30`)),
  ]);
  const total = rows.reduce((n, r) => n + r.on_hand, 0);
  const low = item.reorder_point > 0 && total <= item.reorder_point;
  const facts = h("dl", { class: "facts" },
    h("dt", {}, t("item.kind")), h("dd", {}, t(`item.kind.${item.kind}`)),
    h("dt", {}, t("item.storage")), h("dd", {}, t(`item.storage.${item.storage}`)),
    item.din && h("dt", {}, "DIN"), item.din && h("dd", { class: "mono" }, item.din),
    h("dt", {}, t("item.on_hand")), h("dd", {}, h("strong", { id: "item-total" }, `${formatNumber(total)} ${item.unit}`)),
    item.par_level > 0 && h("dt", {}, t("item.par")), item.par_level > 0 && h("dd", {}, formatNumber(item.par_level)));
  const lots = h("ul", { class: "list", id: "item-lots" }, ...rows.map((r) => h("li", { class: "list-item", dataset: { lotId: r.lot_id } },
    h("a", { href: `#/lot?id=${r.lot_id}`, class: "row-between stock-lot-link" },
      h("span", { class: "stock-lot-main" }, h("span", { class: "mono" }, t("stock.lot_n", { lot: r.lot_number })),
        h("span", {}, r.expiry ? formatDay(r.expiry) : t("stock.no_expiry")), h("span", { class: "muted" }, r.location_name)),
      h("span", { class: "stock-lot-side" }, h("strong", {}, formatNumber(r.on_hand)),
        r.status !== "available" ? statusBadge(r.status, r.expiry) : null)))));
  if (!rows.length) lots.append(h("li", { class: "empty" }, t("item.none_on_hand")));
  const history = historyList(page.items, { showLot: true });
  let before = page.next_before;
  const more = h("button", { type: "button", class: "btn btn-block", hidden: before === null }, t("logs.more"));
  more.addEventListener("click", async () => {
    const next = await get(api(`/journal?item_id=${itemId}&limit=30&before=${before}`));
    history.append(...next.items.map((r) => historyItem(r, { showLot: true })));
    before = next.next_before;
    more.hidden = before === null;
  });
  view.replaceChildren(screen(item.name,
    h("div", { class: "card" }, facts,
      low && h("p", { class: "notice notice-warn", role: "status" }, t("item.low", { n: item.reorder_point }))),
    h("h2", {}, t("item.lots")), lots,
    h("h2", {}, t("lot.history")), history, more));
}

export async function render(view, { rerender }) {
  const params = hashParams();
  const lotId = Number(params.get("id"));
  const itemId = Number(params.get("item"));
  if (lotId > 0) return lotScreen(view, lotId, rerender);
  if (itemId > 0) return itemScreen(view, itemId);
  view.replaceChildren(screen(t("stock.title"), h("p", { class: "empty" }, t("lot.missing")),
    h("a", { href: "#/stock", class: "btn btn-link" }, t("stock.title"))));
  return null;
}
