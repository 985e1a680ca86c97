import { t } from "/js/i18n.js";
import { h, screen } from "/js/ui.js";

// Feature issues (cold chain, cleaning, reprocessing) add their due tasks here.
export function render(view) {
  view.replaceChildren(screen(t("tasks.title"), h("p", { class: "empty" }, t("tasks.none"))));
}
