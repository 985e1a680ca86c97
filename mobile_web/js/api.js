// Talks to /api. Reads are direct; writes that may be queued go through the outbox (outbox.js).
import { state } from "/js/state.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || { code: status === 0 ? "network" : "internal_error" };
    this.code = this.problem.code;
  }
  get isNetwork() { return this.status === 0; }
}

async function parse(resp) {
  const type = resp.headers.get("content-type") || "";
  if (!type.includes("json")) return null;
  try { return await resp.json(); } catch { return null; }
}

/** One HTTP call; throws ApiError (status 0 when the network failed). */
export async function request(method, path, { body, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  if (method !== "GET" && state.me?.csrf_token) init.headers["X-CSRF-Token"] = state.me.csrf_token;
  let resp;
  try {
    resp = await fetch(path, init);
  } catch {
    throw new ApiError(0, { code: "network" });
  }
  const data = await parse(resp);
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

export const get = (path) => request("GET", path);

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A write sent now (online screens such as password changes), still exactly-once. */
export function writeNow(method, path, body) {
  return request(method, path, { body, headers: { "Idempotency-Key": uuid() } });
}
