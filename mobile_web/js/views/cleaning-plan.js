// A cleaning plan, for managers. #/cleaning-plan?id=<id> edits one: name, schedule, checklist (one
// item a line) and disinfectant; a new checklist or disinfectant is a new version on the server and
// past logs keep theirs. #/cleaning-plan?room=<id> adds a plan to a room: its kind first, which
// starts the checklist from the default for that kind (GET .../plans/templates) when there is one.
import { get, writeNow } from "/js/api.js";
import "/js/cleaning-strings.js";
import { problemText, t } from "/js/i18n.js";
import { api, hashParams } from "/js/stock-actions.js";
import { field, fieldErrors, h, screen, toast } from "/js/ui.js";

const KINDS = ["between_patients", "daily", "weekly", "terminal"];
const ON_DEMAND = ["between_patients", "terminal"];

/** The schedule's fields for a kind: due time (and weekday) or minutes after a request. */
function scheduleFields(kind, plan) {
  const inputs = {};
  const nodes = [];
  if (ON_DEMAND.includes(kind)) {
    inputs.within = h("input", { name: "due_within_minutes", type: "number", min: 1, max: 10080, inputmode: "numeric",
      value: plan?.due_within_minutes ?? "" });
    nodes.push(field(t("clean.plan_within"), inputs.within));
  } else {
    inputs.dueTime = h("input", { name: "due_time", type: "time", value: plan?.due_time || "18:00", required: true });
    nodes.push(field(t("clean.plan_due_time"), inputs.dueTime));
    if (kind === "weekly") {
      inputs.weekday = h("select", { name: "weekday" }, ...[0, 1, 2, 3, 4, 5, 6].map((d) =>
        h("option", { value: d, selected: d === (plan?.weekday ?? 4) }, t(`clean.weekday.${d}`))));
      nodes.push(field(t("clean.plan_weekday"), inputs.weekday));
    }
  }
  return { inputs, node: h("div", { class: "stack clean-schedule" }, ...nodes) };
}

/** Name, checklist and disinfectant inputs, filled from a plan when editing. */
function planFields(plan) {
  const name = h("input", { name: "name", required: true, maxlength: 200, value: plan?.name ?? "" });
  const items = h("textarea", { name: "items", rows: Math.max(6, (plan?.items.length ?? 0) + 1), required: true });
  items.value = plan ? plan.items.join("\n") : "";
  const product = h("input", { name: "product", maxlength: 200, value: plan?.product ?? "", autocomplete: "off" });
  const din = h("input", { name: "din", inputmode: "numeric", maxlength: 16, pattern: "[0-9]*", value: plan?.din ?? "",
    autocomplete: "off" });
  const contact = h("input", { name: "contact_seconds", type: "number", min: 1, max: 3600, inputmode: "numeric",
    value: plan?.contact_seconds ?? "" });
  return { name, items, product, din, contact };
}

function body(f, schedule) {
  const out = {
    name: f.name.value.trim(),
    items: f.items.value.split("\n").map((s) => s.trim()).filter(Boolean),
    product: f.product.value.trim(),
    din: f.din.value.trim(),
  };
  if (f.contact.value !== "") out.contact_seconds = Number(f.contact.value);
  if (schedule.dueTime) out.due_time = schedule.dueTime.value;
  if (schedule.weekday) out.weekday = Number(schedule.weekday.value);
  if (schedule.within && schedule.within.value !== "") out.due_within_minutes = Number(schedule.within.value);
  return out;
}

function submitter(form, error, send) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await send();
    } catch (err) {
      error.textContent = problemText(err.problem);
      error.hidden = false;
      fieldErrors(form, err.problem);
    }
  });
}

async function editScreen(view, id, go) {
  const plan = await get(api(`/cleaning/plans/${id}`));
  const f = planFields(plan);
  const schedule = scheduleFields(plan.kind, plan);
  const active = h("input", { name: "active", type: "checkbox", checked: plan.active });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const form = h("form", { class: "stack", id: "clean-plan-form", novalidate: true },
    h("p", { class: "muted" }, `${plan.room_name} · ${t(`clean.kind.${plan.kind}`)}`),
    h("p", { class: "notice notice-info" }, t("clean.plan_version", { n: plan.version })),
    field(t("clean.plan_name"), f.name), schedule.node, field(t("clean.plan_items"), f.items),
    field(t("clean.plan_product"), f.product), field(t("clean.plan_din"), f.din), field(t("clean.plan_contact"), f.contact),
    h("label", { class: "row" }, active, t("clean.plan_active")), error,
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("clean.save")));
  submitter(form, error, async () => {
    const saved = await writeNow("PATCH", api(`/cleaning/plans/${id}`), { ...body(f, schedule.inputs), active: active.checked });
    toast(t("clean.plan_saved", { n: saved.version }));
    go(`cleaning?room=${saved.room_id}`);
  });
  view.replaceChildren(screen(`${t("clean.plan_title")}: ${plan.name}`, form));
}

async function addScreen(view, roomId, go) {
  const [room, templates] = await Promise.all([get(api(`/cleaning/rooms/${roomId}`)), get(api("/cleaning/plans/templates"))]);
  const template = (k) => (templates.find((x) => x.kind === k)?.items ?? []).join("\n");
  const kind = h("select", { name: "kind" }, ...KINDS.map((k) => h("option", { value: k }, t(`clean.kind.${k}`))));
  const f = planFields(null);
  f.name.value = t(`clean.kind.${kind.value}`);
  f.items.value = template(kind.value);
  let schedule = scheduleFields(kind.value, null);
  const scheduleHost = h("div", {}, schedule.node);
  kind.addEventListener("change", () => {
    // The suggested name follows the kind until the manager types their own.
    if (KINDS.some((k) => t(`clean.kind.${k}`) === f.name.value)) f.name.value = t(`clean.kind.${kind.value}`);
    // So does the checklist: the PIDAC default for the kind, while it is still a default.
    if (!f.items.value.trim() || KINDS.some((k) => template(k) === f.items.value)) f.items.value = template(kind.value);
    schedule = scheduleFields(kind.value, null);
    scheduleHost.replaceChildren(schedule.node);
  });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const form = h("form", { class: "stack", id: "clean-plan-new", novalidate: true },
    h("p", { class: "muted" }, room.room_name),
    field(t("clean.plan_kind"), kind), field(t("clean.plan_name"), f.name), scheduleHost,
    field(t("clean.plan_items"), f.items), field(t("clean.plan_product"), f.product), field(t("clean.plan_din"), f.din),
    field(t("clean.plan_contact"), f.contact), error,
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("clean.add_plan")));
  submitter(form, error, async () => {
    const saved = await writeNow("POST", api("/cleaning/plans"),
      { room_id: roomId, kind: kind.value, ...body(f, schedule.inputs) });
    toast(t("clean.plan_added", { name: saved.name }));
    go(`cleaning?room=${roomId}`);
  });
  view.replaceChildren(screen(`${t("clean.add_plan")}: ${room.room_name}`, form));
}

export async function render(view, { go }) {
  const params = hashParams();
  const id = Number(params.get("id"));
  if (id) return editScreen(view, id, go);
  return addScreen(view, Number(params.get("room")), go);
}
