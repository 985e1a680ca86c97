// The scan screen: the shared scanner component, then what can be done with what was scanned.
import { ApiError } from "/js/api.js";
import { problemText, t } from "/js/i18n.js";
import { mountScanner } from "/js/scanner.js";
import { actionSheet, resolveScan } from "/js/stock-actions.js";
import { h, screen } from "/js/ui.js";

export function render(view) {
  const result = h("section", { id: "scan-result", class: "card", "aria-live": "polite", "aria-label": t("scan.result"), hidden: true });
  const host = h("div", { class: "scanner-host" });
  let sheet = null;
  let seq = 0;

  function place(nodes) {
    sheet?.destroy();
    sheet = null;
    result.replaceChildren(...nodes);
  }

  async function lookUp(raw, mine, outcome = null) {
    const visible = raw.replace(/\x1d/g, "⟨GS⟩");
    const rawLine = h("p", { class: "raw mono muted" }, visible);
    try {
      const answer = await resolveScan(raw);
      if (mine !== seq) return;
      result.dataset.kind = answer?.kind || "unknown";
      const made = actionSheet(answer, { raw, outcome, refresh: (notice) => lookUp(raw, mine, notice) });
      place([rawLine, made.node]);
      sheet = made;
    } catch (err) {
      if (mine !== seq) return;
      const missing = err instanceof ApiError && (err.status === 404 || err.status === 405);
      const text = err.isNetwork ? t("scan.offline") : missing ? t("scan.lookup_unavailable") : problemText(err.problem);
      place([h("h2", {}, t("scan.result")), rawLine, outcome, h("p", { class: "muted", role: "status" }, text)]);
    }
  }

  function show(raw, meta = {}) {
    const mine = ++seq;
    result.hidden = false;
    result.dataset.raw = raw;
    result.dataset.source = meta.source || "";
    delete result.dataset.kind;
    place([h("h2", {}, t("scan.result")), h("p", { class: "raw mono" }, raw.replace(/\x1d/g, "⟨GS⟩")),
      h("p", { class: "muted" }, t("app.loading"))]);
    lookUp(raw, mine);
  }

  const scanner = mountScanner(host, { onScan: show });
  view.replaceChildren(screen(t("scan.title"), host, result));
  return { destroy: () => { seq += 1; sheet?.destroy(); scanner.destroy(); } };
}
