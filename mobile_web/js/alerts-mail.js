// "Alert mail" on the Account screen: the address and the channels this person's role allows here.
import { get, writeNow } from "/js/api.js";
import { problemText, t } from "/js/i18n.js";
import { role, state } from "/js/state.js";
import { field, fieldErrors, h, toast } from "/js/ui.js";

export async function mailCard() {
  if (!state.siteId || state.me?.via_token) return null;
  const url = `/api/sites/${state.siteId}/alert-delivery/subscription`;
  let sub;
  try { sub = await get(url); } catch { return null; } // offline, or no role here: nothing to set
  if (!sub.allowed.length) return null;
  const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true, value: sub.email || "" });
  const box = (name) => h("input", { type: "checkbox", name, checked: sub.email ? sub[name] : name === "digest" });
  const digest = box("digest");
  const immediate = box("immediate");
  const choice = (input, label) => h("label", { class: "check" }, input, h("span", {}, label));
  const form = h("form", { class: "card stack", id: "alert-mail" }, h("h2", {}, t("alerts.mail_title")),
    h("p", { class: "muted" }, t("alerts.mail_help")),
    field(t("alerts.mail_email"), email),
    sub.allowed.includes("digest") ? choice(digest, t("alerts.mail_digest")) : null,
    sub.allowed.includes("immediate") ? choice(immediate, t("alerts.mail_immediate")) : null,
    h("button", { type: "submit", class: "btn btn-block" }, t("app.save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await writeNow("POST", url, {
        email: email.value.trim(),
        digest: sub.allowed.includes("digest") && digest.checked,
        immediate: sub.allowed.includes("immediate") && immediate.checked,
      });
      toast(t("alerts.mail_saved"));
    } catch (err) {
      if (err.problem) fieldErrors(form, err.problem);
      toast(err.problem ? problemText(err.problem) : t("app.error"), { error: true });
    }
  });
  return form;
}

// "When alerts speak up" for managers: quiet hours, escalation, the morning summary's hour and
// the thresholds of the rules that have one. Saved for the whole site.
export async function siteSettingsCard() {
  if (!state.siteId || !["manager", "admin"].includes(role())) return null;
  const url = `/api/sites/${state.siteId}/alert-delivery/settings`;
  let cur;
  try { cur = await get(url); } catch { return null; }
  const num = (name, min, max) => h("input", { name, type: "number", inputmode: "numeric", min, max, required: true, value: String(cur[name]) });
  const clock = (name) => h("input", { name, type: "time", value: cur[name] || "" });
  const inputs = {
    expiry_days_vaccine: num("expiry_days_vaccine", 1, 365),
    expiry_days_other: num("expiry_days_other", 1, 365),
    dirty_hours: num("dirty_hours", 1, 72),
    order_overdue_days: num("order_overdue_days", 1, 180),
    escalate_after_minutes: num("escalate_after_minutes", 5, 1440),
    digest_hour: num("digest_hour", 0, 23),
    quiet_start: clock("quiet_start"),
    quiet_end: clock("quiet_end"),
  };
  const form = h("form", { class: "card stack", id: "alert-settings" }, h("h2", {}, t("alerts.settings_title")),
    h("p", { class: "muted" }, t("alerts.settings_help")),
    ...Object.entries(inputs).map(([name, input]) => field(t(`alerts.settings.${name}`), input)),
    h("button", { type: "submit", class: "btn btn-block" }, t("app.save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    for (const [name, input] of Object.entries(inputs)) {
      body[name] = input.type === "time" ? (input.value || null) : Number(input.value);
    }
    try {
      await writeNow("POST", url, body);
      toast(t("alerts.settings_saved"));
    } catch (err) {
      if (err.problem) fieldErrors(form, err.problem);
      toast(err.problem ? problemText(err.problem) : t("app.error"), { error: true });
    }
  });
  return form;
}
