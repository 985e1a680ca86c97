// Room cleaning. #/cleaning?room=<id>: the room's plans, overdue and due first (what scanning the
// door label opens). #/cleaning?room=<id>&plan=<id>: the checklist: tick each item or skip it with a
// reason, the disinfectant's contact-time timer, then Complete through the outbox (exactly once).
// The last copy of each room is kept on the phone, so a room scanned before opens offline too.
import { ApiError, get, writeNow } from "/js/api.js";
import "/js/cleaning-strings.js";
import { formatDateTime, problemText, t } from "/js/i18n.js";
import { api, hashParams, isManager, outcomeNotice, sendWrite } from "/js/stock-actions.js";
import { role, state } from "/js/state.js";
import { field, h, screen, toast } from "/js/ui.js";

const CACHE_KEY = "clinitrack.cleaning";
let carried = null;

function cacheKey(roomId) { return `${state.siteId}:${roomId}`; }

function remember(roomId, room) {
  const all = JSON.parse(localStorage.getItem(CACHE_KEY) || "{}");
  all[cacheKey(roomId)] = room;
  localStorage.setItem(CACHE_KEY, JSON.stringify(all));
}

function recalled(roomId) {
  return JSON.parse(localStorage.getItem(CACHE_KEY) || "{}")[cacheKey(roomId)] ?? null;
}

async function loadRoom(roomId) {
  try {
    const room = await get(api(`/cleaning/rooms/${roomId}`));
    remember(roomId, room);
    return { room, offline: false };
  } catch (err) {
    const copy = err instanceof ApiError && err.isNetwork ? recalled(roomId) : null;
    if (!copy) throw err;
    return { room: copy, offline: true };
  }
}

export function stateBadge(state_) {
  const cls = state_ === "overdue" ? "badge badge-alert" : state_ === "done" ? "badge badge-done" : "badge";
  return h("span", { class: cls, dataset: { state: state_ } }, t(`clean.state.${state_}`));
}

const ON_DEMAND = ["between_patients", "terminal"];

/** Ask for an on-demand cleaning (a patient left; additional precautions ended): through the outbox. */
function requestForm(plan, rerender) {
  const note = h("input", { name: "note", maxlength: 1000, autocomplete: "off" });
  const status = h("div", { class: "clean-request-outcome" });
  const form = h("form", { class: "stack clean-request", dataset: { plan: plan.id } },
    field(t("clean.request_note"), note), status,
    h("button", { type: "submit", class: "btn btn-block" }, t(`clean.request.${plan.kind}`)));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const outcome = await sendWrite({ method: "POST", url: api(`/cleaning/plans/${plan.id}/requests`),
      body: { note: note.value.trim() }, label: `${t(`clean.request.${plan.kind}`)}: ${plan.room_name}` });
    if (outcome.status === "sent") {
      toast(t("clean.request_sent"));
      rerender();
      return;
    }
    status.replaceChildren(outcomeNotice(outcome, t("clean.request_sent")));
  });
  return form;
}

function planCard(roomId, status, rerender) {
  const plan = status.plan;
  const when = status.state === "done" || status.state === "available"
    ? status.last_done_at && t("clean.last_done", { time: formatDateTime(status.last_done_at) })
    : status.due_at && t("clean.due_by", { time: formatDateTime(status.due_at) });
  return h("li", { class: "list-item clean-plan", dataset: { plan: plan.id, kind: plan.kind, state: status.state } },
    h("div", { class: "row-between" }, h("strong", {}, plan.name), stateBadge(status.state)),
    h("span", { class: "muted" }, t(`clean.kind.${plan.kind}`)),
    when && h("span", { class: "muted" }, when),
    h("a", { href: `#/cleaning?room=${roomId}&plan=${plan.id}`, class: "btn btn-primary btn-block",
      "aria-label": `${t("clean.start")}: ${plan.name}` }, t("clean.start")),
    ON_DEMAND.includes(plan.kind) && status.state === "available" && role() !== "inspector"
      && requestForm(plan, rerender),
    isManager() && h("a", { href: `#/cleaning-plan?id=${plan.id}`, class: "link-more clean-edit",
      "aria-label": `${t("clean.edit")}: ${plan.name}` }, t("clean.edit")));
}

async function roomScreen(view, roomId, { rerender }) {
  const { room, offline } = await loadRoom(roomId);
  const children = [];
  if (carried?.room === roomId) children.push(carried.notice);
  carried = null;
  if (offline) children.push(h("p", { class: "notice notice-info", role: "status" }, t("clean.offline_copy")));
  if (room.plans.length) {
    children.push(h("ul", { class: "list", id: "clean-plans" }, ...room.plans.map((s) => planCard(roomId, s, rerender))));
  } else {
    children.push(h("p", { class: "empty" }, t("clean.no_plans")));
    if (isManager()) {
      children.push(h("button", { type: "button", class: "btn btn-block", id: "clean-defaults", onclick: async () => {
        try {
          const made = await writeNow("POST", api("/cleaning/plans/defaults"), {});
          toast(t("clean.defaults_added", { n: made.created.length }));
          rerender();
        } catch (err) {
          toast(problemText(err.problem), { error: true });
        }
      } }, t("clean.add_defaults")));
    }
  }
  if (isManager() && !offline) {
    children.push(h("a", { href: `#/cleaning-plan?room=${roomId}`, class: "btn btn-block", id: "clean-add-plan" },
      t("clean.add_plan")));
  }
  view.replaceChildren(screen(`${t("clean.title")}: ${room.room_name}`, ...children));
}

function contactTimer(seconds) {
  const status = h("p", { class: "clean-timer-status", role: "status", "aria-live": "polite" });
  let interval = null;
  const button = h("button", { type: "button", class: "btn btn-block", id: "clean-timer", onclick: () => {
    clearInterval(interval);
    const end = Date.now() + seconds * 1000;
    const tick = () => {
      const left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      status.textContent = left > 0 ? t("clean.timer_left", { n: left }) : t("clean.timer_done");
      status.dataset.left = left;
      if (left === 0) { clearInterval(interval); navigator.vibrate?.(200); }
    };
    tick();
    interval = setInterval(tick, 1000);
  } }, t("clean.timer_start"));
  return { node: h("div", { class: "clean-timer stack" }, h("p", {}, t("clean.contact", { n: seconds })), button, status),
    stop: () => clearInterval(interval) };
}

/** One checklist row with Done / Skip (a skip shows its reason field); `initial` answers it already. */
export function itemRow(text, position, answers, onChange, initial = null) {
  const reason = h("input", { name: `reason-${position}`, maxlength: 500, autocomplete: "off",
    value: initial && !initial.done ? initial.skip_reason : "" });
  const reasonField = field(t("clean.reason"), reason);
  reasonField.hidden = true;
  const done = h("button", { type: "button", class: "btn clean-done", "aria-pressed": "false" }, t("clean.done"));
  const skip = h("button", { type: "button", class: "btn clean-skip", "aria-pressed": "false" }, t("clean.skip"));
  const row = h("li", { class: "list-item clean-item", dataset: { position } },
    h("span", { class: "clean-item-text", id: `clean-item-${position}` }, text),
    h("div", { class: "row", role: "group", "aria-labelledby": `clean-item-${position}` }, done, skip), reasonField);
  const set = (value) => {
    answers[position] = value === null ? null : { position, done: value, skip_reason: value ? "" : reason.value.trim() };
    done.setAttribute("aria-pressed", String(value === true));
    skip.setAttribute("aria-pressed", String(value === false));
    reasonField.hidden = value !== false;
    row.dataset.answer = value === null ? "" : value ? "done" : "skipped";
    if (value === false) reason.focus();
    onChange();
  };
  done.addEventListener("click", () => set(done.getAttribute("aria-pressed") === "true" ? null : true));
  skip.addEventListener("click", () => set(skip.getAttribute("aria-pressed") === "true" ? null : false));
  reason.addEventListener("input", () => {
    if (answers[position]) answers[position].skip_reason = reason.value.trim();
    onChange();
  });
  if (initial) {
    answers[position] = { position, done: initial.done, skip_reason: initial.done ? "" : initial.skip_reason };
    done.setAttribute("aria-pressed", String(initial.done));
    skip.setAttribute("aria-pressed", String(!initial.done));
    reasonField.hidden = initial.done;
    row.dataset.answer = initial.done ? "done" : "skipped";
  }
  return row;
}

async function checklistScreen(view, roomId, planId, { go }) {
  const { room, offline } = await loadRoom(roomId);
  const status = room.plans.find((s) => s.plan.id === planId);
  if (!status) {
    view.replaceChildren(screen(t("clean.title"), h("p", { class: "error" }, t("problem.plan_not_found"))));
    return null;
  }
  const plan = status.plan;
  const startedAt = new Date().toISOString();
  const answers = plan.items.map(() => null);
  const left = h("p", { class: "muted", id: "clean-left", role: "status" });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block", id: "clean-complete" }, t("clean.complete"));
  const update = () => {
    const open = answers.filter((a) => a === null).length;
    left.textContent = open ? t("clean.remaining", { n: open }) : "";
    error.hidden = true;
  };
  const timer = plan.contact_seconds ? contactTimer(plan.contact_seconds) : null;
  const visit = h("input", { name: "visit_code", maxlength: 64, autocomplete: "off", pattern: "[A-Za-z0-9._\\-]*" });
  const note = h("textarea", { name: "note", rows: 2, maxlength: 1000 });
  const form = h("form", { class: "stack", id: "clean-form", novalidate: true },
    h("p", {}, h("strong", {}, `${t("clean.product")}: `),
      plan.product ? (plan.din ? t("clean.product_din", { product: plan.product, din: plan.din }) : plan.product) : t("clean.no_product")),
    timer?.node,
    h("h2", {}, t("clean.checklist")),
    h("ul", { class: "list", id: "clean-items" }, ...plan.items.map((text, i) => itemRow(text, i, answers, update))),
    field(t("clean.visit"), visit), field(t("clean.note"), note), left, error, submit);
  update();
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (answers.some((a) => a === null)) {
      error.textContent = t("clean.remaining", { n: answers.filter((a) => a === null).length });
      error.hidden = false;
      return;
    }
    if (answers.some((a) => !a.done && !a.skip_reason)) {
      error.textContent = t("clean.need_reason");
      error.hidden = false;
      form.querySelector(".clean-item[data-answer=skipped] input")?.focus();
      return;
    }
    submit.disabled = true;
    const body = { plan_id: plan.id, version: plan.version, started_at: startedAt, ended_at: new Date().toISOString(),
      items: answers, visit_code: visit.value.trim(), note: note.value.trim() };
    const outcome = await sendWrite({ method: "POST", url: api("/cleaning/logs"), body,
      label: `${t("clean.title")}: ${room.room_name} – ${plan.name}` });
    const notice = outcomeNotice(outcome, t("clean.sent"));
    if (outcome.status === "rejected") {
      submit.disabled = false;
      form.prepend(notice);
      return;
    }
    carried = { room: roomId, notice };
    go(`cleaning?room=${roomId}`);
  });
  const children = [];
  if (offline) children.push(h("p", { class: "notice notice-info", role: "status" }, t("clean.offline_copy")));
  children.push(h("p", {}, stateBadge(status.state), " ", t(`clean.kind.${plan.kind}`)), form,
    h("a", { href: `#/cleaning?room=${roomId}`, class: "link-more" }, t("clean.back")));
  view.replaceChildren(screen(`${room.room_name}: ${plan.name}`, ...children));
  return { destroy: () => timer?.stop() };
}

export async function render(view, ctx) {
  const params = hashParams();
  const roomId = Number(params.get("room"));
  const planId = Number(params.get("plan"));
  if (!roomId) {
    view.replaceChildren(screen(t("clean.title"), h("p", { class: "error" }, t("problem.room_not_found"))));
    return null;
  }
  if (planId) return checklistScreen(view, roomId, planId, ctx);
  await roomScreen(view, roomId, ctx);
  return null;
}

/** Due and overdue cleaning for "My tasks": a list, or null when it cannot be read (offline). */
export async function taskList() {
  let tasks;
  try {
    tasks = await get(api("/cleaning/tasks"));
  } catch (err) {
    if (err instanceof ApiError && err.isNetwork) return null;
    throw err;
  }
  if (!tasks.length) return h("p", { class: "empty", id: "clean-tasks-none" }, t("clean.tasks_none"));
  return h("ul", { class: "list", id: "clean-tasks" }, ...tasks.map((task) =>
    h("li", { class: "list-item clean-task", dataset: { plan: task.plan_id, state: task.state } },
      h("div", { class: "row-between" },
        h("a", { href: `#/cleaning?room=${task.room_id}&plan=${task.plan_id}` }, `${task.room_name}: ${task.plan_name}`),
        stateBadge(task.state)),
      task.due_at && h("span", { class: "muted" }, t("clean.due_by", { time: formatDateTime(task.due_at) })))));
}
