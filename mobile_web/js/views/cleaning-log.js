// One cleaning log: #/cleaning-log?id=<id>. What was done, by whom and when, each item as it was,
// and its correction links. A record is never edited: "Correct this record" (whoever logged it, or
// a manager) sends a new entry naming this one, with a reason; this one stays, marked as corrected.
import { get } from "/js/api.js";
import "/js/cleaning-strings.js";
import { formatDateTime, t } from "/js/i18n.js";
import { api, hashParams, isManager, outcomeNotice, sendWrite } from "/js/stock-actions.js";
import { role, site, state } from "/js/state.js";
import { confirmDialog, field, h, screen } from "/js/ui.js";
import { itemRow } from "/js/views/cleaning.js";

let carried = null;

// Times are typed as the clinic's wall clock (the site's time zone), whatever the phone's zone.
function wallClock(ms, zone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: zone, hourCycle: "h23", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** A moment as a datetime-local value at the site ("2026-06-10T17:40"). */
function localInput(iso) {
  return wallClock(Date.parse(iso), site()?.timezone);
}

/** A datetime-local value read at the site, as an ISO instant (DST: the offset is found, then checked). */
function fromLocalInput(value) {
  const asUtc = (text) => Date.parse(`${text}:00Z`);
  const guess = asUtc(value.slice(0, 16));
  let at = guess - (asUtc(wallClock(guess, site()?.timezone)) - guess);
  at = guess - (asUtc(wallClock(at, site()?.timezone)) - at);
  return new Date(at).toISOString();
}

export function mayCorrect(log) {
  if (log.corrected_by) return false;
  return isManager() || (role() === "assistant" && log.actor === `user:${state.me?.user_id}`);
}

/** Links between a correction and what it corrects, for the records list and this screen. */
export function correctionLinks(log) {
  return [
    log.corrected_by && h("a", { href: `#/cleaning-log?id=${log.corrected_by}`, class: "notice notice-warn clean-corrected",
      dataset: { correctedBy: log.corrected_by } }, t("clean.corrected_by", { id: log.corrected_by })),
    log.corrects && h("a", { href: `#/cleaning-log?id=${log.corrects}`, class: "notice notice-info clean-correction",
      dataset: { corrects: log.corrects, void: String(log.void) } },
      t(log.void ? "clean.withdrawal_of" : "clean.correction_of", { id: log.corrects, reason: log.reason })),
  ];
}

function details(log) {
  const product = log.product ? (log.din ? t("clean.product_din", { product: log.product, din: log.din }) : log.product)
    : t("clean.none");
  const row = (label, value) => h("div", { class: "row-between" }, h("span", { class: "muted" }, label), h("span", {}, value));
  return h("div", { class: "stack card", id: "clean-log-detail", dataset: { log: log.id } },
    ...correctionLinks(log),
    row(t("clean.log_room"), `${log.room_name}: ${log.plan_name}`),
    row(t("clean.log_when"), `${formatDateTime(log.started_at)} – ${formatDateTime(log.ended_at)}`),
    row(t("logs.who"), log.actor_name || log.actor),
    row(t("clean.product"), product),
    log.visit_code && row(t("clean.visit"), log.visit_code),
    log.note && row(t("clean.note"), log.note),
    h("ul", { class: "list" }, ...log.items.map((i) => h("li", { class: "list-item" },
      h("span", {}, `${i.done ? "✓" : "✗"} ${i.text}`),
      !i.done && h("span", { class: "muted" }, t("clean.skipped_item", { text: i.text, reason: i.skip_reason }))))));
}

function correctionForm(log, go) {
  const answers = log.items.map(() => null);
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const update = () => { error.hidden = true; };
  const reason = h("textarea", { name: "reason", rows: 2, maxlength: 500, required: true, oninput: update });
  const started = h("input", { name: "started_at", type: "datetime-local", value: localInput(log.started_at), required: true });
  const ended = h("input", { name: "ended_at", type: "datetime-local", value: localInput(log.ended_at), required: true });
  const product = h("input", { name: "product", maxlength: 200, value: log.product, autocomplete: "off" });
  const din = h("input", { name: "din", inputmode: "numeric", maxlength: 16, pattern: "[0-9]*", value: log.din, autocomplete: "off" });
  const visit = h("input", { name: "visit_code", maxlength: 64, value: log.visit_code, autocomplete: "off" });
  const note = h("textarea", { name: "note", rows: 2, maxlength: 1000 });
  note.value = log.note;
  const status = h("div", { class: "clean-correct-outcome" });
  // Withdrawing (nothing was cleaned here) needs only the reason: the answers are hidden.
  const withdraw = h("input", { name: "void", type: "checkbox" });
  const answersPart = h("div", { class: "stack" });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("clean.correct_save"));
  const form = h("form", { class: "stack card", id: "clean-correct-form", novalidate: true, hidden: true },
    h("h2", {}, t("clean.correct")),
    h("p", { class: "muted" }, t("clean.correct_help")),
    field(t("clean.correct_reason"), reason),
    h("label", { class: "row" }, withdraw, t("clean.correct_void")),
    answersPart, error, status, submit);
  answersPart.append(field(t("clean.correct_start"), started), field(t("clean.correct_end"), ended),
    h("ul", { class: "list", id: "clean-items" }, ...log.items.map((i) => itemRow(i.text, i.position, answers, update, i))),
    field(t("clean.plan_product"), product), field(t("clean.plan_din"), din),
    field(t("clean.visit"), visit), field(t("clean.note"), note));
  withdraw.addEventListener("change", () => { answersPart.hidden = withdraw.checked; update(); });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const fail = (text, focus) => { error.textContent = text; error.hidden = false; focus?.focus(); };
    if (!reason.value.trim()) return fail(t("clean.correct_need_reason"), reason);
    if (withdraw.checked) return send({ reason: reason.value.trim(), void: true }, t("clean.void_confirm"));
    if (answers.some((a) => a === null)) return fail(t("clean.remaining", { n: answers.filter((a) => a === null).length }));
    if (answers.some((a) => !a.done && !a.skip_reason)) return fail(t("clean.need_reason"));
    if (!started.value || !ended.value) return fail(t("clean.correct_need_times"), started);
    return send({ reason: reason.value.trim(), started_at: fromLocalInput(started.value),
      ended_at: fromLocalInput(ended.value), items: answers, product: product.value.trim(), din: din.value.trim(),
      visit_code: visit.value.trim(), note: note.value.trim() }, t("clean.correct_confirm"));
  });
  async function send(body, question) {
    if (!await confirmDialog(question)) return undefined;
    submit.disabled = true;
    const outcome = await sendWrite({ method: "POST", url: api(`/cleaning/logs/${log.id}/correct`), body,
      label: `${t("clean.correct")}: ${log.room_name} – ${log.plan_name}` });
    const notice = outcomeNotice(outcome, t("clean.correct_sent"));
    if (outcome.status === "sent") {
      carried = { id: outcome.result.id, notice };
      go(`cleaning-log?id=${outcome.result.id}`);
      return undefined;
    }
    submit.disabled = outcome.status === "queued"; // queued: the outbox sends it once back online
    status.replaceChildren(notice);
    return undefined;
  }
  const open = h("button", { type: "button", class: "btn btn-block", id: "clean-correct-open", onclick: () => {
    open.hidden = true;
    form.hidden = false;
    reason.focus();
  } }, t("clean.correct"));
  return h("div", { class: "stack" }, open, form);
}

export async function render(view, { go }) {
  const id = Number(hashParams().get("id"));
  const log = await get(api(`/cleaning/logs/${id}`));
  const children = [];
  if (carried?.id === id) children.push(carried.notice);
  carried = null;
  children.push(details(log));
  if (mayCorrect(log)) children.push(correctionForm(log, go));
  children.push(h("a", { href: `#/cleaning-records?room=${log.room_id}`, class: "link-more" }, t("clean.records")));
  view.replaceChildren(screen(t("clean.log_title", { id: log.id }), ...children));
}
