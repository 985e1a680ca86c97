// Labels (managers and admins): pick what to print, the sheet and start position, preview one label,
// download the PDF or send it to a label printer. Online only: printing needs the server's renderer.
import { ApiError, get, writeNow } from "/js/api.js";
import { problemText, t } from "/js/i18n.js";
import "/js/labels-strings.js";
import { state } from "/js/state.js";
import { field, h, screen, toast } from "/js/ui.js";

const WHAT = ["locations", "rooms", "lots", "items"];

/** POST returning a Blob (SVG, PDF); problems come back as ApiError like every other call. */
async function postBlob(path, body) {
  let resp;
  try {
    resp = await fetch(path, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRF-Token": state.me?.csrf_token ?? "" },
    });
  } catch {
    throw new ApiError(0, { code: "network" });
  }
  if (!resp.ok) {
    let problem = null;
    try { problem = await resp.json(); } catch { /* not JSON */ }
    throw new ApiError(resp.status, problem);
  }
  return resp.blob();
}

function fail(err) {
  toast(err instanceof ApiError ? problemText(err.problem) : t("app.error"), { error: true });
}

export async function render(view) {
  const site = state.siteId;
  const base = `/api/sites/${site}/labels`;
  const options = await get(`${base}/options`);
  let what = "locations";
  let sources = [];
  let previewUrl = null;

  const list = h("ul", { class: "list labels-sources", id: "label-sources" });
  const count = h("p", { class: "muted", "aria-live": "polite" });
  const all = h("input", { type: "checkbox", class: "labels-check", id: "labels-all" });
  const format = h("select", { name: "format" }, ...options.formats.map((f) => h("option", { value: f.name }, f.title)));
  const start = h("input", { type: "number", name: "start", min: 1, max: 30, value: 1, inputmode: "numeric" });
  const copies = h("input", { type: "number", name: "copies", min: 1, max: 100, value: 1, inputmode: "numeric" });
  const cut = h("input", { type: "checkbox", name: "cut_lines", class: "labels-check", id: "labels-cut" });
  const startField = field(t("labels.start"), start);
  const cutField = h("div", { class: "labels-check-row" }, cut, h("label", { for: "labels-cut" }, t("labels.cut_lines")));
  const preview = h("div", { class: "labels-preview", id: "label-preview" });

  const segButtons = WHAT.map((name) => h("button", {
    type: "button", class: "seg-btn", dataset: { what: name }, "aria-pressed": String(name === what),
    onclick: () => { what = name; for (const b of segButtons) b.setAttribute("aria-pressed", String(b.dataset.what === what)); load(); },
  }, t(`labels.what_${name}`)));

  function chosen() {
    return [...list.querySelectorAll("input[type=checkbox]:checked")].map((el) => Number(el.value));
  }

  function showCount() {
    count.textContent = t("labels.chosen", { n: chosen().length });
    all.checked = sources.length > 0 && chosen().length === sources.filter((s) => !s.problem).length;
  }

  function request() {
    const sheet = options.formats.find((f) => f.name === format.value);
    return {
      what, ids: chosen(), format: format.value, copies: Math.max(1, Math.min(100, Number(copies.value) || 1)),
      start: sheet.per_page > 1 ? Math.max(1, Math.min(sheet.per_page, Number(start.value) || 1)) : 1,
      cut_lines: cut.checked,
    };
  }

  // Places carry their kind (translated like on Places); lots their number and expiry.
  const detail = (text) => (what === "locations" || what === "rooms" ? t(`kind.${text}`) : text);

  function row(source) {
    const id = `label-src-${source.id}`;
    const check = h("input", { type: "checkbox", class: "labels-check", id, value: source.id, disabled: Boolean(source.problem),
      onchange: showCount });
    const li = h("li", { class: "list-item labels-source" },
      h("div", { class: "labels-check-row" }, check,
        h("label", { for: id }, h("strong", {}, source.name), source.detail ? h("span", { class: "muted" }, ` · ${detail(source.detail)}`) : null)),
      source.code ? h("span", { class: "muted mono labels-code" }, source.code) : null);
    if (source.problem === "item_has_no_code") {
      li.append(h("span", { class: "muted" }, t("labels.no_code")),
        h("button", { type: "button", class: "btn btn-small", onclick: async () => {
          try {
            const given = await writeNow("POST", `${base}/item-codes`, { item_id: source.id });
            toast(t("labels.code_given", { code: given.code, name: source.name }));
            await load();
          } catch (err) { fail(err); }
        } }, t("labels.give_code")));
    }
    return li;
  }

  async function load() {
    sources = await get(`${base}/sources?what=${what}`);
    list.replaceChildren(...sources.map(row));
    if (!sources.length) list.append(h("li", { class: "empty" }, t("labels.none")));
    // Places and doors are usually printed all at once; lots and items one by one.
    if (what === "locations" || what === "rooms") for (const el of list.querySelectorAll("input:not(:disabled)")) el.checked = true;
    showCount();
  }

  function ready() {
    if (chosen().length) return true;
    toast(t("labels.pick_first"), { error: true });
    return false;
  }

  async function showPreview() {
    if (!ready()) return;
    try {
      const blob = await postBlob(`${base}/preview`, request());
      if (previewUrl) URL.revokeObjectURL(previewUrl);
      previewUrl = URL.createObjectURL(blob);
      preview.replaceChildren(h("img", { src: previewUrl, alt: t("labels.preview_alt"), class: "labels-preview-img" }));
    } catch (err) { fail(err); }
  }

  async function download() {
    if (!ready()) return;
    const body = request();
    try {
      const blob = await postBlob(`${base}/pdf`, body);
      const url = URL.createObjectURL(blob);
      const a = h("a", { href: url, download: `labels-${body.format}.pdf`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      toast(t("labels.downloaded", { n: body.ids.length * body.copies }));
    } catch (err) { fail(err); }
  }

  all.addEventListener("change", () => {
    for (const el of list.querySelectorAll("input:not(:disabled)")) el.checked = all.checked;
    showCount();
  });
  format.addEventListener("change", () => {
    const sheet = options.formats.find((f) => f.name === format.value);
    start.max = sheet.per_page;
    startField.hidden = sheet.per_page === 1;
    cutField.hidden = sheet.per_page === 1;
  });

  const printing = [];
  if (options.printers.length) {
    const printer = h("select", { name: "printer" }, ...options.printers.map((p) => h("option", { value: p.name }, p.name)));
    printing.push(h("div", { class: "card stack" }, field(t("labels.printer"), printer),
      h("button", { type: "button", class: "btn btn-block", id: "labels-send", onclick: async () => {
        if (!ready()) return;
        try {
          const sent = await writeNow("POST", `${base}/print`, { ...request(), printer: printer.value });
          toast(t("labels.sent", { n: sent.labels, printer: sent.printer }));
        } catch (err) { fail(err); }
      } }, t("labels.send"))));
  }

  await load();
  view.replaceChildren(screen(t("labels.title"),
    h("div", { class: "segmented labels-what", role: "group", "aria-label": t("labels.what") }, ...segButtons),
    h("section", { class: "card", "aria-label": t("labels.pick") },
      h("div", { class: "labels-check-row" }, all, h("label", { for: "labels-all" }, t("labels.all"))), count, list),
    h("div", { class: "card stack" }, field(t("labels.format"), format), startField, field(t("labels.copies"), copies), cutField),
    h("div", { class: "labels-buttons" },
      h("button", { type: "button", class: "btn", id: "labels-preview", onclick: showPreview }, t("labels.preview")),
      h("button", { type: "button", class: "btn btn-primary", id: "labels-download", onclick: download }, t("labels.download"))),
    preview, ...printing));
  return { destroy: () => { if (previewUrl) URL.revokeObjectURL(previewUrl); } };
}
