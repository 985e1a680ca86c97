// Inspector's view: is the record intact, and what was written, newest pages on demand.
import { get } from "/js/api.js";
import { formatDateTime, has, t } from "/js/i18n.js";
import { state } from "/js/state.js";
import { h, screen } from "/js/ui.js";

function actionText(action) {
  return has(`action.${action}`) ? t(`action.${action}`) : action;
}

export async function render(view) {
  const site = state.siteId;
  const status = await get(`/api/sites/${site}/audit/status`);
  const banner = status.ok
    ? h("p", { class: "notice notice-ok", id: "record-status" }, t("logs.record_ok", { n: status.events }))
    : h("p", { class: "notice notice-alert", id: "record-status", role: "alert" },
      t("logs.record_broken", { seq: status.first_broken_seq, reason: status.reason }));
  const list = h("ol", { class: "list", id: "audit-events" });
  const more = h("button", { type: "button", class: "btn btn-block", hidden: true }, t("logs.more"));
  let after = 0;

  async function load() {
    const page = await get(`/api/sites/${site}/audit/events?after=${after}&limit=50`);
    for (const e of page.items) {
      list.append(h("li", { class: "list-item" },
        h("div", { class: "row-between" }, h("strong", {}, actionText(e.action)),
          h("span", { class: "muted" }, `#${e.seq}`)),
        h("div", { class: "muted" }, formatDateTime(e.at), " · ", t("logs.who"), " ", e.actor_name || e.actor)));
    }
    if (!list.children.length) list.append(h("li", { class: "empty" }, t("logs.none")));
    after = page.next_after ?? after;
    more.hidden = page.next_after === null;
  }
  more.addEventListener("click", load);
  await load();
  view.replaceChildren(screen(t("logs.title"), banner, list, more));
}
