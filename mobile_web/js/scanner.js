// Placeholder scanner: manual entry only. Replaced by the full component (camera, wedge, manual).
import { t } from "/js/i18n.js";
import { h } from "/js/ui.js";

export function mountScanner(container, { onScan }) {
  const input = h("input", { name: "code", autocomplete: "off", "aria-label": t("scan.title") });
  const form = h("form", { class: "row" }, input, h("button", { type: "submit", class: "btn" }, "OK"));
  form.addEventListener("submit", (e) => { e.preventDefault(); if (input.value) onScan(input.value, { source: "manual" }); });
  container.replaceChildren(form);
  return { destroy() { container.replaceChildren(); } };
}
