// The scan screen: the shared scanner component, then what the server knows about the code.
import { request, ApiError } from "/js/api.js";
import { t } from "/js/i18n.js";
import { mountScanner } from "/js/scanner.js";
import { h, screen } from "/js/ui.js";

function describe(answer) {
  if (!answer) return null;
  const kind = answer.kind || "unknown";
  if (kind === "unknown") return t("scan.not_known");
  const name = answer.entity?.name || answer.entity?.label || "";
  return `${t("scan.server_says")}: ${kind}${name ? ` · ${name}` : ""}`;
}

export function render(view) {
  const result = h("section", { id: "scan-result", class: "card", "aria-live": "polite", hidden: true });
  const host = h("div", { class: "scanner-host" });

  async function show(raw, meta = {}) {
    const visible = raw.replace(/\x1d/g, "⟨GS⟩");
    result.hidden = false;
    result.dataset.raw = raw;
    result.dataset.source = meta.source || "";
    const status = h("p", { class: "muted" }, t("app.loading"));
    result.replaceChildren(h("h2", {}, t("scan.result")), h("p", { class: "raw mono" }, visible), status);
    if (!navigator.onLine) {
      status.textContent = t("scan.offline");
      return;
    }
    try {
      const answer = await request("POST", "/api/scans", { body: { raw } });
      result.dataset.kind = answer?.kind || "unknown";
      status.textContent = describe(answer);
    } catch (err) {
      const missing = err instanceof ApiError && (err.status === 404 || err.status === 405);
      status.textContent = err.isNetwork ? t("scan.offline") : missing ? t("scan.lookup_unavailable")
        : err.problem?.detail || t("app.error");
    }
  }

  const scanner = mountScanner(host, { onScan: show });
  view.replaceChildren(screen(t("scan.title"), host, result));
  return { destroy: () => scanner.destroy() };
}
