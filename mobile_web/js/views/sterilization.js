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

  const rows = loads.length
    ? h("ul", { class: "list", id: "rp-log" }, ...loads.map((l) => h("li", { class: "list-item", dataset: { status: l.status } },
      h("div", { class: "row-between" }, h("strong", {}, t("rp.load_title", { n: l.load_number, sterilizer: l.sterilizer_name })),
        h("span", { class: l.status === "failed" ? "badge badge-alert" : "badge" }, t(`rp.load.${l.status}`))),
      h("span", { class: "muted" }, `${formatDateTime(l.started_at)} · ${l.cycle_type} · ${t("rp.packs", { n: l.pack_count })}`),
      h("span", {}, t("rp.indicators", {
        met: l.physical_met === null ? "—" : l.physical_met ? t("rp.yes") : t("rp.no"),
        ext: l.external_ci || "—", int: l.internal_ci || "—", bi: l.bi_result || "—",
      })))))
    : h("p", { class: "empty" }, t("rp.no_log"));

  const failureList = failures.length
    ? h("ul", { class: "list", id: "rp-failures" }, ...failures.map((f) => h("li", { class: "list-item" },
      h("div", { class: "row-between" }, h("strong", {}, t(`rp.failure.${f.kind}`)),
        h("span", { class: f.closed_at ? "badge" : "badge badge-alert" }, f.closed_at ? t("rp.closed") : t("rp.open_failure"))),
      h("span", { class: "muted" }, formatDateTime(f.opened_at)),
      h("a", { class: "link-more", target: "_blank", rel: "noopener", href: api(`/reprocessing/failures/${f.id}/report.pdf`) },
        t("rp.report")), isManager() && !f.closed_at ? failureActions(f) : null)))
    : h("p", { class: "empty" }, t("rp.no_failures"));

  view.replaceChildren(screen(t("rp.records"), filter,
    h("h2", {}, t("rp.missing_today")), gaps,
    h("h2", {}, t("rp.log")),
    h("div", { class: "row-between" },
      h("a", { class: "btn btn-small", id: "rp-csv", href: api(`/reprocessing/loads/export.csv?${query}`) }, "CSV"),
      h("a", { class: "btn btn-small", id: "rp-pdf", target: "_blank", rel: "noopener", href: api(`/reprocessing/loads/export.pdf?${query}`) }, "PDF")),
    rows, h("h2", {}, t("rp.failures")), failureList));
  return {};
}
