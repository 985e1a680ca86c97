// The inspector's sterilization records (read-only for everyone): by sterilizer and local days, what
// today's log is missing, the loads with their indicators, CSV and PDF of the same filter (laid out
// like the PHO log, with the audit-chain range), and the failures with their reports.
import { get } from "/js/api.js";
import "/js/reprocessing-strings.js";
import { formatDateTime, t } from "/js/i18n.js";
import { site } from "/js/state.js";
import { api, hashParams, isManager, outcomeNotice, sendWrite, setHashParams } from "/js/stock-actions.js";
import { field, h, screen } from "/js/ui.js";

/** "YYYY-MM-DD" of a moment at the site (its time zone, not the phone's). */
function isoDay(date) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: site()?.timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
  } catch {
    return date.toISOString().slice(0, 10);
  }
}

const yn = (v) => (v === null ? "—" : v ? t("rp.yes") : t("rp.no"));

/** One load of the log: its indicators, the corrections of its results (before → after, why, shown on
 * demand) and, for a manager, the form to correct them (the load rules run again on the server). */
function loadRow(l, rerender) {
  const item = h("li", { class: "list-item rp-log-load", dataset: { id: l.id, status: l.status } },
    h("div", { class: "row-between" }, h("strong", {}, t("rp.load_title", { n: l.load_number, sterilizer: l.sterilizer_name })),
      h("span", { class: l.status === "failed" ? "badge badge-alert" : "badge" }, t(`rp.load.${l.status}`))),
    h("span", { class: "muted" }, `${formatDateTime(l.started_at)} · ${l.cycle_type} · ${l.purpose === "bi_test" ? t("rp.bi_test_short")
      : t("rp.packs", { n: l.pack_count })}`),
    h("span", {}, t("rp.indicators", { met: yn(l.physical_met), ext: l.external_ci || "—", int: l.internal_ci || "—",
      bi: l.bi_result || "—" })));
  if (l.corrections) {
    const list = h("ul", { class: "rp-corrections" });
    const box = h("details", { class: "rp-corrected" }, h("summary", {}, t("rp.corrected", { n: l.corrections })), list);
    box.addEventListener("toggle", async () => {
      if (!box.open || list.childElementCount) return;
      const detail = await get(api(`/reprocessing/loads/${l.id}`));
      list.append(...detail.corrections.map((c) => h("li", { class: "rp-correction" },
        h("div", { class: "muted" }, `${formatDateTime(c.at)} · ${c.actor_name}`),
        h("div", {}, Object.keys(c.after).filter((k) => c.before[k] !== c.after[k])
          .map((k) => `${t(`rp.field.${k}`)}: ${show(k, c.before[k])} → ${show(k, c.after[k])}`).join("; ")),
        h("div", {}, t("rp.reason_was", { reason: c.reason })))));
    });
    item.append(box);
  }
  if (isManager() && l.physical_met !== null) item.append(correctForm(l, rerender));
  return item;
}

function show(key, value) {
  if (value === true) return t("rp.yes");
  if (value === false) return t("rp.no");
  if (!value) return "—";
  if (key === "bi_result") return t(`rp.bi.${value}`);
  return key.endsWith("_ci") ? t(`rp.ci.${value}`) : value;
}

function correctForm(l, rerender) {
  const choose = (name, options, selected) => h("select", { name },
    ...options.map(([value, label]) => h("option", { value, selected: value === selected }, label)));
  const passFail = [["pass", t("rp.ci.pass")], ["fail", t("rp.ci.fail")]];
  const met = choose("physical_met", [["yes", t("rp.yes")], ["no", t("rp.no")]], l.physical_met ? "yes" : "no");
  const ext = choose("external_ci", passFail, l.external_ci);
  const int = choose("internal_ci", passFail, l.internal_ci);
  const lot = h("input", { name: "bi_lot", maxlength: 40, autocomplete: "off", value: l.bi_lot });
  const bi = choose("bi_result", [["", "—"], ["pending", t("rp.bi.pending")], ["negative", t("rp.bi.negative")],
    ["positive", t("rp.bi.positive")]], l.bi_result);
  const reason = h("textarea", { name: "reason", rows: 2, maxlength: 1000, required: true, minlength: 3 });
  const notices = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("rp.correct_save"));
  const form = h("form", { class: "stack rp-correct-load" }, h("p", { class: "muted" }, t("rp.correct_help")),
    field(t("rp.physical"), met), field(t("rp.external_ci"), ext), field(t("rp.internal_ci"), int),
    field(t("rp.bi_lot"), lot), field(t("rp.bi_read"), bi), field(t("rp.reason"), reason), button, notices);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    const body = { physical_met: met.value === "yes", external_ci: ext.value, internal_ci: int.value,
      bi_lot: lot.value.trim(), reason: reason.value.trim() };
    if (bi.value) body.bi_result = bi.value;
    const outcome = await sendWrite({ method: "POST", url: api(`/reprocessing/loads/${l.id}/correct`), body,
      label: t("rp.records") });
    notices.replaceChildren(outcomeNotice(outcome, t("rp.saved")));
    if (outcome.status === "rejected") button.disabled = false;
    else if (outcome.status === "sent") rerender?.();
  });
  return h("details", { class: "rp-correct" }, h("summary", {}, t("rp.correct_results")), form);
}

/** A manager's steps on an open failure: the call to the public health unit, then the written report. */
function failureActions(f) {
  const notices = h("div", { "aria-live": "polite" });
  async function send(path, body, button) {
    button.disabled = true;
    const outcome = await sendWrite({ method: "POST", url: api(path), body, label: t("rp.failures") });
    notices.dataset.step = path.endsWith("/close") ? "close" : "phu";
    notices.replaceChildren(outcomeNotice(outcome, t("rp.saved")));
    if (outcome.status === "rejected") button.disabled = false;
  }
  const box = h("div", { class: "stack rp-failure-actions", dataset: { id: f.id } }, notices);
  if (!f.phu_notified_at) {
    const contact = h("input", { name: "contact", maxlength: 500, autocomplete: "off" });
    const button = h("button", { type: "submit", class: "btn btn-small" }, t("rp.phu_save"));
    const form = h("form", { class: "stack rp-phu" }, field(t("rp.phu_contact"), contact), button);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      send(`/reprocessing/failures/${f.id}/phu`, { contact: contact.value.trim() }, button);
    });
    box.append(form);
  }
  const report = h("textarea", { name: "report", rows: 3, maxlength: 5000 });
  const close = h("button", { type: "submit", class: "btn btn-small" }, t("rp.close_failure"));
  const form = h("form", { class: "stack rp-close" }, field(t("rp.report_text"), report), close);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    send(`/reprocessing/failures/${f.id}/close`, { report: report.value.trim() }, close);
  });
  box.append(form);
  return box;
}

export async function render(view, { rerender } = {}) {
  const params = hashParams();
  const today = isoDay(new Date());
  const from = params.get("from") || isoDay(new Date(Date.now() - 30 * 86_400_000));
  const to = params.get("to") || today;
  const sterilizerId = params.get("sterilizer") || "";
  const query = new URLSearchParams({ from_date: from, to_date: to });
  if (sterilizerId) query.set("sterilizer_id", sterilizerId);
  const [sterilizers, loads, missing, failures] = await Promise.all([
    get(api("/reprocessing/sterilizers")), get(api(`/reprocessing/loads?${query}`)),
    get(api(`/reprocessing/missing?day=${today}`)), get(api("/reprocessing/failures"))]);

  const choose = h("select", { name: "sterilizer" }, h("option", { value: "" }, t("rp.all")),
    ...sterilizers.map((s) => h("option", { value: String(s.id), selected: String(s.id) === sterilizerId }, s.name)));
  const fromIn = h("input", { type: "date", name: "from", value: from });
  const toIn = h("input", { type: "date", name: "to", value: to });
  const filter = h("form", { class: "card stack", id: "rp-filter" }, field(t("rp.sterilizer"), choose),
    field(t("rp.from"), fromIn), field(t("rp.to"), toIn),
    h("button", { type: "submit", class: "btn btn-block" }, t("rp.show")));
  filter.addEventListener("submit", (e) => {
    e.preventDefault();
    setHashParams("sterilization", { sterilizer: choose.value, from: fromIn.value, to: toIn.value });
    rerender?.();
  });

  const gaps = missing.items.length
    ? h("ul", { class: "list", id: "rp-missing" }, ...missing.items.map((m) => h("li", { class: "list-item", dataset: { code: m.code } },
      h("strong", {}, m.sterilizer_name), h("span", {}, m.message))))
    : h("p", { class: "notice notice-ok", id: "rp-missing-none" }, t("rp.nothing_missing"));

  const rows = h("ul", { class: "list", id: "rp-log" });
  const more = h("button", { type: "button", class: "btn btn-block", id: "rp-more", hidden: true }, t("rp.more"));
  function addLoads(page) {
    rows.append(...page.loads.map((l) => loadRow(l, rerender)));
    more.hidden = !page.next_cursor;
    more.onclick = async () => {
      more.disabled = true;
      addLoads(await get(api(`/reprocessing/loads?${query}&cursor=${encodeURIComponent(page.next_cursor)}`)));
      more.disabled = false;
    };
  }
  addLoads(loads);
  const logList = loads.loads.length ? h("div", {}, rows, more) : h("p", { class: "empty" }, t("rp.no_log"));

  const failureList = failures.length
    ? h("ul", { class: "list", id: "rp-failures" }, ...failures.map((f) => h("li", { class: "list-item" },
      h("div", { class: "row-between" }, h("strong", {}, t(`rp.failure.${f.kind}`)),
        h("span", { class: f.closed_at ? "badge" : "badge badge-alert" }, f.closed_at ? t("rp.closed") : t("rp.open_failure"))),
      h("span", { class: "muted" }, formatDateTime(f.opened_at)),
      h("a", { class: "link-more", target: "_blank", rel: "noopener", href: api(`/reprocessing/failures/${f.id}/report.pdf`) },
        t("rp.report")), isManager() && !f.closed_at ? failureActions(f) : null)))
    : h("p", { class: "empty" }, t("rp.no_failures"));

  view.replaceChildren(screen(t("rp.records"),
    h("a", { href: "#/rp-records", class: "btn btn-block btn-link", id: "open-rp-records" }, t("rp.other_records")), filter,
    h("h2", {}, t("rp.missing_today")), gaps,
    h("h2", {}, t("rp.log")),
    h("div", { class: "row-between" },
      h("a", { class: "btn btn-small", id: "rp-csv", href: api(`/reprocessing/loads/export.csv?${query}`) }, "CSV"),
      h("a", { class: "btn btn-small", id: "rp-pdf", target: "_blank", rel: "noopener", href: api(`/reprocessing/loads/export.pdf?${query}`) }, "PDF")),
    logList, h("h2", {}, t("rp.failures")), failureList));
  return {};
}
