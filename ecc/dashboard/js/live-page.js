// /live: the public live scenes, like a city portal's. No login: only cameras marked public,
// their sub stream, through /api/public/whep. Tiles recover by themselves like everywhere else.
import { apply, extend, language, setLanguage, t } from "./i18n.js";
import { createTile } from "./tiles.js";

extend({
  "zh-CN": {
    "live.title": "公开实况 · 应急指挥中心",
    "live.heading": "公开实况",
    "live.intro": "以下为向公众开放的实时画面。",
    "live.none": "当前没有公开的实时画面",
  },
  en: {
    "live.title": "Public live scenes · Emergency Command Center",
    "live.heading": "Public live scenes",
    "live.intro": "Live pictures open to the public.",
    "live.none": "No public live scenes at the moment",
  },
});

const grid = document.getElementById("tile-grid");
document.documentElement.lang = language();

function titles() {
  document.title = t("live.title");
  apply(document);
}

const res = await fetch("/api/public/cameras");
const cameras = res.ok ? await res.json() : [];
for (const camera of cameras) {
  const tile = createTile(camera, { url: `/api/public/whep/${encodeURIComponent(camera.id)}` });
  grid.append(tile.el);
  tile.start();
  window.addEventListener("pagehide", () => tile.stop());
}
document.getElementById("no-cameras").hidden = cameras.length > 0;
document.getElementById("lang-toggle").addEventListener("click", () => {
  setLanguage(language() === "en" ? "zh-CN" : "en");
  titles();
});
titles();
