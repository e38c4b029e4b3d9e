// /cameras: every camera of the site as a live tile (sub stream); a tile opens the camera full
// screen (main stream, with sound). Tile states follow the camera health events.
import { api, session } from "./api.js";
import * as events from "./events.js";
import { apply, extend, localName, t } from "./i18n.js";
import { boot } from "./shell.js";
import { createTile } from "./tiles.js";

extend({
  "zh-CN": {
    "cameras.title": "视频监控 · 应急指挥中心",
    "cameras.heading": "视频监控",
    "cameras.summary": "共 {n} 路 · 在线 {online} 路",
    "cameras.none": "本站点没有配置摄像机",
  },
  en: {
    "cameras.title": "Cameras · Emergency Command Center",
    "cameras.heading": "Cameras",
    "cameras.summary": "{n} cameras · {online} online",
    "cameras.none": "This site has no cameras",
  },
});

const view = document.getElementById("view");
const token = () => session()?.token;
const tiles = new Map();
let cameras = [];
let full = null;

function whep(camera, stream) {
  return `/api/whep/camera:${encodeURIComponent(camera.id)}?stream=${stream}`;
}

function summary() {
  const online = cameras.filter((c) => c.status && c.status.online).length;
  view.querySelector("#camera-summary").textContent = t("cameras.summary", { n: cameras.length, online });
}

function openFull(camera) {
  closeFull();
  const overlay = document.createElement("div");
  overlay.className = "video-full";
  overlay.setAttribute("role", "dialog");
  overlay.setAttribute("aria-label", localName(camera));
  const close = document.createElement("button");
  close.type = "button";
  close.className = "video-close";
  close.dataset.i18n = "video.close";
  const tile = createTile(camera, { url: whep(camera, "main"), token, audio: true });
  overlay.append(tile.el, close);
  document.body.append(overlay);
  apply(overlay);
  tile.start();
  full = { overlay, tile };
  close.addEventListener("click", closeFull);
  close.focus();
}

function closeFull() {
  if (!full) return;
  full.tile.stop();
  full.overlay.remove();
  full = null;
}

function render() {
  view.innerHTML = `
    <div class="page-head">
      <h1 data-i18n="cameras.heading"></h1>
      <span class="muted" id="camera-summary"></span>
    </div>
    <section class="tile-grid" id="tile-grid"></section>
    <p class="muted" id="no-cameras" data-i18n="cameras.none" hidden></p>`;
  const grid = view.querySelector("#tile-grid");
  for (const camera of cameras) {
    const tile = createTile(camera, { url: whep(camera, "sub"), token });
    tile.el.tabIndex = 0;
    tile.el.setAttribute("aria-label", t("video.open", { name: localName(camera) }));
    tile.el.addEventListener("click", () => openFull(camera));
    tile.el.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") openFull(camera);
    });
    grid.append(tile.el);
    tiles.set(camera.id, tile);
    tile.start();
  }
  view.querySelector("#no-cameras").hidden = cameras.length > 0;
  apply(view);
  summary();
}

await boot();
document.title = t("cameras.title");
cameras = await api("/api/cameras");
render();
events.on("camera", (status) => {
  const camera = cameras.find((c) => c.id === status.id);
  if (!camera) return;
  camera.status = status;
  tiles.get(camera.id)?.setStatus(status);
  if (full && full.tile.el.dataset.camera === camera.id) full.tile.setStatus(status);
  summary();
});
events.on("reconnect", async () => {
  // Health may have changed while the event stream was down.
  for (const c of await api("/api/cameras")) {
    const camera = cameras.find((x) => x.id === c.id);
    if (camera) {
      camera.status = c.status;
      tiles.get(c.id)?.setStatus(c.status);
    }
  }
  summary();
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") closeFull();
});
document.addEventListener("ecc:language", () => {
  document.title = t("cameras.title");
  summary();
});
window.addEventListener("pagehide", () => {
  for (const tile of tiles.values()) tile.stop();
  closeFull();
});
