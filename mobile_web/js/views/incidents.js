// Cold chain incidents. #/incidents: newest first. #/incidents?id=<id>: the steps in order (call the
// public health unit, send the logs, decide for each lot, close with a summary). Managers act
// (online, exactly once); everyone else at the site reads.
import { get, writeNow } from "/js/api.js";
import "/js/coldchain-strings.js";
import { formatDateTime, formatNumber, problemText, t } from "/js/i18n.js";
import { api, formatDay, hashParams, isManager } from "/js/stock-actions.js";
import { confirmDialog, field, h, screen, toast } from "/js/ui.js";

const deg = (v) => formatNumber(v, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

function badge(status) {
  return h("span", { class: status === "open" ? "badge badge-alert" : "badge badge-done", dataset: { status } }, t(`cc.status.${status}`));
}

async function act(path, body, rerender) {
  try {
    await writeNow("POST", api(path), body);
    toast(t("cc.saved"));
    rerender();
  } catch (err) {
    toast(problemText(err.problem), { error: true });
  }
}

function phuStep(inc, rerender) {
  const parts = [h("h2", {}, t("cc.step_phu"))];
  if (inc.phu_notified_at) {
    parts.push(h("p", { id: "cc-phu-done" }, t("cc.phu_done", { time: formatDateTime(inc.phu_notified_at), who: inc.phu_notified_by, contact: inc.phu_contact })));
  } else if (isManager() && inc.status === "open") {
    const contact = h("input", { name: "contact", maxlength: "500", required: true, autocomplete: "off" });
    const form = h("form", { class: "stack", id: "cc-phu" }, field(t("cc.phu_contact"), contact),
      h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("cc.phu_save")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (contact.value.trim()) act(`/coldchain/incidents/${inc.id}/phu-notified`, { contact: contact.value.trim() }, rerender);
    });
    parts.push(form);
  }
  return h("section", { class: "card" }, ...parts);
}

function logsStep(inc, rerender) {
  const parts = [h("h2", {}, t("cc.step_logs")),
    h("p", {}, h("a", { href: api(`/coldchain/incidents/${inc.id}/report.pdf`), class: "link-more", download: "" }, t("cc.report")))];
  if (inc.logs_sent_at) parts.push(h("p", {}, t("cc.logs_done", { time: formatDateTime(inc.logs_sent_at), who: inc.logs_sent_by })));
  else if (isManager() && inc.status === "open") {
    parts.push(h("button", { type: "button", class: "btn btn-block", id: "cc-logs",
      onclick: () => act(`/coldchain/incidents/${inc.id}/logs-sent`, {}, rerender) }, t("cc.logs_save")));
  }
  return h("section", { class: "card" }, ...parts);
}

function lotRow(inc, lot, rerender) {
  const line = t("cc.lot_line", { lot: lot.lot_number, expiry: lot.expiry ? formatDay(lot.expiry) : "–", qty: lot.quantity, vials: lot.opened_vials });
  const row = h("li", { class: "list-item cc-lot", dataset: { lot: lot.lot_id, decision: lot.decision || "waiting" } },
    h("strong", {}, lot.item_name), h("span", {}, line),
    h("span", { class: lot.decision ? "badge badge-done" : "badge badge-alert" }, t(`cc.decision.${lot.decision || "waiting"}`)));
  if (!lot.decision && isManager() && inc.status === "open") {
    row.append(h("div", { class: "cc-decide", role: "group", "aria-label": lot.lot_number },
      ...["released", "discarded", "returned"].map((d) => h("button", { type: "button", class: "btn", dataset: { decision: d },
        onclick: async () => {
          if (!(await confirmDialog(t(`cc.confirm.${d}`, { lot: lot.lot_number })))) return;
          act(`/coldchain/incidents/${inc.id}/decisions`, { lot_id: lot.lot_id, decision: d }, rerender);
        } }, t(`cc.decide.${d}`)))));
  }
  return row;
}

function closeStep(inc, rerender) {
  const parts = [h("h2", {}, t("cc.step_close"))];
  if (inc.closed_at) {
    parts.push(h("p", {}, t("cc.closed_by", { time: formatDateTime(inc.closed_at), who: inc.closed_by })), h("p", { id: "cc-summary" }, inc.summary));
  } else if (isManager()) {
    const summary = h("textarea", { name: "summary", maxlength: "4000", required: true });
    const form = h("form", { class: "stack", id: "cc-close" }, field(t("cc.summary"), summary),
      h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("cc.close")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (summary.value.trim()) act(`/coldchain/incidents/${inc.id}/close`, { summary: summary.value.trim() }, rerender);
    });
    parts.push(form);
  }
  return h("section", { class: "card" }, ...parts);
}

async function detail(view, id, rerender) {
  const inc = await get(api(`/coldchain/incidents/${id}`));
  const facts = h("section", { class: "card", id: "cc-facts" },
    h("div", { class: "row-between" }, h("a", { href: `#/fridge?id=${inc.location_id}` }, inc.location_name), badge(inc.status)),
    h("p", {}, t("cc.found", { time: formatDateTime(inc.started_at) })),
    h("p", {}, inc.ended_at ? t("cc.ended", { time: formatDateTime(inc.ended_at) }) : t("cc.not_ended")),
    h("p", {}, t("cc.extremes", { low: deg(inc.lowest), high: deg(inc.highest) })),
    h("p", { class: "muted" }, t("cc.range", { low: deg(inc.low), high: deg(inc.high) })));
  const lots = inc.lots.length
    ? h("ul", { class: "list", id: "cc-lots" }, ...inc.lots.map((lot) => lotRow(inc, lot, rerender)))
    : h("p", { class: "empty" }, t("cc.no_lots"));
  view.replaceChildren(screen(t("cc.incident", { id: inc.id }), facts, phuStep(inc, rerender), logsStep(inc, rerender),
    h("section", { class: "card" }, h("h2", {}, t("cc.step_lots")), lots), closeStep(inc, rerender)));
}

export async function render(view, { rerender }) {
  const id = Number(hashParams().get("id"));
  if (id) return detail(view, id, rerender);
  const incidents = await get(api("/coldchain/incidents"));
  const list = incidents.length
    ? h("ul", { class: "list", id: "cc-incident-list" }, ...incidents.map((inc) => h("li", { class: "list-item", dataset: { id: inc.id, status: inc.status } },
      h("div", { class: "row-between" }, h("a", { href: `#/incidents?id=${inc.id}` }, `${t("cc.incident", { id: inc.id })}: ${inc.location_name}`), badge(inc.status)),
      h("span", { class: "muted" }, t("cc.found", { time: formatDateTime(inc.started_at) })),
      h("span", { class: "muted" }, t("cc.extremes", { low: deg(inc.lowest), high: deg(inc.highest) })))))
    : h("p", { class: "empty" }, t("cc.no_incidents"));
  view.replaceChildren(screen(t("cc.incidents"), list));
  return null;
}
