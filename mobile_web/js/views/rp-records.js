// Reprocessing records for the inspector (read-only for them): #/rp-records?kind=steps|hld|log|bd with
// filters by sterilizer, device, status and local days; pages of 50 with "Show more" (the server's
// keyset cursor). Step records made by a person can be corrected by them or a manager: a new entry
// naming the old one, with a reason; the old one stays, marked corrected.
import { get } from "/js/api.js";
import "/js/reprocessing-strings.js";
import { formatDateTime, problemText, t } from "/js/i18n.js";
import { role, site, state } from "/js/state.js";
import { api, hashParams, isManager, outcomeNotice, sendWrite, setHashParams } from "/js/stock-actions.js";
import { field, h, screen } from "/js/ui.js";

const KINDS = {
  steps: { path: "/reprocessing/steps", key: "steps", by: "device" },
  hld: { path: "/reprocessing/hld/log", key: "records", by: "device" },
  log: { path: "/reprocessing/sterilizers/log", key: "entries", by: "sterilizer" },
  bd: { path: "/reprocessing/sterilizers/bowie-dick", key: "tests", by: "sterilizer" },
};
const STATUSES = ["dirty", "cleaned", "inspected", "packaged", "sterilized", "disinfected", "stored", "in_use",
  "quarantined", "out_of_service"];
const CORRECTABLE = ["point_of_use", "clean", "inspect", "package", "disinfect", "store", "use"];

function isoDay(date) {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone: site()?.timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
  } catch {
    return date.toISOString().slice(0, 10);
  }
}

function select(name, options, selected) {
  return h("select", { name }, ...options.map(([value, label]) => h("option", { value, selected: value === selected }, label)));
}

function stepCorrection(s, rerender) {
  const method = s.step === "clean" ? select("method", ["manual", "ultrasonic", "washer"].map((m) => [m, t(`rp.method.${m}`)]), s.method) : null;
  const visit = s.step === "use" ? h("input", { name: "visit_code", maxlength: 64, autocomplete: "off", pattern: "[A-Za-z0-9._\\-]+" }) : null;
  const note = h("input", { name: "note", maxlength: 1000, autocomplete: "off", value: s.note });
  const reason = h("textarea", { name: "reason", rows: 2, maxlength: 1000, minlength: 3, required: true });
  const notices = h("div", { "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("rp.correct_save"));
  const form = h("form", { class: "stack rp-correct-step" }, method ? field(t("rp.method"), method) : null,
    visit ? field(t("rp.visit"), visit) : null, field(t("rp.note"), note), field(t("rp.reason"), reason), button, notices);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    const body = { reason: reason.value.trim() };
    if (method && method.value !== s.method) body.method = method.value;
    if (visit && visit.value.trim()) body.visit_code = visit.value.trim();
    if (note.value.trim() !== s.note) body.note = note.value.trim();
    const outcome = await sendWrite({ method: "POST", url: api(`/reprocessing/steps/${s.id}/correct`), body,
      label: t("rp.other_records") });
    notices.replaceChildren(outcomeNotice(outcome, t("rp.saved")));
    if (outcome.status === "rejected") button.disabled = false;
    else if (outcome.status === "sent") rerender?.();
  });
  return h("details", { class: "rp-correct" }, h("summary", {}, t("rp.correct_record")), form);
}

/** What a step's method field holds depends on the step: how it was cleaned, the inspection's result, the disinfection. */
function methodText(s) {
  if (!s.method) return "";
  const group = { clean: "rp.method", inspect: "rp.result", disinfect: "rp.process" }[s.step];
  return group ? t(`${group}.${s.method}`) : s.method;
}

function stepRow(s, rerender) {
  const item = h("li", { class: `list-item rp-step${s.corrected_by ? " rp-was-corrected" : ""}`, dataset: { id: s.id, step: s.step } },
    h("div", { class: "row-between" }, h("strong", {}, s.device_name), h("span", { class: "badge" }, t(`rp.status.${s.to_status}`))),
    h("span", {}, [t(`rp.step.${s.step}`), methodText(s)].filter(Boolean).join(" · ")),
    h("span", { class: "muted" }, `${formatDateTime(s.at)} · ${s.actor_name}`), s.note ? h("span", {}, s.note) : null);
  if (s.corrects) item.append(h("span", { class: "notice" }, t("rp.corrects", { id: s.corrects, reason: s.reason })));
  if (s.corrected_by) item.append(h("span", { class: "notice notice-alert" }, t("rp.corrected_by", { id: s.corrected_by })));
  const mayCorrect = role() !== "inspector" && !s.corrected_by && CORRECTABLE.includes(s.step);
  // The server decides too (the person who recorded it, or a manager); this only hides what would be refused.
  if (mayCorrect && (isManager() || s.actor === `user:${state.me?.user_id}`)) item.append(stepCorrection(s, rerender));
  return item;
}

const ROWS = {
  steps: stepRow,
  hld: (r) => h("li", { class: "list-item rp-hld" }, h("strong", {}, r.device_name),
    h("span", {}, t("rp.hld_line", { product: r.product, lot: r.lot, soak: r.soak_minutes, temp: r.temperature_c })),
    h("span", {}, t("rp.mec_line", { result: r.mec_passed ? t("rp.ci.pass") : t("rp.ci.fail"), strip: r.strip_lot, expiry: r.strip_expires_on })),
    h("span", { class: "muted" }, `${formatDateTime(r.at)} · ${r.operator}`)),
  log: (e) => h("li", { class: "list-item rp-logbook" }, h("div", { class: "row-between" }, h("strong", {}, e.sterilizer_name),
    h("span", { class: "badge" }, t(`rp.logkind.${e.kind}`))), h("span", {}, e.note),
    h("span", { class: "muted" }, `${formatDateTime(e.at)} · ${e.actor_name}`)),
  bd: (b, _, names) => h("li", { class: "list-item rp-bd-test" }, h("div", { class: "row-between" }, h("strong", {}, names[b.sterilizer_id] || ""),
    h("span", { class: b.passed ? "badge" : "badge badge-alert" }, b.passed ? t("rp.bd.pass") : t("rp.bd.fail"))),
    h("span", { class: "muted" }, `${formatDateTime(b.at)} · ${b.initials} · ${b.actor_name}`)),
};

export async function render(view, { rerender } = {}) {
  const params = hashParams();
  const kind = KINDS[params.get("kind")] ? params.get("kind") : "steps";
  const spec = KINDS[kind];
  const from = params.get("from") || isoDay(new Date(Date.now() - 30 * 86_400_000));
  const to = params.get("to") || isoDay(new Date());
  const by = params.get("by") || "";
  const status = params.get("status") || "";
  const [sterilizers, devices] = await Promise.all([get(api("/reprocessing/sterilizers")), get(api("/reprocessing/devices"))]);
  const names = Object.fromEntries(sterilizers.map((s) => [s.id, s.name]));

  const kindIn = select("kind", Object.keys(KINDS).map((k) => [k, t(`rp.records.${k}`)]), kind);
  const things = spec.by === "device" ? devices : sterilizers;
  const byIn = select("by", [["", spec.by === "device" ? t("rp.all_devices") : t("rp.all")],
    ...things.map((x) => [String(x.id), x.name])], by);
  const statusOptions = kind === "steps" ? [["", t("rp.any_status")], ...STATUSES.map((x) => [x, t(`rp.status.${x}`)])]
    : kind === "bd" ? [["", t("rp.any_status")], ["true", t("rp.bd.pass")], ["false", t("rp.bd.fail")]] : null;
  const statusIn = statusOptions ? select("status", statusOptions, status) : null;
  const fromIn = h("input", { type: "date", name: "from", value: from });
  const toIn = h("input", { type: "date", name: "to", value: to });
  const filter = h("form", { class: "card stack", id: "rp-records-filter" }, field(t("rp.records.kind"), kindIn),
    field(spec.by === "device" ? t("rp.device") : t("rp.sterilizer"), byIn), statusIn ? field(t("rp.status"), statusIn) : null,
    field(t("rp.from"), fromIn), field(t("rp.to"), toIn), h("button", { type: "submit", class: "btn btn-block" }, t("rp.show")));
  kindIn.addEventListener("change", () => {
    setHashParams("rp-records", { kind: kindIn.value, from: fromIn.value, to: toIn.value });
    rerender?.();
  });
  filter.addEventListener("submit", (e) => {
    e.preventDefault();
    setHashParams("rp-records", { kind, by: byIn.value, status: statusIn?.value || "", from: fromIn.value, to: toIn.value });
    rerender?.();
  });

  const query = new URLSearchParams({ from_date: from, to_date: to, limit: "50" });
  if (by) query.set(spec.by === "device" ? "device_id" : "sterilizer_id", by);
  if (status && kind === "steps") query.set("status", status);
  if (status && kind === "bd") query.set("passed", status);
  const list = h("ul", { class: "list", id: "rp-records" });
  const empty = h("p", { class: "empty", id: "rp-records-none", hidden: true }, t("rp.no_records"));
  const more = h("button", { type: "button", class: "btn btn-block", id: "rp-records-more", hidden: true }, t("rp.more"));
  async function page(cursor = "") {
    const q = new URLSearchParams(query);
    if (cursor) q.set("cursor", cursor);
    const body = await get(api(`${spec.path}?${q}`));
    list.append(...body[spec.key].map((row) => ROWS[kind](row, rerender, names)));
    empty.hidden = list.childElementCount > 0;
    more.hidden = !body.next_cursor;
    more.onclick = async () => {
      more.disabled = true;
      await page(body.next_cursor);
      more.disabled = false;
    };
  }
  try {
    await page();
  } catch (err) {
    list.replaceWith(h("p", { class: "notice notice-alert" }, problemText(err.problem)));
  }
  view.replaceChildren(screen(t("rp.other_records"), filter, list, empty, more));
  return {};
}
