// Cleaning records, for inspectors and managers: #/cleaning-records?room=&plan=&from=&to= (local
// days at the site). On-time figures per room, plan and week; the cleanings with skipped items and
// reasons, CSV and PDF of the same filter; audits, which managers also record here. A corrected log
// stays listed, marked and linked to its correction; each log opens to its detail (and correction).
import { get } from "/js/api.js";
import "/js/cleaning-strings.js";
import { formatDateTime, formatNumber, problemText, t } from "/js/i18n.js";
import { api, hashParams, isManager, outcomeNotice, sendWrite, setHashParams } from "/js/stock-actions.js";
import { site } from "/js/state.js";
import { field, h, screen } from "/js/ui.js";
import { correctionLinks } from "/js/views/cleaning-log.js";

const METHODS = ["visual", "fluorescent", "atp"];

/** "YYYY-MM-DD" of a moment at the site. */
function localDay(date) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: site()?.timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
  } catch {
    return date.toISOString().slice(0, 10);
  }
}

function query(filter, extra = {}) {
  const params = new URLSearchParams();
  if (filter.room) params.set("room_id", filter.room);
  if (filter.plan) params.set("plan_id", filter.plan);
  if (filter.from) params.set("from_date", filter.from);
  if (filter.to) params.set("to_date", filter.to);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params.toString();
}

function options(list, allLabel, selected) {
  return [h("option", { value: "" }, allLabel),
    ...list.map(([value, label]) => h("option", { value, selected: String(value) === String(selected) }, label))];
}

function complianceList(rows) {
  if (!rows.length) return h("p", { class: "empty" }, t("clean.compliance_none"));
  return h("ul", { class: "list", id: "clean-compliance" }, ...rows.map((r) =>
    h("li", { class: "list-item", dataset: { plan: r.plan_id, week: r.week } },
      h("strong", {}, t("clean.compliance_row", { room: r.room_name, plan: r.plan_name, week: r.week })),
      h("span", { class: r.missed ? "notice notice-warn" : "muted" }, t("clean.compliance_nums", {
        on_time: r.on_time, expected: r.expected, pct: formatNumber(r.on_time_percent ?? 0), late: r.late, missed: r.missed,
      })))));
}

function logItem(log) {
  const product = log.product ? (log.din ? t("clean.product_din", { product: log.product, din: log.din }) : log.product) : "";
  const cls = `list-item clean-log${log.corrected_by ? " clean-log-corrected" : ""}`;
  return h("li", { class: cls, dataset: { log: log.id } },
    h("div", { class: "row-between" },
      h("a", { href: `#/cleaning-log?id=${log.id}`, class: "clean-log-open" }, h("strong", {}, `${log.room_name}: ${log.plan_name}`)),
      h("span", { class: "muted" }, formatDateTime(log.ended_at))),
    ...correctionLinks(log),
    h("span", { class: "muted" }, `${t("logs.who")} ${log.actor_name || log.actor}${product ? ` · ${product}` : ""}`),
    h("span", {}, t("clean.log_items", { done: log.items_done, skipped: log.items_skipped })),
    ...log.items.filter((i) => !i.done).map((i) =>
      h("span", { class: "notice notice-warn" }, t("clean.skipped_item", { text: i.text, reason: i.skip_reason }))),
    log.note && h("span", { class: "muted" }, log.note));
}

function auditItem(a) {
  return h("li", { class: "list-item clean-audit", dataset: { audit: a.id, passed: String(a.passed) } },
    h("div", { class: "row-between" }, h("strong", {}, `${a.room_name}: ${t(`clean.method.${a.method}`)}`),
      h("span", { class: a.passed ? "badge badge-done" : "badge badge-alert" }, a.passed ? t("clean.pass") : t("clean.fail"))),
    h("span", { class: "muted" }, `${formatDateTime(a.audited_at)} · ${t("logs.who")} ${a.actor_name || a.actor}`
      + (a.score !== null ? ` · ${formatNumber(a.score)}` : "")),
    a.comments && h("span", {}, a.comments));
}

function auditForm(rooms, plans, onSaved) {
  const room = h("select", { name: "room_id", required: true }, ...rooms.map(([id, name]) => h("option", { value: id }, name)));
  const plan = h("select", { name: "plan_id" });
  const fillPlans = () => plan.replaceChildren(h("option", { value: "" }, t("clean.no_plan")),
    ...plans.filter((p) => String(p.room_id) === room.value).map((p) => h("option", { value: p.id }, p.name)));
  room.addEventListener("change", fillPlans);
  fillPlans();
  const method = h("select", { name: "method" }, ...METHODS.map((m) => h("option", { value: m }, t(`clean.method.${m}`))));
  const result = h("select", { name: "passed" }, h("option", { value: "true" }, t("clean.pass")), h("option", { value: "false" }, t("clean.fail")));
  const score = h("input", { name: "score", type: "number", min: 0, max: 100000, inputmode: "numeric" });
  const comments = h("textarea", { name: "comments", rows: 2, maxlength: 1000 });
  const status = h("div", { class: "audit-outcome" });
  const form = h("form", { class: "stack card", id: "clean-audit-form" },
    h("h2", {}, t("clean.audit_add")),
    field(t("clean.filter_room"), room), field(t("clean.filter_plan"), plan), field(t("clean.audit_method"), method),
    field(t("clean.audit_result"), result), field(t("clean.score"), score), field(t("clean.comments"), comments), status,
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("clean.audit_add")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { room_id: Number(room.value), method: method.value, passed: result.value === "true",
      audited_at: new Date().toISOString(), comments: comments.value.trim() };
    if (plan.value) body.plan_id = Number(plan.value);
    if (score.value !== "") body.score = Number(score.value);
    const outcome = await sendWrite({ method: "POST", url: api("/cleaning/audits"), body, label: t("clean.audit_add") });
    status.replaceChildren(outcomeNotice(outcome, t("clean.audit_saved")));
    if (outcome.status === "sent") { form.reset(); fillPlans(); onSaved(); }
  });
  return form;
}

export async function render(view) {
  const params = hashParams();
  const today = new Date();
  const filter = {
    room: params.get("room") || "", plan: params.get("plan") || "",
    from: params.get("from") || localDay(new Date(today.getTime() - 27 * 86_400_000)), to: params.get("to") || localDay(today),
  };
  const [places, plans] = await Promise.all([get(api("/locations")), get(api("/cleaning/plans?include_inactive=true"))]);
  const rooms = places.filter((p) => p.kind === "room").map((p) => [p.id, p.name]);
  const room = h("select", { name: "room" }, ...options(rooms, t("clean.all_rooms"), filter.room));
  const plan = h("select", { name: "plan" });
  const fillPlans = () => plan.replaceChildren(...options(
    plans.filter((p) => !room.value || String(p.room_id) === room.value).map((p) => [p.id, `${p.room_name}: ${p.name}`]),
    t("clean.all_plans"), filter.plan));
  room.addEventListener("change", () => { filter.plan = ""; fillPlans(); });
  fillPlans();
  const from = h("input", { name: "from", type: "date", value: filter.from });
  const to = h("input", { name: "to", type: "date", value: filter.to });
  const csv = h("a", { class: "btn", id: "clean-csv", download: true }, t("clean.download_csv"));
  const pdf = h("a", { class: "btn", id: "clean-pdf", download: true }, t("clean.download_pdf"));
  const compliance = h("div", { id: "clean-compliance-host" });
  const logs = h("ul", { class: "list", id: "clean-logs" });
  const more = h("button", { type: "button", class: "btn btn-block", hidden: true }, t("logs.more"));
  const audits = h("div", { id: "clean-audits-host" });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  let cursor = null;

  async function loadLogs() {
    const page = await get(api(`/cleaning/logs?${query(filter, cursor ? { cursor } : {})}`));
    logs.append(...page.logs.map(logItem));
    if (!logs.children.length) logs.append(h("li", { class: "empty" }, t("clean.logs_none")));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  }

  async function loadAudits() {
    const list = await get(api(`/cleaning/audits?${query(filter)}`));
    audits.replaceChildren(list.length ? h("ul", { class: "list", id: "clean-audits" }, ...list.map(auditItem))
      : h("p", { class: "empty" }, t("clean.audits_none")));
  }

  async function load() {
    error.hidden = true;
    csv.href = api(`/cleaning/logs/export.csv?${query(filter)}`);
    pdf.href = api(`/cleaning/logs/export.pdf?${query(filter)}`);
    cursor = null;
    logs.replaceChildren();
    try {
      compliance.replaceChildren(complianceList(await get(api(`/cleaning/compliance?${query(filter)}`))));
      await Promise.all([loadLogs(), loadAudits()]);
    } catch (err) {
      error.textContent = problemText(err.problem);
      error.hidden = false;
    }
  }

  const form = h("form", { class: "stack card", id: "clean-filter" },
    field(t("clean.filter_room"), room), field(t("clean.filter_plan"), plan),
    h("div", { class: "row" }, field(t("clean.from"), from), field(t("clean.to"), to)), error,
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("clean.show")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    Object.assign(filter, { room: room.value, plan: plan.value, from: from.value, to: to.value });
    setHashParams("cleaning-records", filter);
    load();
  });
  more.addEventListener("click", loadLogs);
  await load();
  view.replaceChildren(screen(t("clean.records"), form, h("div", { class: "row" }, csv, pdf),
    h("h2", {}, t("clean.compliance")), compliance,
    h("h2", {}, t("clean.logs")), logs, more,
    h("h2", {}, t("clean.audits")), audits,
    isManager() && rooms.length ? auditForm(rooms, plans, loadAudits) : null));
}
