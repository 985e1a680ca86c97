// Places (locations) of the site. Adding one goes through the outbox, so it works offline.
import { get } from "/js/api.js";
import { t } from "/js/i18n.js";
import * as outbox from "/js/outbox.js";
import { role, state } from "/js/state.js";
import { confirmDialog, field, h, screen, toast } from "/js/ui.js";

const KINDS = ["room", "fridge", "freezer", "cabinet", "supply_room"];

function row(place, pending = false) {
  return h("li", { class: `list-item${pending ? " pending" : ""}`, dataset: { name: place.name } },
    h("div", { class: "row-between" }, h("strong", {}, place.name),
      h("span", { class: "badge" }, t(`kind.${place.kind}`))),
    pending ? h("span", { class: "muted" }, t("outbox.pending"))
      : h("span", { class: "muted mono" }, t("places.label", { code: place.label_code })));
}

export async function render(view) {
  const site = state.siteId;
  const canEdit = ["manager", "admin"].includes(role());
  const list = h("ul", { class: "list", id: "places" });

  async function refresh() {
    let places = [];
    try { places = await get(`/api/sites/${site}/locations`); } catch (err) { if (!err.isNetwork) throw err; }
    const waiting = (await outbox.all()).filter((i) => i.url === `/api/sites/${site}/locations` && i.method === "POST");
    list.replaceChildren(...places.map((p) => row(p)), ...waiting.map((i) => row(i.body, true)));
    if (!list.children.length) list.append(h("li", { class: "empty" }, t("places.none")));
    if (canEdit) {
      for (const li of list.querySelectorAll("li:not(.pending)[data-name]")) {
        const place = places.find((p) => p.name === li.dataset.name);
        li.append(h("button", { type: "button", class: "btn btn-small", onclick: async () => {
          if (!(await confirmDialog(t("places.retire_confirm", { name: place.name })))) return;
          await outbox.enqueue({ method: "PATCH", url: `/api/sites/${site}/locations/${place.id}`,
            body: { active: false }, label: `${t("places.retire")}: ${place.name}` });
        } }, t("places.retire")));
      }
    }
  }

  const children = [];
  if (canEdit) {
    const name = h("input", { name: "name", required: true, maxlength: 200, autocomplete: "off" });
    const kind = h("select", { name: "kind" }, ...KINDS.map((k) => h("option", { value: k }, t(`kind.${k}`))));
    const form = h("form", { class: "card stack", id: "add-place" },
      h("h2", {}, t("places.add")), field(t("places.name"), name), field(t("places.kind"), kind),
      h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("app.save")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = name.value.trim();
      if (!value) return name.focus();
      await outbox.enqueue({ method: "POST", url: `/api/sites/${site}/locations`,
        body: { name: value, kind: kind.value }, label: `${t("places.add")}: ${value}` });
      toast(navigator.onLine ? t("places.added", { name: value }) : t("places.queued", { name: value }));
      name.value = "";
      name.focus();
      refresh();
    });
    children.push(form);
  }
  const stop = outbox.onChange((_, event) => { if (event.sent || event.queued || event.rejected) refresh(); });
  await refresh();
  view.replaceChildren(screen(t("places.title"), ...children, list));
  return { destroy: stop };
}
