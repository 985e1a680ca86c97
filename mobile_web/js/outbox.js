// The offline outbox (design invariant 2). Every queued write is stored in IndexedDB with its own
// client id, sent in order when online, retried with backoff, and carries the id as the
// Idempotency-Key, so a write whose answer was lost is never applied twice. Rejected writes stay
// until the user fixes or discards them.
import { request, uuid, ApiError } from "/js/api.js";
import { state, setMe } from "/js/state.js";

const DB_NAME = "clinitrack";
const STORE = "outbox";
const MAX_BACKOFF_MS = 60_000;
const listeners = new Set();
const channel = "BroadcastChannel" in self ? new BroadcastChannel("clinitrack-outbox") : null;
let dbPromise;
let retryTimer;
let backoff = 1000;
let sending = false;
let needsSignIn = false;

function db() {
  dbPromise ??= new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => {
      const store = open.result.createObjectStore(STORE, { keyPath: "id" });
      store.createIndex("seq", "seq");
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  return dbPromise;
}

async function tx(mode, fn) {
  const database = await db();
  return new Promise((resolve, reject) => {
    const transaction = database.transaction(STORE, mode);
    const result = fn(transaction.objectStore(STORE));
    transaction.oncomplete = () => resolve(result?.result ?? result);
    transaction.onerror = () => reject(transaction.error);
  });
}

export async function all() {
  const items = await tx("readonly", (store) => store.index("seq").getAll());
  return items;
}

async function put(item) { await tx("readwrite", (store) => store.put(item)); }
async function remove(id) { await tx("readwrite", (store) => store.delete(id)); }

export async function summary() {
  const items = await all();
  return {
    pending: items.filter((i) => i.status === "pending").length,
    rejected: items.filter((i) => i.status === "rejected").length,
    sending,
    needsSignIn,
    items,
  };
}

async function notify(event = {}) {
  const s = await summary();
  for (const listener of listeners) listener(s, event);
}

/** Listen to changes: listener(summary, event) where event.sent = {item, result} after a send. */
export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Queue a write; it is sent at once when online. Returns the stored item. */
export async function enqueue({ method, url, body, label }) {
  const item = {
    id: uuid(), seq: Date.now() + Math.random(), method, url, body: body ?? null, label: label || url,
    status: "pending", attempts: 0, error: null, created: new Date().toISOString(), site: state.siteId,
  };
  await put(item);
  channel?.postMessage("changed");
  await notify({ queued: item });
  flush();
  return item;
}

export async function discard(id) {
  await remove(id);
  channel?.postMessage("changed");
  await notify();
}

export async function retry(id) {
  const item = (await all()).find((i) => i.id === id);
  if (!item) return;
  await put({ ...item, status: "pending", error: null });
  await notify();
  flush();
}

function scheduleRetry() {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(flush, backoff);
  backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
}

async function sendOne(item) {
  return request(item.method, item.url, { body: item.body ?? undefined, headers: { "Idempotency-Key": item.id } });
}

async function refreshCsrf() {
  const me = await request("GET", "/api/me");
  setMe(me);
}

async function drain() {
  for (const item of await all()) {
    if (item.status !== "pending") continue;
    try {
      let result;
      try {
        result = await sendOne(item);
      } catch (err) {
        if (!(err instanceof ApiError) || err.code !== "csrf_failed") throw err;
        await refreshCsrf();
        result = await sendOne(item);
      }
      await remove(item.id);
      backoff = 1000;
      channel?.postMessage("changed");
      await notify({ sent: { item, result } });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.isNetwork || err.status === 429 || err.status >= 500) {
        await put({ ...item, attempts: item.attempts + 1 });
        scheduleRetry();
        return;
      }
      if (err.status === 401) {
        needsSignIn = true;
        return;
      }
      await put({ ...item, status: "rejected", attempts: item.attempts + 1, error: err.problem });
      channel?.postMessage("changed");
      await notify({ rejected: item });
    }
  }
}

/** Send what is waiting, in order; one sender at a time across tabs. */
export async function flush() {
  if (sending || !navigator.onLine || !state.me) return;
  needsSignIn = false;
  const run = async () => {
    sending = true;
    await notify();
    try { await drain(); } finally { sending = false; await notify(); }
  };
  if (navigator.locks) await navigator.locks.request("clinitrack-outbox", { ifAvailable: true }, (lock) => lock && run());
  else await run();
}

export function start() {
  addEventListener("online", () => { backoff = 1000; flush(); });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) flush(); });
  if (channel) channel.onmessage = () => notify();
  flush();
  notify();
}
