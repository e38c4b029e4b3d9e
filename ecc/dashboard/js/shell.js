// The frame every signed-in page shares: top bar, navigation, language, clock, connection.
import { api, logout, session, toLogin } from "./api.js";
import * as events from "./events.js";
import { apply, language, localName, setLanguage, t } from "./i18n.js";

// Pages of the dashboard; later parts add theirs. `perm` hides a link from roles without it.
export const PAGES = [
  { path: "/", key: "nav.overview" },
  { path: "/stations", key: "nav.stations" },
  { path: "/alerts", key: "nav.alerts" },
  { path: "/incidents", key: "nav.incidents" },
  { path: "/review", key: "nav.review", perm: "recordings.read" },
  { path: "/cameras", key: "nav.cameras", perm: "video.watch" },
  { path: "/playback", key: "nav.playback", perm: "recordings.read" },
  { path: "/vehicles", key: "nav.vehicles", perm: "video.watch" },
  { path: "/vehicle", key: "nav.vehicle", perm: "vehicles.report" },
  { path: "/wall", key: "nav.wall", perm: "video.watch" },
  { path: "/admin/zones", key: "nav.zones", perm: "config.manage" },
];

export const ctx = { me: null, site: null, timezone: "Asia/Shanghai" };

export function formatTime(iso, { seconds = true, date = false } = {}) {
  if (!iso) return "";
  const opts = { timeZone: ctx.timezone, hour12: false, hour: "2-digit", minute: "2-digit" };
  if (seconds) opts.second = "2-digit";
  if (date) Object.assign(opts, { year: "numeric", month: "2-digit", day: "2-digit" });
  return new Intl.DateTimeFormat(language() === "en" ? "en-GB" : "zh-CN", opts).format(new Date(iso));
}

function renderNav() {
  const nav = document.getElementById("nav");
  nav.dataset.i18nAttr = "aria-label:nav.main";
  nav.replaceChildren();
  for (const p of PAGES) {
    if (p.perm && !ctx.me.permissions.includes(p.perm)) continue;
    const a = document.createElement("a");
    a.href = p.path;
    a.dataset.i18n = p.key;
    if (location.pathname === p.path) a.setAttribute("aria-current", "page");
    nav.append(a);
  }
}

function renderChrome() {
  document.getElementById("site-name").textContent = ctx.site ? localName(ctx.site) : t("app.name");
  document.getElementById("user").textContent = `${ctx.me.username} · ${t(`role.${ctx.me.role}`)}`;
  apply(document);
}

function tick() {
  document.getElementById("clock").textContent = formatTime(new Date().toISOString(), { date: true });
}

/** Start a signed-in page: returns once who and where are known. */
export async function boot() {
  if (!session()) {
    toLogin();
    return new Promise(() => {});
  }
  document.documentElement.lang = language();
  const [me, site] = await Promise.all([api("/api/me"), api("/api/site")]);
  ctx.me = me;
  ctx.site = site;
  ctx.timezone = me.timezone || site.timezone || "Asia/Shanghai";
  renderNav();
  renderChrome();
  document.getElementById("lang-toggle").addEventListener("click", async () => {
    const lang = language() === "en" ? "zh-CN" : "en";
    setLanguage(lang);
    renderChrome();
    tick();
    // Remembered per user, so the wall display comes up in its operator's language.
    api("/api/me", { method: "PATCH", body: { language: lang } }).catch(() => {});
  });
  document.getElementById("logout").addEventListener("click", logout);
  events.onState((s) => {
    const el = document.getElementById("conn");
    el.dataset.state = s;
    document.getElementById("conn-label").dataset.i18n = `conn.${s}`;
    apply(el);
  });
  events.connect();
  tick();
  setInterval(tick, 1000);
  document.body.hidden = false;
  return ctx;
}
