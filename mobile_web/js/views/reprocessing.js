// Equipment reprocessing by scan. #/reprocessing?code=<device or pack label>: what the item is, its
// status and the form for its next step (point-of-use clean → clean → inspect → package or disinfect →
// store → use at a visit). Each step goes through the outbox (exactly once); the server refuses a step
// out of order with the reason, shown here in plain words.
import { get } from "/js/api.js";
import "/js/reprocessing-strings.js";
import { problemText, t } from "/js/i18n.js";
import { api, hashParams, isManager, outcomeNotice, sendWrite } from "/js/stock-actions.js";
import { field, h, screen } from "/js/ui.js";

function statusText(status) { return t(`rp.status.${status}`); }

function select(name, options) {
  return h("select", { name }, ...options.map(([value, label]) => h("option", { value }, label)));
}

async function stepForm(found, send) {
  const device = found.device;
  const code = found.pack?.label_code || device.label_code;
  const step = device.next_step;
  const form = h("form", { class: "stack", id: "rp-form", dataset: { step: step || "" } });
  const submit = (label) => h("button", { type: "submit", class: "btn btn-primary btn-block", id: "rp-submit" }, label);
  const bodyOf = (extra) => ({ code, step, ...extra });
  let collect = () => ({});
  if (!step) {
    const packaged = device.status === "packaged";
    const pack = found.pack?.label_code;
    return h("div", { class: "stack" }, h("p", { class: "notice notice-info", id: "rp-wait" }, packaged ? t("rp.in_load") : t("rp.next")),
      packaged && h("a", { class: "btn btn-block", id: "rp-to-load", href: `#/loads${pack ? `?pack=${encodeURIComponent(pack)}` : ""}` },
        t("rp.to_load")));
  }
  if (step === "return" && !isManager()) {
    return h("p", { class: "notice notice-info", id: "rp-wait" }, t("rp.manager_return"));
  }
  if (step === "clean") {
    const method = select("method", ["manual", "ultrasonic", "washer"].map((m) => [m, t(`rp.method.${m}`)]));
    form.append(field(t("rp.method"), method));
    collect = () => ({ method: method.value });
  } else if (step === "inspect") {
    const result = select("result", ["pass", "reclean", "damaged"].map((r) => [r, t(`rp.result.${r}`)]));
    form.append(field(t("rp.step.inspect"), result));
    collect = () => ({ result: result.value });
  } else if (step === "package") {
    const initials = h("input", { name: "initials", required: true, maxlength: 8, autocomplete: "off", autocapitalize: "characters" });
    form.append(field(t("rp.initials"), initials));
    collect = () => ({ initials: initials.value.trim() });
  } else if (step === "disinfect") {
    const hld = device.required_process === "hld";
    const process = select("process", (hld ? ["hld"] : ["lld", "hld"]).map((p) => [p, t(`rp.process.${p}`)]));
    form.append(field(t("rp.process"), process));
    const solutions = (await get(api("/reprocessing/hld/solutions"))).filter((s) => !s.discarded_at);
    const solution = select("solution_id", solutions.map((s) => [String(s.id), `${s.product} · ${s.lot} · ${s.expires_on}`]));
    const soak = h("input", { name: "soak_minutes", type: "number", inputmode: "numeric", min: 1, max: 600 });
    const temp = h("input", { name: "temperature_c", inputmode: "decimal", maxlength: 16 });
    const hldFields = h("div", { class: "stack", id: "rp-hld" }, solutions.length ? field(t("rp.solution"), solution)
      : h("p", { class: "notice notice-warn" }, t("rp.no_solution")), field(t("rp.soak"), soak), field(t("rp.temperature"), temp));
    const toggle = () => { hldFields.hidden = process.value !== "hld"; };
    process.addEventListener("change", toggle);
    toggle();
    form.append(hldFields);
    collect = () => process.value !== "hld" ? { process: "lld" } : {
      process: "hld", solution_id: Number(solution.value) || null, soak_minutes: Number(soak.value) || null,
      temperature_c: temp.value.trim() || null,
    };
  } else if (step === "use") {
    const visit = h("input", { name: "visit_code", required: true, maxlength: 64, pattern: "[A-Za-z0-9._\\-]+", autocomplete: "off" });
    form.append(field(t("rp.visit"), visit));
    collect = () => ({ visit_code: visit.value.trim() });
  }
  const button = submit(t(`rp.step.${step}`));
  form.append(button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    await send(bodyOf(collect()), form, button);
  });
  return form;
}

export async function render(view) {
  const code = hashParams().get("code") || "";

  async function draw(carried = []) {
    const found = await get(api(`/reprocessing/scan?code=${encodeURIComponent(code || "")}`));
    if (!found.device) {
      view.replaceChildren(screen(t("rp.title"), h("p", { class: "empty", id: "rp-unknown" }, t("rp.not_found"))));
      return;
    }
    const device = found.device;
    const notices = h("div", { id: "rp-notices", "aria-live": "polite" }, ...carried);
    const head = h("div", { class: "card stack", id: "rp-device", dataset: { status: device.status } },
      h("h2", {}, device.name),
      found.pack && h("p", { class: "mono" }, t("rp.pack", { code: found.pack.label_code })),
      h("p", {}, h("strong", {}, `${t("rp.status")}: `), h("span", { id: "rp-status" }, statusText(device.status))),
      h("p", { class: "muted" }, device.single_use ? t("rp.single_use") : t(`rp.class.${device.spaulding}`)));

    async function send(body, _form, button) {
      const outcome = await sendWrite({ method: "POST", url: api("/reprocessing/steps"), body,
        label: `${t("rp.title")}: ${device.name}` });
      if (outcome.status === "rejected") {
        button.disabled = false;
        notices.replaceChildren(outcomeNotice(outcome, ""));
        return;
      }
      const result = outcome.result;
      const parts = [outcomeNotice(outcome, result ? t("rp.done", { status: statusText(result.device.status) }) : "")];
      if (result?.pack) {
        parts.push(h("p", { class: "notice notice-info", id: "rp-packed" }, t("rp.packed", { code: result.pack.label_code })),
          h("a", { class: "btn btn-block", id: "rp-label", target: "_blank", rel: "noopener",
            href: api(`/reprocessing/packs/${result.pack.id}/label.pdf`) }, t("rp.label")));
      }
      if (outcome.status === "sent") await draw(parts);
      else notices.replaceChildren(...parts);
    }

    let form;
    try {
      form = await stepForm(found, send);
    } catch (err) {
      form = h("p", { class: "notice notice-alert" }, problemText(err.problem));
    }
    view.replaceChildren(screen(t("rp.title"), notices, head, found.next_step ? h("h2", {}, t("rp.next")) : null, form));
  }

  await draw();
  return {};
}
