import { signOut } from "/js/app.js";
import { writeNow } from "/js/api.js";
import { problemText, t } from "/js/i18n.js";
import * as outbox from "/js/outbox.js";
import { role, site, state } from "/js/state.js";
import { confirmDialog, field, fieldErrors, h, screen, toast } from "/js/ui.js";
import { mailCard, siteSettingsCard } from "/js/alerts-mail.js";

export async function render(view) {
  const me = state.me;
  const current = h("input", { name: "current_password", type: "password", autocomplete: "current-password", required: true });
  const next = h("input", { name: "new_password", type: "password", autocomplete: "new-password", minlength: 12, required: true });
  const form = h("form", { class: "card stack" }, h("h2", {}, t("account.change_password")),
    field(t("account.current_password"), current), field(t("account.new_password"), next),
    h("button", { type: "submit", class: "btn btn-block" }, t("app.save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await writeNow("POST", "/api/auth/password", { current_password: current.value, new_password: next.value });
      form.reset();
      toast(t("account.password_changed"));
    } catch (err) {
      fieldErrors(form, err.problem);
      toast(problemText(err.problem), { error: true });
    }
  });
  const out = h("button", { type: "button", class: "btn btn-danger btn-block", id: "sign-out", onclick: async () => {
    const { pending } = await outbox.summary();
    if (pending && !(await confirmDialog(t("account.sign_out_pending", { n: pending })))) return;
    await signOut();
  } }, t("account.sign_out"));
  const where = site();
  view.replaceChildren(screen(t("account.title"),
    h("p", {}, t("account.signed_in_as", { name: me.display_name })),
    where && h("p", { class: "muted" }, `${where.site_name} · ${t(`role.${role()}`)}`),
    await mailCard(), await siteSettingsCard(), me.via_token ? null : form, out));
}
