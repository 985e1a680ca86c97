// Admin: people and roles at this site, API tokens, and (for system administrators) sites.
// These writes carry passwords or secrets, so they are sent at once rather than kept offline.
import { get, writeNow } from "/js/api.js";
import { formatDate, problemText, t } from "/js/i18n.js";
import { state } from "/js/state.js";
import { askDialog, confirmDialog, field, fieldErrors, formValues, h, screen, toast } from "/js/ui.js";

const ROLES = ["assistant", "manager", "inspector", "admin"];

function roleSelect(name, selected) {
  return h("select", { name }, ...ROLES.map((r) => h("option", { value: r, selected: r === selected }, t(`role.${r}`))));
}

async function attempt(form, fn) {
  try {
    await fn();
    return true;
  } catch (err) {
    if (form) fieldErrors(form, err.problem);
    toast(problemText(err.problem), { error: true });
    return false;
  }
}

function peopleSection(site, rerender) {
  const list = h("ul", { class: "list", id: "people" });
  const form = h("form", { class: "card stack", id: "add-person" }, h("h2", {}, t("admin.add_person")),
    field(t("admin.username"), h("input", { name: "username", required: true, autocapitalize: "none", autocomplete: "off" })),
    field(t("admin.display_name"), h("input", { name: "display_name", autocomplete: "off" })),
    field(t("admin.new_password"), h("input", { name: "password", type: "password", autocomplete: "new-password" })),
    field(t("admin.role"), roleSelect("role", "assistant")),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("app.save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    const body = { username: v.username.trim(), role: v.role };
    if (v.password) Object.assign(body, { password: v.password, display_name: v.display_name || v.username });
    if (await attempt(form, () => writeNow("POST", `/api/sites/${site}/members`, body))) rerender();
  });
  async function load() {
    const members = await get(`/api/sites/${site}/members`);
    list.replaceChildren(...members.map((m) => {
      const select = roleSelect("role", m.role);
      select.setAttribute("aria-label", `${t("admin.set_role")}: ${m.display_name}`);
      select.addEventListener("change", async () => {
        if (!(await attempt(null, () => writeNow("PUT", `/api/sites/${site}/members/${m.user_id}`, { role: select.value })))) {
          select.value = m.role;
        }
      });
      return h("li", { class: "list-item", dataset: { username: m.username } },
        h("div", { class: "row-between" }, h("strong", {}, m.display_name), h("span", { class: "muted" }, m.username)),
        select,
        h("div", { class: "row" },
          h("button", { type: "button", class: "btn btn-small", onclick: async () => {
            const pw = await askDialog(`${t("admin.reset_password")}: ${m.display_name}. ${t("admin.new_password")}`,
              { type: "password", minlength: 12 });
            if (!pw) return;
            if (await attempt(null, () => writeNow("POST", `/api/sites/${site}/members/${m.user_id}/password`, { new_password: pw }))) {
              toast(t("admin.reset_done", { name: m.display_name }));
            }
          } }, t("admin.reset_password")),
          h("button", { type: "button", class: "btn btn-small", onclick: async () => {
            if (!(await confirmDialog(t("admin.remove_confirm", { name: m.display_name })))) return;
            if (await attempt(null, () => writeNow("DELETE", `/api/sites/${site}/members/${m.user_id}`))) rerender();
          } }, t("admin.remove"))));
    }));
  }
  return { node: h("section", {}, h("h2", {}, t("admin.people")), list, form), load };
}

function tokenSection(site, rerender) {
  const list = h("ul", { class: "list", id: "tokens" });
  const shown = h("div", { class: "notice notice-ok", hidden: true, role: "status" });
  const form = h("form", { class: "card stack" },
    field(t("admin.token_name"), h("input", { name: "name", required: true, autocomplete: "off" })),
    field(t("admin.role"), roleSelect("role", "inspector")),
    h("button", { type: "submit", class: "btn btn-block" }, t("admin.token_create")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    await attempt(form, async () => {
      const made = await writeNow("POST", `/api/sites/${site}/tokens`, { name: v.name, role: v.role });
      shown.replaceChildren(h("p", {}, t("admin.token_once")), h("code", { class: "mono secret" }, made.token));
      shown.hidden = false;
      form.reset();
      await load();
    });
  });
  async function load() {
    const tokens = await get(`/api/sites/${site}/tokens`);
    list.replaceChildren(...tokens.map((tok) => h("li", { class: "list-item" },
      h("div", { class: "row-between" }, h("strong", {}, tok.name), h("span", { class: "badge" }, t(`role.${tok.role}`))),
      h("span", { class: "muted mono" }, `${tok.prefix}… · ${formatDate(tok.created_at)}`),
      tok.revoked_at ? h("span", { class: "badge badge-alert" }, t("admin.token_revoked"))
        : h("button", { type: "button", class: "btn btn-small", onclick: async () => {
          if (!(await confirmDialog(t("admin.token_revoke_confirm", { name: tok.name })))) return;
          if (await attempt(null, () => writeNow("DELETE", `/api/sites/${site}/tokens/${tok.id}`))) rerender();
        } }, t("admin.token_revoke")))));
  }
  return { node: h("section", {}, h("h2", {}, t("admin.tokens")), shown, list, form), load };
}

function siteSection(rerender) {
  const list = h("ul", { class: "list", id: "sites" });
  const form = h("form", { class: "card stack" }, h("h2", {}, t("admin.add_site")),
    field(t("admin.site_name"), h("input", { name: "name", required: true })),
    field(t("admin.province"), h("input", { name: "province", value: "ON", maxlength: 2 })),
    field(t("admin.timezone"), h("input", { name: "timezone", value: "America/Toronto" })),
    h("button", { type: "submit", class: "btn btn-block" }, t("app.save")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const v = formValues(form);
    if (await attempt(form, () => writeNow("POST", "/api/sites", v))) rerender();
  });
  async function load() {
    const sites = await get("/api/sites");
    list.replaceChildren(...sites.map((s) => h("li", { class: "list-item" },
      h("strong", {}, s.name), h("span", { class: "muted" }, `${s.province} · ${s.timezone}`))));
  }
  return { node: h("section", {}, h("h2", {}, t("admin.sites")), list, form), load };
}

export async function render(view, { rerender, refreshMe }) {
  const site = state.siteId;
  const again = async () => { await refreshMe(); rerender(); };
  const sections = [peopleSection(site, again), tokenSection(site, again)];
  if (state.me.is_superuser && !state.me.via_token) sections.push(siteSection(again));
  await Promise.all(sections.map((s) => s.load()));
  view.replaceChildren(screen(t("admin.title"), ...sections.map((s) => s.node)));
}
