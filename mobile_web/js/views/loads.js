// Sterilizer loads. #/loads (optionally ?pack=<code> from a packaged item): today's Bowie-Dick for
// pre-vacuum sterilizers, start a load (sterilizer, cycle type, implants, initials, the packs' codes,
// one a line or scanned in), then each unfinished load: its results (time/temperature/pressure met,
// external and internal CI, BI lot when it needs one), the BI reading, and Release for managers with
// what still stops it in plain words. Every write goes through the outbox (exactly once).
import { get } from "/js/api.js";
import "/js/reprocessing-strings.js";
import { problemText, t } from "/js/i18n.js";
import { api, hashParams, isManager, outcomeNotice, sendWrite } from "/js/stock-actions.js";
import { field, h, screen } from "/js/ui.js";

function select(name, options, selected = "") {
  return h("select", { name }, ...options.map(([value, label]) => h("option", { value, selected: value === selected }, label)));
}

function passFail(name) {
  return select(name, [["pass", t("rp.ci.pass")], ["fail", t("rp.ci.fail")]]);
}

function loadCard(load, send) {
  const card = h("li", { class: "list-item rp-load", dataset: { id: load.id, status: load.status } },
    h("div", { class: "row-between" },
      h("strong", {}, t("rp.load_title", { n: load.load_number, sterilizer: load.sterilizer_name })),
      h("span", { class: load.status === "failed" ? "badge badge-alert" : "badge", dataset: { status: load.status } },
        t(`rp.load.${load.status}`))),
    h("span", { class: "muted" }, `${load.cycle_type} · ${load.purpose === "bi_test" ? t("rp.bi_test")
      : t("rp.packs", { n: load.pack_count })}${load.implant ? ` · ${t("rp.implant")}` : ""}`));
  if (load.pack_count) {
    card.append(h("a", { class: "link-more", target: "_blank", rel: "noopener", href: api(`/reprocessing/loads/${load.id}/labels.pdf`) },
      t("rp.labels")));
  }
  const resultsIn = load.physical_met !== null;
  if (!resultsIn && load.status === "open") {
    const met = select("physical_met", [["yes", t("rp.yes")], ["no", t("rp.no")]]);
    const ext = passFail("external_ci");
    const int = passFail("internal_ci");
    const lot = h("input", { name: "bi_lot", maxlength: 40, autocomplete: "off" });
    const form = h("form", { class: "stack rp-results" }, field(t("rp.physical"), met), field(t("rp.external_ci"), ext),
      field(t("rp.internal_ci"), int), load.bi_required ? field(t("rp.bi_lot"), lot) : null,
      h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("rp.save_results")));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const body = { physical_met: met.value === "yes", external_ci: ext.value, internal_ci: int.value };
      if (load.bi_required) body.bi_lot = lot.value.trim();
      send(`/reprocessing/loads/${load.id}/results`, body, form);
    });
    card.append(form);
  }
  if (load.bi_result === "pending") {
    const row = h("div", { class: "row-between rp-bi" }, h("span", {}, t("rp.bi_read")),
      ...["negative", "positive"].map((result) => h("button", { type: "button", class: "btn btn-small", dataset: { result },
        onclick: (e) => send(`/reprocessing/loads/${load.id}/bi`, { result }, e.target) }, t(`rp.bi.${result}`))));
    card.append(row);
  }
  if (["open", "held"].includes(load.status) && resultsIn && load.purpose === "load") {
    if (load.release_problems.length) {
      card.append(h("ul", { class: "rp-problems" }, ...load.release_problems.map((p) => h("li", { class: "muted" }, p))));
    } else if (isManager()) {
      card.append(h("button", { type: "button", class: "btn btn-primary btn-block rp-release",
        onclick: (e) => send(`/reprocessing/loads/${load.id}/release`, null, e.target) }, t("rp.release")));
    } else {
      card.append(h("p", { class: "muted" }, t("rp.manager_releases")));
    }
  }
  return card;
}

function startForm(sterilizers, packCode, send) {
  // Out of service after a failure, a sterilizer runs only empty BI test cycles.
  const choose = select("sterilizer_id", sterilizers.map((s) => [String(s.id),
    s.in_service ? s.name : `${s.name} · ${t("rp.status.out_of_service")}`]));
  const biTest = h("input", { type: "checkbox", name: "bi_test" });
  const cycle = h("select", { name: "cycle_type" });
  const fill = () => {
    const st = sterilizers.find((s) => String(s.id) === choose.value);
    cycle.replaceChildren(...(st?.cycle_types || []).map((c) => h("option", { value: c }, c)));
  };
  choose.addEventListener("change", fill);
  fill();
  const implant = h("input", { type: "checkbox", name: "implant" });
  const initials = h("input", { name: "initials", maxlength: 8, autocomplete: "off", required: true });
  const packs = h("textarea", { name: "packs", rows: 3, autocomplete: "off", spellcheck: "false" }, packCode || "");
  const form = h("form", { class: "stack card", id: "rp-start" }, h("h2", {}, t("rp.start")),
    field(t("rp.sterilizer"), choose), field(t("rp.cycle"), cycle), h("label", { class: "check" }, implant, " ", t("rp.implant")),
    h("label", { class: "check" }, biTest, " ", t("rp.bi_test")),
    field(t("rp.initials_short"), initials), field(t("rp.pack_codes"), packs),
    h("button", { type: "submit", class: "btn btn-primary btn-block" }, t("rp.start")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    send("/reprocessing/loads", {
      sterilizer_id: Number(choose.value), cycle_type: cycle.value, implant: implant.checked, initials: initials.value.trim(),
      purpose: biTest.checked ? "bi_test" : "load",
      packs: biTest.checked ? [] : packs.value.split(/\s+/).map((c) => c.trim()).filter(Boolean),
    }, form);
  });
  return form;
}

function bowieDick(sterilizer, send) {
  const initials = h("input", { name: "initials", maxlength: 8, autocomplete: "off" });
  const row = h("div", { class: "card stack rp-bd", dataset: { id: sterilizer.id } },
    h("strong", {}, t("rp.bowie_dick", { name: sterilizer.name })), field(t("rp.initials_short"), initials),
    h("div", { class: "row-between" }, ...[true, false].map((passed) => h("button", { type: "button", class: "btn btn-small",
      dataset: { passed: String(passed) },
      onclick: (e) => send(`/reprocessing/sterilizers/${sterilizer.id}/bowie-dick`, { passed, initials: initials.value.trim() }, e.target),
    }, passed ? t("rp.bd.pass") : t("rp.bd.fail")))));
  return row;
}

export async function render(view) {
  const packCode = hashParams().get("pack") || "";

  async function draw(carried = []) {
    // Unfinished loads are few (a day's or two's): one page of each is all of them.
    const [sterilizers, { loads: open }, { loads: held }] = await Promise.all([get(api("/reprocessing/sterilizers")),
      get(api("/reprocessing/loads?status=open&limit=500")), get(api("/reprocessing/loads?status=held&limit=500"))]);
    const notices = h("div", { id: "rp-notices", "aria-live": "polite" }, ...carried);

    async function send(path, body, source) {
      if (source) source.disabled = true;
      const outcome = await sendWrite({ method: "POST", url: api(path), body, label: t("rp.loads") });
      if (outcome.status === "rejected") {
        if (source) source.disabled = false;
        notices.replaceChildren(outcomeNotice(outcome, ""));
        return;
      }
      const note = outcomeNotice(outcome, t("rp.saved"));
      if (outcome.status === "sent") await draw([note]);
      else notices.replaceChildren(note);
    }

    const loads = [...open, ...held].sort((a, b) => a.id - b.id);
    view.replaceChildren(screen(t("rp.loads"), notices,
      ...sterilizers.filter((s) => s.kind === "pre_vacuum" && s.in_service).map((s) => bowieDick(s, send)),
      sterilizers.length ? startForm(sterilizers, packCode, send) : h("p", { class: "empty" }, t("rp.no_sterilizer")),
      h("h2", {}, t("rp.unfinished")),
      loads.length ? h("ul", { class: "list", id: "rp-loads" }, ...loads.map((l) => loadCard(l, send)))
        : h("p", { class: "empty", id: "rp-no-loads" }, t("rp.no_loads"))));
  }

  try {
    await draw();
  } catch (err) {
    view.replaceChildren(screen(t("rp.loads"), h("p", { class: "notice notice-alert" }, problemText(err.problem))));
  }
  return {};
}
