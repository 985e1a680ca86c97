// What is waiting to send, and the writes the server refused: fix or discard, never lost silently.
import { formatDateTime, problemText, t } from "/js/i18n.js";
import * as outbox from "/js/outbox.js";
import { confirmDialog, h, screen } from "/js/ui.js";

export async function render(view) {
  const list = h("ul", { class: "list", id: "outbox-items" });
  async function refresh() {
    const { items } = await outbox.summary();
    list.replaceChildren(...items.map((item) => h("li", { class: "list-item" },
      h("div", { class: "row-between" }, h("strong", {}, item.label),
        h("span", { class: `badge ${item.status === "rejected" ? "badge-alert" : ""}` },
          item.status === "rejected" ? t("outbox.failed") : t("outbox.pending"))),
      h("span", { class: "muted" }, formatDateTime(item.created)),
      item.error && h("p", { class: "error" }, problemText(item.error)),
      h("div", { class: "row" },
        item.status === "rejected" && h("button", { type: "button", class: "btn btn-small",
          onclick: () => outbox.retry(item.id) }, t("outbox.retry")),
        h("button", { type: "button", class: "btn btn-small", onclick: async () => {
          if (await confirmDialog(t("outbox.discard_confirm"))) await outbox.discard(item.id);
        } }, t("outbox.discard"))))));
    if (!items.length) list.append(h("li", { class: "empty" }, t("outbox.empty")));
  }
  const stop = outbox.onChange(refresh);
  await refresh();
  view.replaceChildren(screen(t("outbox.title"), list));
  return { destroy: stop };
}
