// Service worker: the app shell opens with no network and repeat visits cost no bytes. Shell files
// are served cache-first; the service stamps a hash of the shell into VERSION below, so any change
// to the client installs a new worker and a fresh cache. /api is never cached. The decoder is cached
// the first time the camera opens, so it is not part of the first load.
const VERSION = "__SHELL_VERSION__";
const CACHE = `clinitrack-shell-${VERSION}`;
// The shell: what the first visit installs so the app starts with no network (sign-in, the role homes,
// scanning, the outbox, every stylesheet and the words the shell shows). Each feature's screens are
// cached the first time they load: the page loads the signed-in role's screens once this worker
// controls it (app.js, warmScreens), so they open offline too without weighing on the first load.
const SHELL = [
  "/", "/index.html", "/manifest.webmanifest", "/icons/icon.svg", "/icons/icon-192.png",
  "/css/app.css", "/css/stock.css", "/css/scanner.css", "/css/labels.css", "/css/cleaning.css",
  "/css/coldchain.css", "/css/alerts.css", "/css/reorder.css",
  "/js/app.js", "/js/api.js", "/js/i18n.js", "/js/strings.js", "/js/state.js", "/js/ui.js", "/js/outbox.js",
  "/js/stock-strings.js", "/js/labels-strings.js", "/js/cleaning-strings.js", "/js/coldchain-strings.js",
  "/js/alerts-strings.js", "/js/reprocessing-strings.js", "/js/alerts-bell.js",
  "/js/scanner.js", "/js/scanner-strings.js", "/js/stock-actions.js", "/js/alerts-mail.js",
  "/js/reorder-dashboard.js", "/js/reorder-charts.js", "/js/reorder-strings.js",
  "/js/views/login.js", "/js/views/scan.js", "/js/views/tasks.js", "/js/views/dashboard.js", "/js/views/logs.js",
  "/js/views/places.js", "/js/views/account.js", "/js/views/outbox.js", "/js/views/stock.js", "/js/views/admin.js",
];
const STATIC = /^\/(js|css|icons)\/[\w./-]+$/;


// On the first install the page has just loaded most of these files, and the service sends them with a
// short max-age: taking them from the browser's HTTP cache halves the first visit's bytes. When an
// older version's cache exists this is an upgrade, and every file is fetched fresh.
async function precache() {
  const upgrading = (await caches.keys()).some((k) => k.startsWith("clinitrack-shell-") && k !== CACHE);
  const cache = await caches.open(CACHE);
  await cache.addAll(SHELL.map((url) => new Request(url, { cache: upgrading ? "reload" : "default" })));
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("clinitrack-") && k !== CACHE && k !== "clinitrack-vendor")
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

// A page that loaded while this worker was activating (a reload at that moment) missed the claim
// above and would stay uncontrolled, without offline use, until its next load: it asks again.
self.addEventListener("message", (event) => {
  if (event.data === "claim") event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/schema") || url.pathname === "/healthz"
      || url.pathname === "/readyz") return;
  if (url.pathname.startsWith("/vendor/")) {
    // The decoder never changes for a given install: cache first.
    event.respondWith(caches.open("clinitrack-vendor").then(async (cache) => {
      const hit = await cache.match(event.request);
      if (hit) return hit;
      const resp = await fetch(event.request);
      if (resp.ok) cache.put(event.request, resp.clone());
      return resp;
    }));
    return;
  }
  const key = url.pathname === "/" ? "/index.html" : url.pathname;
  event.respondWith(caches.open(CACHE).then(async (cache) => {
    const hit = await cache.match(key);
    if (hit) return hit;
    try {
      const resp = await fetch(event.request);
      if (resp.ok && (SHELL.includes(url.pathname) || STATIC.test(url.pathname))) cache.put(key, resp.clone());
      return resp;
    } catch (err) {
      const fallback = await cache.match("/index.html");
      if (fallback && event.request.mode === "navigate") return fallback;
      throw err;
    }
  }));
});
