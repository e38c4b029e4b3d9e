// /vehicles: the operators' view of the command vehicles. The map shows where each is, with its
// heading and the trail of the last quarter hour; each vehicle's card shows whether it is online,
// streaming, and how its link is (RTT, loss, bitrate, positions waiting on the vehicle). The
// chosen vehicle's live picture and sound play beside, with the talkback button.
import { api, session } from "./api.js";
import * as events from "./events.js";
import { apply, extend, localName, t } from "./i18n.js";
import { createMap } from "./map.js";
import { boot, ctx, formatTime } from "./shell.js";
import { createTalkback } from "./talkback.js";

extend({
  "zh-CN": {
    "vehicles.title": "指挥车 · 应急指挥中心",
    "vehicles.heading": "指挥车",
    "vehicle.name_plate": "{name} · {plate}",
    "vehicles.none": "本站点没有配置指挥车",
    "vehicles.online": "在线",
    "vehicles.offline": "离线",
    "vehicles.streaming": "视频推流中",
    "vehicles.no_video": "无视频",
    "vehicles.talkback": "对讲中",
    "vehicles.last_seen": "最后联系 {time}",
    "vehicles.never": "从未联系",
    "vehicles.position": "位置 {time}",
    "vehicles.link": "往返 {rtt} ms · 丢包 {loss}% · {kbps} kbit/s",
    "vehicles.queued": "车端排队 {n} 条位置",
    "vehicles.choose": "选择指挥车以查看实时画面并对讲",
    "vehicles.map": "指挥车位置",
  },
  en: {
    "vehicles.title": "Vehicles · Emergency Command Center",
    "vehicles.heading": "Vehicles",
    "vehicle.name_plate": "{name} · {plate}",
    "vehicles.none": "This site has no vehicles",
    "vehicles.online": "Online",
    "vehicles.offline": "Offline",
    "vehicles.streaming": "Streaming",
    "vehicles.no_video": "No video",
    "vehicles.talkback": "Talkback on",
    "vehicles.last_seen": "Last heard {time}",
    "vehicles.never": "Never heard",
    "vehicles.position": "Position {time}",
    "vehicles.link": "RTT {rtt} ms · loss {loss}% · {kbps} kbit/s",
    "vehicles.queued": "{n} positions waiting on the vehicle",
    "vehicles.choose": "Choose a vehicle for its live picture and talkback",
    "vehicles.map": "Vehicle positions",
  },
});

const TRAIL_S = 15 * 60;
const view = document.getElementById("view");
const token = () => session()?.token;
let vehicles = [];
let map = null;
let panel = null;
let chosen = null;

view.innerHTML = `
  <div class="fleet-side">
    <div class="page-head"><h1 data-i18n="vehicles.heading"></h1></div>
    <div id="fleet-map" class="fleet-map"></div>
    <ul id="fleet-list" class="fleet-list"></ul>
    <p class="muted" id="fleet-none" data-i18n="vehicles.none" hidden></p>
  </div>
  <section class="card fleet-panel" aria-live="polite">
    <p class="muted" id="fleet-hint" data-i18n="vehicles.choose"></p>
    <div id="fleet-talkback"></div>
  </section>`;

function card(v) {
  const s = v.status || {};
  const li = document.createElement("li");
  li.className = "fleet-card";
  li.dataset.vehicle = v.id;
  li.dataset.online = String(Boolean(s.online));
  li.tabIndex = 0;
  li.setAttribute("role", "button");
  li.setAttribute("aria-current", String(chosen === v.id));
  const facts = [];
  facts.push(s.video ? t("vehicles.streaming") : t("vehicles.no_video"));
  if (s.talkback) facts.push(t("vehicles.talkback"));
  facts.push(s.last_seen ? t("vehicles.last_seen", { time: formatTime(s.last_seen) }) : t("vehicles.never"));
  if (v.position) facts.push(t("vehicles.position", { time: formatTime(v.position.ts) }));
  const link = s.link;
  if (link && s.online && (link.rtt_ms !== null || link.bitrate_kbps !== null)) {
    facts.push(t("vehicles.link", { rtt: link.rtt_ms ?? "–", loss: link.loss_pct ?? "–", kbps: link.bitrate_kbps ?? "–" }));
  }
  if (link && link.queued) facts.push(t("vehicles.queued", { n: link.queued }));
  li.innerHTML = `<span class="fleet-name"></span><span class="pill"></span><span class="fleet-facts"></span>`;
  li.querySelector(".fleet-name").textContent = v.plate ? t("vehicle.name_plate", { name: localName(v), plate: v.plate }) : localName(v);
  const pill = li.querySelector(".pill");
  pill.dataset.state = s.online ? "up" : "down";
  pill.textContent = t(s.online ? "vehicles.online" : "vehicles.offline");
  const factsEl = li.querySelector(".fleet-facts");
  for (const f of facts) {
    const span = document.createElement("span");
    span.textContent = f;
    factsEl.append(span);
  }
  li.addEventListener("click", () => choose(v.id));
  li.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      choose(v.id);
    }
  });
  return li;
}

function renderList() {
  const list = view.querySelector("#fleet-list");
  const focused = document.activeElement?.dataset?.vehicle;
  list.replaceChildren(...vehicles.map(card));
  if (focused) list.querySelector(`[data-vehicle="${CSS.escape(focused)}"]`)?.focus();
  view.querySelector("#fleet-none").hidden = vehicles.length > 0;
}

function choose(id) {
  if (chosen === id) return;
  chosen = id;
  panel?.stop();
  const vehicle = vehicles.find((v) => v.id === id);
  panel = createTalkback(vehicle, { token });
  view.querySelector("#fleet-talkback").replaceChildren(panel.el);
  view.querySelector("#fleet-hint").hidden = true;
  panel.start();
  renderList();
}

async function trails() {
  // The last quarter hour of each vehicle's track, so a trail is there before the next move.
  const start = new Date(Date.now() - TRAIL_S * 1000).toISOString();
  for (const v of vehicles) {
    const track = await api(`/api/vehicles/${encodeURIComponent(v.id)}/track?start=${encodeURIComponent(start)}&limit=200`);
    for (const p of track) map.position(p);
  }
}

async function load() {
  vehicles = await api("/api/vehicles");
  renderList();
  if (map) {
    map.setVehicles(vehicles);
    await trails();
  }
}

await boot();
document.title = t("vehicles.title");
apply(view);
await load();
map = await createMap(view.querySelector("#fleet-map"), {
  site: ctx.site,
  legend: false,
  formatTime,
  onVehicle: (id) => choose(id),
});
// The map element knows its map: tests and the wall read marker positions from the page.
view.querySelector("#fleet-map").map = map;
view.querySelector("#fleet-map").setAttribute("aria-label", t("vehicles.map"));
map.setVehicles(vehicles);
await trails();
const first = vehicles.find((v) => v.status?.video) || null;
if (first) choose(first.id);

events.on("position", (p) => {
  map.position(p);
  const v = vehicles.find((x) => x.id === p.vehicle_id);
  if (v) {
    v.position = p;
    renderList();
  }
});
events.on("vehicle", (s) => {
  const v = vehicles.find((x) => x.id === s.id);
  if (!v) return;
  v.status = s;
  map.setVehicles(vehicles);
  renderList();
});
events.on("reconnect", load);
document.addEventListener("ecc:language", () => {
  document.title = t("vehicles.title");
  renderList();
});
window.addEventListener("pagehide", () => panel?.stop());
