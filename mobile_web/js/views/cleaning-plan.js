// A cleaning plan, for managers: #/cleaning-plan?id=<id>. Name, schedule, checklist (one item a line)
// and disinfectant. A new checklist or disinfectant is a new version on the server; past logs keep theirs.
import { get, writeNow } from "/js/api.js";
import "/js/cleaning-strings.js";
import { problemText, t } from "/js/i18n.js";
import { api, hashParams } from "/js/stock-actions.js";
import { field, fieldErrors, h, screen, toast } from "/js/ui.js";

const ON_DEMAND = ["between_patients", "terminal"];

export async function render(view, { go }) {
  const id = Number(hashParams().get("id"));
  const plan = await get(api(`/cleaning/plans/${id}`));
  const name = h("input", { name: "name", required: true, maxlength: 200, value: plan.name });
  const items = h("textarea", { name: "items", rows: Math.max(6, plan.items.length + 1), required: true });
  items.value = plan.items.join("\n");
  const product = h("input", { name: "product", maxlength: 200, value: plan.product, autocomplete: "off" });
  const din = h("input", { name: "din", inputmode: "numeric", maxlength: 16, pattern: "[0-9]*", value: plan.din, autocomplete: "off" });
  const contact = h("input", { name: "contact_seconds", type: "number", min: 1, max: 3600, inputmode: "numeric",
    value: plan.contact_seconds ?? "" });
  const active = h("input", { name: "active", type: "checkbox", checked: plan.active });
  const schedule = [];
  let dueTime = null;
  let weekday = null;
  let within = null;
  if (ON_DEMAND.includes(plan.kind)) {
    within = h("input", { name: "due_within_minutes", type: "number", min: 1, max: 10080, inputmode: "numeric",
      value: plan.due_within_minutes ?? "" });
    schedule.push(field(t("clean.plan_within"), within));
  } else {
    dueTime = h("input", { name: "due_time", type: "time", value: plan.due_time, required: true });
    schedule.push(field(t("clean.plan_due_time"), dueTime));
    if (plan.kind === "weekly") {
      weekday = h("select", { name: "weekday" }, ...[0, 1, 2, 3, 4, 5, 6].map((d) =>
        h("option", { value: d, selected: d === plan.weekday }, t(`clean.weekday.${d}`))));
      schedule.push(field(t("clean.plan_weekday"), weekday));
    }
  }
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const form = h("form", { class: "stack", id: "clean-plan-form", novalidate: true },
    h("p", { class: "muted" }, `${plan.room_name} · ${t(`clean.kind.${plan.kind}`)}`),
    h("p", { class: "notice notice-info" }, t("clean.plan_version", { n: plan.version })),
    field(t("clean.plan_name"), name), ...schedule, field(t("clean.plan_items"), items),
    field(t("clean.plan_product"), product), field(t("clean.plan_din"), din), field(t("clean.plan_contact"), contact),
    h("label", { class: "row" }, active, t("clean.plan_active")), error,
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("clean.save")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {
      name: name.value.trim(),
      items: items.value.split("\n").map((s) => s.trim()).filter(Boolean),
      product: product.value.trim(),
      din: din.value.trim(),
      active: active.checked,
    };
    if (contact.value !== "") body.contact_seconds = Number(contact.value);
    if (dueTime) body.due_time = dueTime.value;
    if (weekday) body.weekday = Number(weekday.value);
    if (within && within.value !== "") body.due_within_minutes = Number(within.value);
    try {
      const saved = await writeNow("PATCH", api(`/cleaning/plans/${id}`), body);
      toast(t("clean.plan_saved", { n: saved.version }));
      go(`cleaning?room=${saved.room_id}`);
    } catch (err) {
      error.textContent = problemText(err.problem);
      error.hidden = false;
      fieldErrors(form, err.problem);
    }
  });
  view.replaceChildren(screen(`${t("clean.plan_title")}: ${plan.name}`, form));
}
