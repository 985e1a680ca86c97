// Reprocessing equipment. #/equipment: high-level disinfectant solutions (activate one, test its
// minimum effective concentration before each use, discard it), and for managers the devices and
// sets (Spaulding class, single-use, instructions) and sterilizers, each with its label to print.
import { get } from "/js/api.js";
import "/js/reprocessing-strings.js";
import { t } from "/js/i18n.js";
import { api, isManager, outcomeNotice, sendWrite } from "/js/stock-actions.js";
import { field, h, screen } from "/js/ui.js";

function select(name, options) {
  return h("select", { name }, ...options.map(([value, label]) => h("option", { value }, label)));
}

function input(name, attrs = {}) {
  return h("input", { name, autocomplete: "off", ...attrs });
}

export async function render(view) {
  async function draw(carried = []) {
    const manager = isManager();
    const [solutions, devices, sterilizers] = await Promise.all([get(api("/reprocessing/hld/solutions")),
      manager ? get(api("/reprocessing/devices")) : [], manager ? get(api("/reprocessing/sterilizers")) : []]);
    const notices = h("div", { id: "rp-notices", "aria-live": "polite" }, ...carried);

    async function send(path, body, source) {
      if (source) source.disabled = true;
      const outcome = await sendWrite({ method: "POST", url: api(path), body, label: t("rp.equipment") });
      if (outcome.status === "rejected") {
        if (source) source.disabled = false;
        notices.replaceChildren(outcomeNotice(outcome, ""));
        return;
      }
      const note = outcomeNotice(outcome, t("rp.saved"));
      if (outcome.status === "sent") await draw([note]);
      else notices.replaceChildren(note);
    }

    function serviceForm(s) {
      const note = input("note", { maxlength: 1000 });
      const path = `/reprocessing/sterilizers/${s.id}/${s.in_service ? "out-of-service" : "in-service"}`;
      return form(`rp-service-${s.id}`, s.in_service ? t("rp.take_out") : t("rp.put_back"), [field(t("rp.why"), note)],
        (button) => send(path, { note: note.value.trim() }, button));
    }

    function logForm(s) {
      const kind = select("kind", [["maintenance", t("rp.log.maintenance")], ["repair", t("rp.log.repair")]]);
      const note = input("note", { maxlength: 1000 });
      return form(`rp-log-${s.id}`, t("rp.log_entry"), [field(t("rp.log_kind"), kind), field(t("rp.what"), note)],
        (button) => send(`/reprocessing/sterilizers/${s.id}/log`, { kind: kind.value, note: note.value.trim() }, button));
    }

    function form(id, title, fields, submit) {
      const button = h("button", { type: "submit", class: "btn btn-primary btn-block" }, title);
      const f = h("form", { class: "card stack", id }, h("h3", {}, title), ...fields, button);
      f.addEventListener("submit", (e) => { e.preventDefault(); submit(button); });
      return f;
    }

    const parts = [notices, h("h2", {}, t("rp.solutions"))];
    const live = solutions.filter((s) => !s.discarded_at);
    parts.push(live.length ? h("ul", { class: "list", id: "rp-solutions" }, ...live.map((s) => {
      const passed = select("passed", [["true", t("rp.ci.pass")], ["false", t("rp.ci.fail")]]);
      const strip = input("strip_lot", { maxlength: 40 });
      const expiry = input("strip_expires_on", { type: "date" });
      const test = form(`rp-mec-${s.id}`, t("rp.mec_test"), [field(t("rp.result"), passed), field(t("rp.strip_lot"), strip),
        field(t("rp.strip_expiry"), expiry)], (button) => send(`/reprocessing/hld/solutions/${s.id}/mec-tests`,
        { passed: passed.value === "true", strip_lot: strip.value.trim(), strip_expires_on: expiry.value }, button));
      return h("li", { class: "list-item", dataset: { id: s.id } }, h("strong", {}, `${s.product} · ${s.lot}`),
        h("span", { class: "muted" }, t("rp.reuse_until", { day: s.expires_on })), test,
        h("button", { type: "button", class: "btn btn-small", onclick: (e) => send(`/reprocessing/hld/solutions/${s.id}/discard`, null, e.target) },
          t("rp.discard")));
    })) : h("p", { class: "empty" }, t("rp.no_solution")));
    const product = input("product", { maxlength: 200 });
    const lot = input("lot", { maxlength: 40 });
    const activated = input("activated_on", { type: "date" });
    const days = input("reuse_life_days", { type: "number", inputmode: "numeric", min: 1, max: 365 });
    parts.push(form("rp-add-solution", t("rp.add_solution"), [field(t("rp.product"), product), field(t("rp.lot"), lot),
      field(t("rp.activated"), activated), field(t("rp.reuse_days"), days)], (button) => send("/reprocessing/hld/solutions",
      { product: product.value.trim(), lot: lot.value.trim(), activated_on: activated.value, reuse_life_days: Number(days.value) }, button)));

    if (manager) {
      parts.push(h("h2", {}, t("rp.devices")), h("ul", { class: "list", id: "rp-devices" }, ...devices.map((d) => h("li", { class: "list-item" },
        h("div", { class: "row-between" }, h("strong", {}, d.name), h("span", { class: "badge" }, t(`rp.status.${d.status}`))),
        h("span", { class: "muted" }, d.single_use ? t("rp.single_use") : t(`rp.class.${d.spaulding}`)),
        h("a", { class: "link-more", target: "_blank", rel: "noopener", href: api(`/reprocessing/devices/${d.id}/label.pdf`) }, t("rp.print_label"))))));
      const name = input("name", { maxlength: 200 });
      const kind = select("kind", [["device", t("rp.kind.device")], ["set", t("rp.kind.set")]]);
      const cls = select("spaulding", ["critical", "semi_critical", "non_critical"].map((c) => [c, t(`rp.class.${c}`)]));
      const single = h("input", { type: "checkbox", name: "single_use" });
      const mifu = input("mifu", { maxlength: 500 });
      parts.push(form("rp-add-device", t("rp.add_device"), [field(t("rp.name"), name), field(t("rp.kind"), kind),
        field(t("rp.class"), cls), h("label", { class: "check" }, single, " ", t("rp.single_use_flag")), field(t("rp.mifu"), mifu)],
      (button) => send("/reprocessing/devices", { name: name.value.trim(), kind: kind.value, spaulding: cls.value,
        single_use: single.checked, mifu: mifu.value.trim() }, button)));

      parts.push(h("h2", {}, t("rp.sterilizers")), h("ul", { class: "list", id: "rp-sterilizers" }, ...sterilizers.map((s) => h("li", { class: "list-item" },
        h("div", { class: "row-between" }, h("strong", {}, s.name),
          h("span", { class: s.in_service ? "badge" : "badge badge-alert" }, s.in_service ? t("rp.in_service") : t("rp.status.out_of_service"))),
        h("span", { class: "muted" }, `${s.model} · ${s.serial} · ${t(`rp.type.${s.kind}`)} · ${s.cycle_types.join(", ")}`),
        serviceForm(s), logForm(s)))));
      const sName = input("name", { maxlength: 200 });
      const model = input("model", { maxlength: 200 });
      const serial = input("serial", { maxlength: 100 });
      const type = select("kind", [["pre_vacuum", t("rp.type.pre_vacuum")], ["gravity", t("rp.type.gravity")]]);
      const cycles = input("cycle_types", { maxlength: 200, value: "wrapped, unwrapped" });
      parts.push(form("rp-add-sterilizer", t("rp.add_sterilizer"), [field(t("rp.name"), sName), field(t("rp.model"), model),
        field(t("rp.serial"), serial), field(t("rp.type"), type), field(t("rp.cycles"), cycles)],
      (button) => send("/reprocessing/sterilizers", { name: sName.value.trim(), model: model.value.trim(), serial: serial.value.trim(),
        kind: type.value, cycle_types: cycles.value.split(",").map((c) => c.trim().toLowerCase()).filter(Boolean) }, button)));
    }
    view.replaceChildren(screen(t("rp.equipment"), ...parts));
  }
  await draw();
  return {};
}
