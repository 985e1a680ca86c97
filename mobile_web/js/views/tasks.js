import { t } from "/js/i18n.js";
import { h, screen } from "/js/ui.js";

// Feature issues (cold chain, cleaning, reprocessing) add their due tasks here.
export async function render(view) {
  const { taskList } = await import("/js/views/cleaning.js");
  const cleaning = await taskList();
  const parts = [];
  if (cleaning) parts.push(h("section", { class: "stack", id: "tasks-cleaning" }, h("h2", {}, t("clean.tasks")), cleaning));
  else parts.push(h("p", { class: "empty" }, t("tasks.none")));
  view.replaceChildren(screen(t("tasks.title"), ...parts));
}
