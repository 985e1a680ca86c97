// The alerts inbox: what needs attention at this site, urgent first. Acknowledging and snoozing go
// through the outbox, so they work offline and land once.
import { get } from "/js/api.js";
import { formatDate, formatDateTime, has, t } from "/js/i18n.js";
import * as outbox from "/js/outbox.js";
import { role, state } from "/js/state.js";
import { field, h, screen, toast } from "/js/ui.js";
import { updateBell } from "/js/alerts-bell.js";

const CACHE_KEY = "clinitrack.alerts";

export function alertText(a) {
  const key = `alerts.rule.${a.rule}`;
  if (!has(key)) return a.title;
  return t(key, { name: a.subject_name, n: a.quantity ?? "", date: a.due ? formatDate(a.due) : "" });
}

/** The comment for an acknowledgement: resolves the text (may be empty), or null when cancelled. */
function askComment(title) {
  return new Promise((resolve) => {
    const input = h("textarea", { name: "comment", maxlength: 1000, rows: 3 });
    const form = h("form", { method: "dialog", class: "stack" }, h("p", { class: "alert-title" }, title),
      field(t("alerts.ack_comment"), input),
      h("div", { class: "row" },
        h("button", { type: "button", class: "btn", onclick: () => done(null) }, t("app.cancel")),
        h("button", { type: "submit", class: "btn btn-primary" }, t("alerts.acknowledge"))));
    const dialog = h("dialog", { class: "dialog", "aria-label": t("alerts.acknowledge") }, form);
    form.addEventListener("submit", (e) => { e.preventDefault(); done(input.value.trim()); });
    function done(value) { dialog.close(); dialog.remove(); resolve(value); }
    dialog.addEventListener("cancel", () => done(null));
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

export async function render(view) {
  const site = state.siteId;
  const base = `/api/sites/${site}/alerts`;
  const canSnooze = ["manager", "admin"].includes(role());
  let showCleared = false;
  const list = h("ul", { class: "list", id: "alerts" });
  const note = h("p", { class: "muted", hidden: true });
  const toggle = h("button", { type: "button", class: "btn btn-link", id: "alerts-toggle" }, t("alerts.show_cleared"));

  function item(a, pending) {
    const who = a.acknowledged_by_name || a.acknowledged_by;
    const acked = a.acknowledged_at
      ? h("p", { class: "muted" }, a.ack_comment ? t("alerts.acknowledged", { who, comment: a.ack_comment })
        : t("alerts.acknowledged_plain", { who })) : null;
    const actions = [];
    if (!a.resolved_at && !pending) {
      if (!a.acknowledged_at) {
        actions.push(h("button", { type: "button", class: "btn btn-primary", onclick: () => acknowledge(a) },
          t("alerts.acknowledge")));
      }
      if (canSnooze) {
        actions.push(h("button", { type: "button", class: "btn", onclick: () => snooze(a, 4) }, t("alerts.snooze")));
        actions.push(h("button", { type: "button", class: "btn", onclick: () => snooze(a, 24) }, t("alerts.snooze_day")));
      }
    }
    return h("li", { class: "list-item card alert-item", dataset: { id: a.id, rule: a.rule, severity: a.severity } },
      h("div", { class: "row-between" },
        h("span", { class: `badge sev-${a.severity}` }, t(`alerts.${a.severity}`)),
        h("span", { class: "muted" }, t("alerts.since", { when: formatDateTime(a.first_seen) }))),
      h("p", { class: "alert-title" }, alertText(a)),
      acked,
      pending ? h("p", { class: "muted" }, t("alerts.pending")) : null,
      actions.length ? h("div", { class: "alert-actions" }, ...actions) : null);
  }

  async function acknowledge(a) {
    const comment = await askComment(alertText(a));
    if (comment === null) return;
    await outbox.enqueue({ method: "POST", url: `${base}/${a.id}/acknowledge`, body: { comment },
      label: `${t("alerts.acknowledge")}: ${alertText(a)}` });
    toast(t("alerts.ack_sent"));
    refresh();
  }

  async function snooze(a, hours) {
    await outbox.enqueue({ method: "POST", url: `${base}/${a.id}/snooze`, body: { hours },
      label: `${t("alerts.snoozed")}: ${alertText(a)}` });
    toast(t("alerts.snoozed"));
    refresh();
  }

  async function refresh() {
    let alerts = null;
    try {
      alerts = await get(`${base}${showCleared ? "?resolved=true" : ""}`);
      if (!showCleared) localStorage.setItem(`${CACHE_KEY}.${site}`, JSON.stringify(alerts));
      note.hidden = true;
    } catch (err) {
      if (!err.isNetwork) throw err;
      alerts = JSON.parse(localStorage.getItem(`${CACHE_KEY}.${site}`) || "[]");
      note.textContent = t("alerts.offline");
      note.hidden = false;
    }
    const waiting = new Set((await outbox.all()).filter((i) => i.url.startsWith(`${base}/`))
      .map((i) => Number(i.url.slice(base.length + 1).split("/")[0])));
    list.replaceChildren(...alerts.map((a) => item(a, waiting.has(a.id))));
    if (!alerts.length) list.append(h("li", { class: "empty" }, showCleared ? t("alerts.cleared") : t("alerts.none")));
    updateBell();
  }

  toggle.addEventListener("click", () => {
    showCleared = !showCleared;
    toggle.textContent = showCleared ? t("alerts.show_open") : t("alerts.show_cleared");
    refresh();
  });
  await refresh();
  const stop = outbox.onChange(() => refresh());
  view.replaceChildren(screen(t("alerts.title"), note, toggle, list));
  return { destroy: () => stop?.() };
}
