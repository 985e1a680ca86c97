// "Alert mail" on the Account screen: the address and the channels this person's role allows here.
import { get, writeNow } from "/js/api.js";
import { problemText, t } from "/js/i18n.js";
import { state } from "/js/state.js";
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
