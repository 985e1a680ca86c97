// Small DOM helpers: no framework, so the shell stays small and works offline.
import { t } from "/js/i18n.js";

/** h("button", {class: "btn", onclick}, "Save") */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

let toastTimer;
export function toast(message, { error = false } = {}) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.classList.toggle("toast-error", error);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, error ? 7000 : 3500);
}

/** A confirmation the user must answer: resolves true or false. */
export function confirmDialog(message) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "dialog", "aria-label": message },
      h("p", {}, message),
      h("div", { class: "row" },
        h("button", { type: "button", class: "btn", onclick: () => done(false) }, t("app.no")),
        h("button", { type: "button", class: "btn btn-primary", onclick: () => done(true) }, t("app.yes"))));
    function done(answer) { dialog.close(); dialog.remove(); resolve(answer); }
    dialog.addEventListener("cancel", () => done(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Ask for one value (for example a new password): resolves the text, or null when cancelled. */
export function askDialog(label, { type = "text", minlength = 0 } = {}) {
  return new Promise((resolve) => {
    const input = h("input", { type, minlength: minlength || false, autocomplete: type === "password" ? "new-password" : "off" });
    const form = h("form", { method: "dialog", class: "stack" }, field(label, input),
      h("div", { class: "row" },
        h("button", { type: "button", class: "btn", onclick: () => done(null) }, t("app.cancel")),
        h("button", { type: "submit", class: "btn btn-primary" }, t("app.save"))));
    const dialog = h("dialog", { class: "dialog", "aria-label": label }, form);
    form.addEventListener("submit", (e) => { e.preventDefault(); done(input.value || null); });
    function done(value) { dialog.close(); dialog.remove(); resolve(value); }
    dialog.addEventListener("cancel", () => done(null));
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
}

/** A labelled input; `name` is the key in the form's values. */
export function field(label, input) {
  const id = `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

export function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

export function fieldErrors(form, problem) {
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  for (const err of problem?.errors || []) {
    const input = form.querySelector(`[name="${err.field}"]`);
    if (input) input.after(h("p", { class: "field-error" }, err.message));
  }
}

export function screen(title, ...children) {
  return h("section", { class: "screen" }, h("h1", { class: "screen-title" }, title), ...children);
}
