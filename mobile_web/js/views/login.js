import { signIn } from "/js/app.js";
import { problemText, t } from "/js/i18n.js";
import { field, h, screen } from "/js/ui.js";

export function render(view) {
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const username = h("input", { name: "username", autocomplete: "username", autocapitalize: "none",
    spellcheck: "false", required: true, autofocus: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const button = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("login.submit"));
  const form = h("form", { class: "stack", novalidate: true },
    field(t("login.username"), username), field(t("login.password"), password), error, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    if (!navigator.onLine) {
      error.textContent = t("login.offline");
      error.hidden = false;
      return;
    }
    button.disabled = true;
    try {
      await signIn(username.value.trim(), password.value);
    } catch (err) {
      error.textContent = problemText(err.problem);
      error.hidden = false;
      password.select();
    } finally {
      button.disabled = false;
    }
  });
  view.replaceChildren(screen(t("login.title"), form));
}
