import { t } from "/js/i18n.js";
import { h, screen } from "/js/ui.js";

// Feature issues (cold chain, cleaning, reprocessing) add their due tasks here.
export async function render(view) {
  const [{ taskList: cleaningTasks }, { taskList: readingTasks }, { taskList: receiveTasks }] = await Promise.all([
    import("/js/views/cleaning.js"), import("/js/views/fridge.js"), import("/js/views/reorder.js")]);
  const [cleaning, readings, deliveries] = await Promise.all([cleaningTasks(), readingTasks(), receiveTasks()]);
  const parts = [];
  if (readings) parts.push(h("section", { class: "stack", id: "tasks-coldchain" }, h("h2", {}, t("cc.due")), readings));
  if (cleaning) parts.push(h("section", { class: "stack", id: "tasks-cleaning" }, h("h2", {}, t("clean.tasks")), cleaning));
  if (deliveries) parts.push(h("section", { class: "stack", id: "tasks-deliveries" }, h("h2", {}, t("reorder.tasks")), deliveries));
  if (!parts.length) parts.push(h("p", { class: "empty" }, t("tasks.none")));
  view.replaceChildren(screen(t("tasks.title"), ...parts));
}
