// The bell in the top bar: how many alerts wait at this site, refreshed on each screen and every
// minute while online. Inspectors have none; offline it keeps the last count.
import { get } from "/js/api.js";
import { t } from "/js/i18n.js";
import { role, state } from "/js/state.js";

export async function updateBell() {
  const bell = document.getElementById("alerts-bell");
  if (!bell) return;
  const show = Boolean(state.me && state.siteId && role() && role() !== "inspector");
  bell.hidden = !show;
  if (!show || !navigator.onLine) return;
  let counts;
  try { counts = await get(`/api/sites/${state.siteId}/alerts/counts`); } catch { return; }
  const n = counts.unacknowledged;
  const badge = bell.querySelector(".bell-count");
  badge.textContent = n > 99 ? "99+" : String(n);
  badge.hidden = n === 0;
  bell.classList.toggle("bell-critical", counts.critical > 0);
  bell.dataset.count = String(n);
  bell.setAttribute("aria-label", n ? t("alerts.bell", { n }) : t("alerts.bell_none"));
}
