// The manager's reorder tools beside the order list: cancel an order with a reason, edit a draft's
// lines (packs, price per unit, remove), the suppliers (#/reorder?suppliers=1) and the reports with a
// period to pick (#/reorder?reports=1, every role that reads, inspectors included). Writes go through
// the outbox like every other write.
import { get } from "/js/api.js";
import { formatNumber, lang, t } from "/js/i18n.js";
import { money } from "/js/reorder-charts.js";
import "/js/reorder-strings.js";
import { api, isManager, outcomeNotice, sendWrite } from "/js/stock-actions.js";
import { askDialog, confirmDialog, field, h, screen, toast } from "/js/ui.js";

const rerender = () => import("/js/views/reorder.js").then((m) => m.render(document.getElementById("view")));

/** Run a write; on success toast and redraw the screen, otherwise show the outcome after `anchor`. */
async function write(anchor, request, sentText) {
  anchor.disabled = true;
  anchor.parentElement?.querySelector(".outcome")?.remove();
  const outcome = await sendWrite(request);
  if (outcome.status === "sent") {
    toast(sentText(outcome.result));
    await rerender();
    return;
  }
  anchor.disabled = outcome.status === "queued";
  anchor.after(outcomeNotice(outcome, ""));
}

export function cancelButton(order) {
  const button = h("button", { type: "button", class: "btn btn-small cancel-order" }, t("reorder.cancel"));
  button.addEventListener("click", async () => {
    const reason = (await askDialog(t("reorder.cancel_reason", { number: order.number }), { minlength: 1 }))?.trim();
    if (!reason) return;
    await write(button, { method: "POST", url: api(`/purchase-orders/${order.id}/cancel`), body: { reason },
      label: `${t("reorder.cancel")} · ${order.number}` }, () => t("reorder.cancelled", { number: order.number }));
  });
  return button;
}

function lineEditor(order, line) {
  const packs = h("input", { type: "number", min: "1", max: "100000", step: "1", inputmode: "numeric", name: "packs",
    value: String(line.packs), class: "packs-input" });
  const price = h("input", { type: "number", min: "0", max: "1000000", step: "0.0001", inputmode: "decimal", name: "unit_price",
    value: line.unit_price === null ? "" : String(line.unit_price), class: "price-input" });
  const save = h("button", { type: "submit", class: "btn btn-small save-line" }, t("reorder.save_line"));
  const remove = h("button", { type: "button", class: "btn btn-small remove-line" }, t("reorder.remove_line"));
  const form = h("form", { class: "stack line-form", novalidate: true, dataset: { line: line.id } },
    h("strong", {}, line.item_name),
    h("span", { class: "muted line-value" }, t("reorder.line_value", { units: formatNumber(line.ordered_units), value: money(line.line_value) })),
    h("div", { class: "line-edit" },
      field(t("reorder.packs_for", { name: line.item_name }), packs),
      field(t("reorder.price_for", { name: line.item_name }), price)),
    h("div", { class: "row" }, save, remove));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { packs: Number(packs.value) };
    if (price.value !== "") body.unit_price = Number(price.value);
    await write(save, { method: "PATCH", url: api(`/purchase-orders/${order.id}/lines/${line.id}`), body,
      label: `${t("reorder.save_line")} · ${order.number} · ${line.item_name}` }, () => t("reorder.line_saved", { name: line.item_name }));
  });
  remove.addEventListener("click", async () => {
    if (!(await confirmDialog(t("reorder.confirm_remove", { name: line.item_name, number: order.number })))) return;
    await write(remove, { method: "POST", url: api(`/purchase-orders/${order.id}/lines/${line.id}/remove`), body: {},
      label: `${t("reorder.remove_line")} · ${order.number} · ${line.item_name}` }, () => t("reorder.line_removed", { name: line.item_name }));
  });
  return form;
}

export function draftEditor(order) {
  return h("details", { class: "edit-lines" }, h("summary", {}, t("reorder.edit_lines")),
    h("div", { class: "stack" }, ...order.lines.map((l) => lineEditor(order, l))));
}

// --- suppliers -----------------------------------------------------------------------------------

function supplierForm(supplier) {
  const name = h("input", { name: "name", required: true, maxlength: "200", value: supplier?.name || "", autocomplete: "organization" });
  const email = h("input", { name: "email", type: "email", maxlength: "200", value: supplier?.email || "", autocomplete: "email" });
  const phone = h("input", { name: "phone", type: "tel", maxlength: "40", value: supplier?.phone || "", autocomplete: "tel" });
  const active = h("input", { type: "checkbox", name: "active", checked: supplier ? supplier.active : true });
  const button = h("button", { type: "submit", class: "btn btn-primary btn-block" },
    supplier ? t("reorder.supplier_save") : t("reorder.supplier_add"));
  const form = h("form", { class: "stack supplier-form", novalidate: true, dataset: { supplier: supplier?.id || "new" } },
    field(t("reorder.supplier_name"), name), field(t("reorder.supplier_email"), email), field(t("reorder.supplier_phone"), phone),
    supplier && h("label", { class: "check" }, active, " ", t("reorder.supplier_active")), button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: name.value.trim(), email: email.value.trim(), phone: phone.value.trim() };
    if (supplier) body.active = active.checked;
    const request = supplier
      ? { method: "PATCH", url: api(`/suppliers/${supplier.id}`), body, label: `${t("reorder.supplier_save")} · ${body.name}` }
      : { method: "POST", url: api("/suppliers"), body, label: `${t("reorder.supplier_add")} · ${body.name}` };
    await write(button, request, (r) => t(supplier ? "reorder.supplier_saved" : "reorder.supplier_added", { name: r.name }));
  });
  return form;
}

export async function suppliersScreen(view) {
  const suppliers = await get(api("/suppliers"));
  const list = h("ul", { class: "list", id: "suppliers" }, ...suppliers.map((s) =>
    h("li", { class: "list-item supplier", dataset: { supplier: s.id } },
      h("details", {},
        h("summary", {}, h("strong", {}, s.name), " ",
          h("span", { class: "muted" }, [s.email, s.phone].filter(Boolean).join(" · ")), " ",
          !s.active && h("span", { class: "badge" }, t("reorder.supplier_inactive"))),
        supplierForm(s)))));
  if (!suppliers.length) list.append(h("li", { class: "empty" }, t("reorder.suppliers_none")));
  view.replaceChildren(screen(t("reorder.suppliers"), list,
    h("h2", {}, t("reorder.supplier_add")), supplierForm(null),
    h("a", { href: "#/reorder", class: "link-more" }, t("reorder.back"))));
}

// --- reports -------------------------------------------------------------------------------------

const REPORTS = ["wastage", "expiry_loss", "usage", "valuation"];

export function reportsScreen(view) {
  const today = new Date();
  const iso = (d) => d.toISOString().slice(0, 10);
  const from = h("input", { type: "date", name: "from_date", value: iso(new Date(today.getFullYear() - 1, today.getMonth(), 1)) });
  const to = h("input", { type: "date", name: "to_date", value: iso(today) });
  const links = REPORTS.map((name) => {
    const csv = h("a", { class: "link-more", download: "", dataset: { report: name, format: "csv" } }, "CSV");
    const pdf = h("a", { class: "link-more", download: "", dataset: { report: name, format: "pdf" } }, "PDF");
    return { name, csv, pdf };
  });
  const update = () => {
    for (const { name, csv, pdf } of links) {
      const period = name === "valuation" ? new URLSearchParams() : new URLSearchParams({ from_date: from.value, to_date: to.value });
      csv.href = `${api(`/reorder/reports/${name}.csv`)}?${period}`;
      period.set("lang", lang());
      pdf.href = `${api(`/reorder/reports/${name}.pdf`)}?${period}`;
    }
  };
  from.addEventListener("change", update);
  to.addEventListener("change", update);
  update();
  view.replaceChildren(screen(t("reorder.reports"),
    h("div", { class: "line-edit", id: "report-period" }, field(t("reorder.period_from"), from), field(t("reorder.period_to"), to)),
    h("ul", { class: "list", id: "reports" }, ...links.map(({ name, csv, pdf }) =>
      h("li", { class: "list-item", dataset: { report: name } }, h("strong", {}, t(`reorder.report.${name}`)),
        h("div", { class: "report-links" }, pdf, csv)))),
    isManager() && h("a", { href: "#/reorder", class: "link-more" }, t("reorder.back"))));
}
