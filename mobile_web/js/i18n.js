// English and French: follows the browser, with a switch remembered on this device.
import { STRINGS } from "/js/strings.js";

const KEY = "clinitrack.lang";
const extra = { en: {}, fr: {} };
let current = detect();

function detect() {
  const saved = localStorage.getItem(KEY);
  if (saved === "en" || saved === "fr") return saved;
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language || "en"];
  return langs.some((l) => l.toLowerCase().startsWith("fr")) && !langs[0].toLowerCase().startsWith("en")
    ? "fr" : "en";
}

/** Feature modules add their own strings: addStrings({en: {...}, fr: {...}}). */
export function addStrings(more) {
  for (const lang of ["en", "fr"]) Object.assign(extra[lang], more[lang] || {});
}

export function lang() { return current; }
export function locale() { return current === "fr" ? "fr-CA" : "en-CA"; }

export function setLang(value) {
  current = value === "fr" ? "fr" : "en";
  localStorage.setItem(KEY, current);
  document.documentElement.lang = current;
}

export function t(key, vars = {}) {
  const text = extra[current][key] ?? STRINGS[current][key] ?? extra.en[key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? fmt(vars[name]) : `{${name}}`));
}

function fmt(value) {
  return typeof value === "number" ? formatNumber(value) : String(value);
}

export function has(key) {
  return key in extra[current] || key in STRINGS[current];
}

export function formatNumber(value, options = {}) {
  return new Intl.NumberFormat(locale(), options).format(value);
}

let timeZone;
/** Times are shown in the site's time zone (design invariant 4), not the phone's. */
export function setTimeZone(zone) { timeZone = zone || undefined; }

function dateFormat(options) {
  try { return new Intl.DateTimeFormat(locale(), { ...options, timeZone }); }
  catch { return new Intl.DateTimeFormat(locale(), options); }
}

export function formatDateTime(value) {
  return dateFormat({ dateStyle: "medium", timeStyle: "short" }).format(value instanceof Date ? value : new Date(value));
}

export function formatDate(value) {
  return dateFormat({ dateStyle: "medium" }).format(value instanceof Date ? value : new Date(value));
}

/** A server problem (RFC 9457) in the user's language, through its stable code. */
export function problemText(problem) {
  const code = problem?.code;
  if (code && has(`problem.${code}`)) {
    const field = problem.errors?.[0];
    const base = t(`problem.${code}`);
    return field && code === "validation_error" ? `${base} (${field.field})` : base;
  }
  return problem?.detail || t("app.error");
}

/** Fill [data-i18n] elements of static HTML. */
export function translateStatic(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
}
