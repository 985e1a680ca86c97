// Counts: start a count of one place, count each lot (stepper, "matches", or scan each box), review the
// differences, and (managers) post them as adjustments. #/count, #/count?id=<count>, #/count?location=<id>.
import { get } from "/js/api.js";
import { formatDateTime, formatNumber, t } from "/js/i18n.js";
import { mountScanner } from "/js/scanner.js";
import {
  api, expiryText, hashParams, isManager, loadPlaces, outcomeNotice, placeSelect, resolveScan, sendWrite, statusBadge, stepper,
} from "/js/stock-actions.js";
import { confirmDialog, field, h, screen } from "/js/ui.js";

const REASONS = ["count", "found", "missing", "data_entry"];
const SAVE_AFTER_MS = 700;
let carried = null; // the server's answer to show on top after the screen is drawn again

function countSummary(c) {
  return t("count.progress", { counted: c.counted, lines: c.lines });
}

function statusOf(c) {
  return h("span", { class: `badge count-status${c.status === "open" ? "" : " badge-done"}`, dataset: { status: c.status } },
    t(`count.status.${c.status}`));
}

async function startScreen(view, placeId, lotId) {
  const [places, counts] = await Promise.all([loadPlaces(), get(api("/counts?limit=20"))]);
  const open = counts.filter((c) => c.status === "open");
  const already = placeId && open.find((c) => c.location_id === placeId);
  if (already) {
    location.replace(`#/count?id=${already.id}${lotId ? `&lot=${lotId}` : ""}`);
    return null;
  }
  const place = placeSelect(places, { name: "location_id", selected: placeId, label: t("count.place") });
  const note = h("input", { name: "note", maxlength: 1000, autocomplete: "off" });
  const button = h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("count.start"));
  const form = h("form", { class: "card stack", id: "start-count" }, h("h2", {}, t("count.start_title")),
    h("p", { class: "muted" }, t("count.start_hint")), place.node, field(t("count.note"), note), button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    form.querySelector(".outcome")?.remove();
    const chosen = place.select.selectedOptions[0]?.textContent || "";
    const outcome = await sendWrite({ method: "POST", url: api("/counts"), body: { location_id: Number(place.select.value), note: note.value.trim() },
      label: `${t("count.start")} · ${chosen}` });
    if (outcome.status === "sent") {
      location.hash = `#/count?id=${outcome.result.count.id}${lotId ? `&lot=${lotId}` : ""}`;
      return;
    }
    button.disabled = outcome.status === "queued";
    form.append(outcomeNotice(outcome, ""));
  });
  const row = (c) => h("li", { class: "list-item", dataset: { countId: c.id } },
    h("a", { href: `#/count?id=${c.id}`, class: "row-between count-link" }, h("strong", {}, c.location_name), statusOf(c)),
    h("span", { class: "muted" }, `${countSummary(c)} · ${formatDateTime(c.started_at)} · ${c.started_by}`));
  const openList = h("ul", { class: "list", id: "open-counts" }, ...open.map(row));
  if (!open.length) openList.append(h("li", { class: "empty" }, t("count.none_open")));
  const closed = counts.filter((c) => c.status !== "open").slice(0, 5);
  view.replaceChildren(screen(t("count.title"),
    h("h2", {}, t("count.open")), openList, form,
    closed.length > 0 && h("h2", {}, t("count.recent")), closed.length > 0 && h("ul", { class: "list", id: "closed-counts" }, ...closed.map(row))));
  return null;
}

function varianceText(v) {
  if (v === null) return t("count.not_counted");
  if (v === 0) return t("count.matches");
  return v > 0 ? t("count.more_n", { n: v }) : t("count.fewer_n", { n: -v });
}

async function countScreen(view, countId, { rerender }, focusLot) {
  const detail = await get(api(`/counts/${countId}`));
  const c = detail.count;
  const isOpen = c.status === "open";
  const lines = new Map(); // lot_id -> {line, counted, ui}
  const saving = new Map(); // lot_id -> {timer, promise}
  const listEl = h("ul", { class: "list count-lines", id: "count-lines" });
  const review = h("section", { class: "card stack", id: "count-review", "aria-labelledby": "review-title" });
  const scanStatus = h("p", { class: "scan-count-status", role: "status", "aria-live": "polite" });
  let scanner = null;

  function schedule(lotId) {
    const entry = saving.get(lotId) || {};
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => save(lotId), SAVE_AFTER_MS);
    saving.set(lotId, entry);
    mark(lotId, "dirty");
  }

  function save(lotId) {
    const entry = saving.get(lotId) || {};
    clearTimeout(entry.timer);
    entry.timer = null;
    const state = lines.get(lotId);
    if (!state || state.counted === null) return Promise.resolve();
    mark(lotId, "saving");
    const value = state.counted;
    entry.promise = sendWrite({ method: "PUT", url: api(`/counts/${countId}/lines`), body: { lot_id: lotId, counted: value },
      label: t("count.line_label", { lot: state.line.lot_number, n: value, place: c.location_name }) })
      .then((outcome) => {
        if (state.counted !== value) return; // changed again meanwhile: that save reports
        if (outcome.status === "sent") {
          state.line = { ...state.line, ...outcome.result };
          mark(lotId, "saved");
        } else mark(lotId, outcome.status, outcome);
      });
    saving.set(lotId, entry);
    return entry.promise;
  }

  async function saveAll() {
    const dirty = [...saving.entries()].filter(([, e]) => e.timer).map(([lotId]) => save(lotId));
    await Promise.all([...dirty, ...[...saving.values()].map((e) => e.promise)]);
  }

  function mark(lotId, status, outcome = null) {
    const state = lines.get(lotId);
    if (!state) return;
    state.ui.li.dataset.state = status;
    state.ui.saved.replaceChildren(status === "rejected" ? outcomeNotice(outcome, "")
      : status === "saving" || status === "dirty" ? t("count.saving") : status === "queued" ? t("count.queued")
        : status === "saved" ? t("count.saved") : "");
    drawVariance(lotId);
    drawReview();
  }

  function drawVariance(lotId) {
    const { line, counted, ui } = lines.get(lotId);
    const v = counted === null ? null : counted - line.on_hand;
    ui.variance.textContent = varianceText(v);
    ui.variance.className = `count-variance${v === null ? " muted" : v === 0 ? " variance-ok" : " variance-off"}`;
    ui.li.dataset.variance = v === null ? "" : String(v);
  }

  function lineItem(line) {
    const state = { line, counted: line.counted };
    lines.set(line.lot_id, state);
    const li = h("li", { class: "list-item count-line", dataset: { lotId: line.lot_id, lot: line.lot_number } });
    const variance = h("span", { class: "count-variance" });
    const saved = h("span", { class: "count-saved muted", "aria-live": "polite" });
    state.ui = { li, variance, saved };
    const headline = h("div", { class: "row-between" }, h("strong", {}, line.item_name),
      line.found ? h("span", { class: "badge" }, t("count.found")) : null);
    const lotText = h("span", {}, h("span", { class: "mono" }, t("stock.lot_n", { lot: line.lot_number })), " · ", expiryText(line.expiry), " ",
      line.lot_status !== "available" ? statusBadge(line.lot_status, line.expiry) : null);
    const recorded = h("span", { class: "muted" }, t("count.on_record", { n: line.on_hand }));
    if (!isOpen) {
      li.append(headline, lotText, recorded, h("span", {}, t("count.counted_n", { n: line.counted ?? "–" })), variance);
      drawVariance(line.lot_id);
      return li;
    }
    const qty = stepper({ label: t("count.how_many", { lot: line.lot_number }), name: `counted-${line.lot_id}`, value: line.counted,
      min: 0, allowEmpty: true, onChange: (v) => { state.counted = v; drawVariance(line.lot_id); drawReview(); if (v !== null) schedule(line.lot_id); } });
    state.ui.stepper = qty;
    const same = h("button", { type: "button", class: "btn btn-small count-same", onclick: () => {
      qty.value = state.line.on_hand;
      state.counted = state.line.on_hand;
      schedule(line.lot_id);
    } }, t("count.same_n", { n: line.on_hand }));
    li.append(headline, lotText, recorded, qty.node, h("div", { class: "row-between count-line-foot" }, same, variance), saved);
    drawVariance(line.lot_id);
    return li;
  }

  function drawReview() {
    const all = [...lines.values()];
    const off = all.filter((s) => s.counted !== null && s.counted !== s.line.on_hand);
    const notCounted = all.filter((s) => s.counted === null).length;
    const kept = new Map([...review.querySelectorAll("select[data-lot-id]")].map((s) => [Number(s.dataset.lotId), s.value]));
    const items = off.map((s) => {
      const v = s.counted - s.line.on_hand;
      const reason = h("select", { name: "reason", dataset: { lotId: s.line.lot_id } },
        ...REASONS.map((r) => h("option", { value: r, selected: (kept.get(s.line.lot_id) ?? "count") === r }, t(`adjust.${r}`))));
      return h("li", { class: "list-item review-line", dataset: { lotId: s.line.lot_id, variance: v } },
        h("div", { class: "row-between" }, h("strong", {}, `${s.line.item_name} · ${t("stock.lot_n", { lot: s.line.lot_number })}`)),
        h("span", {}, t("count.review_line", { from: s.line.on_hand, to: s.counted }), " ",
          h("strong", { class: "variance-off" }, varianceText(v))),
        isOpen && isManager() ? field(t("count.reason"), reason) : null);
    });
    const children = [h("h2", { id: "review-title" }, t("count.review")),
      items.length ? h("ul", { class: "list" }, ...items) : h("p", { class: "muted" }, t("count.no_differences")),
      notCounted ? h("p", { class: "muted", id: "not-counted" }, t("count.left_alone", { n: notCounted })) : null];
    if (isOpen && isManager()) {
      children.push(h("button", { type: "button", class: "btn btn-primary btn-block", id: "post-count", onclick: post },
        items.length ? t("count.post_n", { n: items.length }) : t("count.post_none")));
    } else if (isOpen) {
      children.push(h("p", { class: "notice notice-info" }, t("count.manager_posts")));
    }
    review.replaceChildren(...children);
  }

  async function post() {
    const button = review.querySelector("#post-count");
    const off = [...lines.values()].filter((s) => s.counted !== null && s.counted !== s.line.on_hand);
    const question = off.length ? t("count.post_confirm", { n: off.length, place: c.location_name }) : t("count.post_confirm_none");
    if (!(await confirmDialog(question))) return;
    button.disabled = true;
    await saveAll();
    const reasons = {};
    for (const select of review.querySelectorAll("select[data-lot-id]")) reasons[select.dataset.lotId] = select.value;
    const outcome = await sendWrite({ method: "POST", url: api(`/counts/${countId}/post`), body: { reasons },
      label: `${t("count.post")} · ${c.location_name}` });
    if (outcome.status === "sent") {
      const n = outcome.result.adjustments.length;
      carried = { countId, notice: outcomeNotice(outcome, t("count.posted", { n })) };
      rerender();
      return;
    }
    button.disabled = outcome.status === "queued";
    review.querySelector(".outcome")?.remove();
    review.append(outcomeNotice(outcome, ""));
  }

  async function cancel() {
    if (!(await confirmDialog(t("count.cancel_confirm", { place: c.location_name })))) return;
    await saveAll();
    const outcome = await sendWrite({ method: "POST", url: api(`/counts/${countId}/cancel`), label: `${t("count.cancel")} · ${c.location_name}` });
    carried = { countId, notice: outcomeNotice(outcome, t("count.cancelled")) };
    rerender();
  }

  async function onScan(raw) {
    scanStatus.textContent = t("app.loading");
    let answer;
    try {
      answer = await resolveScan(raw);
    } catch (err) {
      scanStatus.textContent = err.isNetwork ? t("scan.offline") : t("app.error");
      return;
    }
    if (answer.kind !== "lot") {
      scanStatus.textContent = answer.kind === "item" ? t("count.scan_new_lot", { lot: answer.prefill?.lot_number || "?" })
        : answer.kind === "unknown" ? t("count.scan_unknown") : t("count.scan_not_lot");
      return;
    }
    const lotId = answer.entity.id;
    const step = Math.max(1, answer.prefill?.pack_qty || 1);
    let state = lines.get(lotId);
    if (!state) {
      const here = (answer.levels || []).find((l) => l.location_id === c.location_id);
      const li = lineItem({ lot_id: lotId, item_id: answer.item.id, item_name: answer.item.name, lot_number: answer.entity.lot_number,
        serial: "", expiry: answer.entity.expiry, lot_status: answer.entity.status, expected: 0, counted: null,
        on_hand: here?.on_hand ?? 0, variance: null, found: true });
      listEl.querySelector(".empty")?.remove();
      listEl.prepend(li);
      state = lines.get(lotId);
    }
    const next = (state.counted ?? 0) + step;
    state.counted = next;
    state.ui.stepper.value = next;
    schedule(lotId);
    highlight(lotId);
    scanStatus.textContent = t("count.scanned", { lot: state.line.lot_number, n: next });
  }

  function highlight(lotId) {
    const li = lines.get(lotId)?.ui.li;
    if (!li) return;
    for (const el of listEl.querySelectorAll(".count-line-hit")) el.classList.remove("count-line-hit");
    li.classList.add("count-line-hit");
    li.scrollIntoView?.({ block: "nearest" });
  }

  for (const line of detail.lines) listEl.append(lineItem(line));
  if (!detail.lines.length) listEl.append(h("li", { class: "empty" }, t("count.no_lines")));
  drawReview();

  const head = h("div", { class: "card stack count-head" },
    h("div", { class: "row-between" }, h("strong", {}, c.location_name), statusOf(c)),
    h("span", { class: "muted" }, t("count.started", { who: c.started_by, when: formatDateTime(c.started_at) })),
    c.closed_at && h("span", { class: "muted" }, t(`count.closed.${c.status}`, { who: c.closed_by, when: formatDateTime(c.closed_at) })),
    c.note && h("p", {}, c.note));
  const children = [];
  if (carried?.countId === countId) children.push(carried.notice);
  carried = null;
  children.push(head);
  if (isOpen) {
    const scanHost = h("div", { class: "scanner-host" });
    children.push(h("details", { class: "card count-scan", open: true },
      h("summary", {}, t("count.scan_title")), h("p", { class: "muted" }, t("count.scan_hint")), scanHost, scanStatus));
    scanner = mountScanner(scanHost, { onScan });
  }
  children.push(h("h2", {}, t("count.lines")), listEl, review);
  if (isOpen) children.push(h("button", { type: "button", class: "btn btn-danger btn-block", id: "cancel-count", onclick: cancel }, t("count.cancel")));
  children.push(h("a", { href: "#/count", class: "link-more" }, t("count.all")));
  view.replaceChildren(screen(t("count.title_place", { place: c.location_name }), ...children));
  if (focusLot && lines.has(focusLot)) highlight(focusLot);
  return {
    destroy() {
      scanner?.destroy();
      // Counted values not sent yet are sent now rather than lost.
      for (const [lotId, entry] of saving) if (entry.timer) save(lotId);
    },
  };
}

export async function render(view, ctx) {
  const params = hashParams();
  const id = Number(params.get("id"));
  if (id > 0) return countScreen(view, id, ctx, Number(params.get("lot")) || null);
  return startScreen(view, Number(params.get("location")) || null, Number(params.get("lot")) || null);
}
