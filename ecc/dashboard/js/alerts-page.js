// /alerts: every recent alert, open ones first, with acknowledge and resolve for operators;
// new alerts and changes arrive over the event stream, and a reconnect reloads the list.
import { api } from "./api.js";
import { AlertList } from "./alerts.js";
import * as events from "./events.js";
import { apply, extend, localName, t } from "./i18n.js";
import { learnZones } from "./metrics.js";
import { boot, ctx, formatTime } from "./shell.js";

extend({
  "zh-CN": {
    "alerts.title": "告警 · 应急指挥中心",
    "alerts.heading": "告警",
  },
  en: {
    "alerts.title": "Alerts · Emergency Command Center",
    "alerts.heading": "Alerts",
  },
});

const RECENT = 1000;
const view = document.getElementById("view");
const names = { station: new Map(), camera: new Map(), vehicle: new Map() };

view.innerHTML = `
  <div class="page-head"><h1 data-i18n="alerts.heading"></h1></div>
  <div id="alert-list"></div>`;

function sourceName(source) {
  const item = names[source.type]?.get(source.id);
  const name = item ? localName(item) : source.id;
  if (source.type === "camera") return t("alerts.source_camera", { name });
  if (source.type === "vehicle") return t("alerts.source_vehicle", { name });
  return name;
}

async function load(list) {
  // Open alerts of any age, and the most recent ones in every state.
  const [active, acked, recent, stations, cameras, vehicles] = await Promise.all([
    api("/api/alerts?state=active"),
    api("/api/alerts?state=acknowledged"),
    api(`/api/alerts?limit=${RECENT}`),
    api("/api/stations"),
    api("/api/cameras"),
    api("/api/vehicles"),
  ]);
  for (const [type, items] of [["station", stations], ["camera", cameras], ["vehicle", vehicles]]) {
    names[type] = new Map(items.map((i) => [i.id, i]));
  }
  learnZones(cameras);
  const all = new Map();
  for (const a of [...recent, ...acked, ...active]) all.set(a.id, a);
  list.set([...all.values()]);
}

await boot();
apply(view);
const list = new AlertList(view.querySelector("#alert-list"), {
  canManage: ctx.me.permissions.includes("alerts.manage"),
  sourceName,
  formatTime: (iso) => formatTime(iso, { date: true }),
  sourceHref: (source) =>
    source.type === "station" && names.station.has(source.id)
      ? `/stations#${encodeURIComponent(source.id)}`
      : null,
});
try {
  await load(list);
} catch (err) {
  view.querySelector("#alert-list").textContent = t("error.load", { detail: err.message });
}
view.querySelector("#alert-list").dataset.ready = "true";
events.on("alert", (a) => list.upsert(a));
events.on("reconnect", () => load(list).catch(() => {}));
document.addEventListener("ecc:language", () => apply(view));
