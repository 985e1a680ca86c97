// Who is signed in and which site they work at. `me` is kept on the device so the app opens offline.
const ME_KEY = "clinitrack.me";
const SITE_KEY = "clinitrack.site";

export const state = {
  me: JSON.parse(localStorage.getItem(ME_KEY) || "null"),
  siteId: Number(localStorage.getItem(SITE_KEY)) || null,
};

export function setMe(me) {
  state.me = me;
  if (me) {
    localStorage.setItem(ME_KEY, JSON.stringify(me));
    const ids = me.memberships.map((m) => m.site_id);
    if (!ids.includes(state.siteId)) setSite(ids[0] ?? null);
  } else {
    localStorage.removeItem(ME_KEY);
  }
}

export function setSite(id) {
  state.siteId = id;
  if (id) localStorage.setItem(SITE_KEY, String(id)); else localStorage.removeItem(SITE_KEY);
}

export function role() {
  const m = state.me?.memberships.find((x) => x.site_id === state.siteId);
  return m?.role ?? (state.me?.is_superuser ? "admin" : null);
}

export function site() {
  return state.me?.memberships.find((x) => x.site_id === state.siteId) ?? null;
}
