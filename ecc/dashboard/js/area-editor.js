// An incident's area drawn on the site map: a circle (click the centre, set the radius) or a
// polygon (click its corners), or both. Arrival of a dispatched vehicle is detected against it
// (geofence), so a crew is not told it arrived before it did.
//
//   const area = await editArea(currentArea);  // null when cancelled
//
// The centre can also be typed (latitude, longitude), for those who do not use a mouse.
import { api } from "./api.js";
import { apply, extend, t } from "./i18n.js";
import { createMap } from "./map.js";
import { ctx } from "./shell.js";

extend({
  "zh-CN": {
    "area.title": "事件区域",
    "area.help": "在地图上点击：圆形模式设定圆心，多边形模式依次添加顶点。车辆进入区域即记为到达。",
    "area.mode": "形状",
    "area.circle": "圆形",
    "area.polygon": "多边形",
    "area.lat": "圆心纬度",
    "area.lon": "圆心经度",
    "area.radius": "半径（米）",
    "area.points": "多边形顶点：{n}",
    "area.undo": "撤销顶点",
    "area.clear": "清除全部",
    "area.save": "保存区域",
    "area.cancel": "取消",
    "area.need_three": "多边形至少需要 3 个顶点",
    "area.need_centre": "请在地图上点击或输入圆心",
  },
  en: {
    "area.title": "Incident area",
    "area.help": "Click the map: in circle mode to set the centre, in polygon mode to add corners in turn. A vehicle that enters the area has arrived.",
    "area.mode": "Shape",
    "area.circle": "Circle",
    "area.polygon": "Polygon",
    "area.lat": "Centre latitude",
    "area.lon": "Centre longitude",
    "area.radius": "Radius (m)",
    "area.points": "Polygon corners: {n}",
    "area.undo": "Undo corner",
    "area.clear": "Clear all",
    "area.save": "Save area",
    "area.cancel": "Cancel",
    "area.need_three": "A polygon needs at least 3 corners",
    "area.need_centre": "Click the map or type the centre",
  },
});

const DEFAULT_RADIUS_M = 1000;

const template = `
  <form method="dialog" class="area-form">
    <h2 data-i18n="area.title"></h2>
    <p class="muted area-help" data-i18n="area.help"></p>
    <fieldset class="area-modes">
      <legend data-i18n="area.mode"></legend>
      <label><input type="radio" name="area-mode" value="circle" checked> <span data-i18n="area.circle"></span></label>
      <label><input type="radio" name="area-mode" value="polygon"> <span data-i18n="area.polygon"></span></label>
    </fieldset>
    <div class="area-map" id="area-map"></div>
    <div class="area-fields">
      <label><span data-i18n="area.lat"></span><input id="area-lat" type="number" step="0.000001" min="-90" max="90"></label>
      <label><span data-i18n="area.lon"></span><input id="area-lon" type="number" step="0.000001" min="-180" max="180"></label>
      <label><span data-i18n="area.radius"></span><input id="area-radius" type="number" step="50" min="10" max="100000"></label>
    </div>
    <div class="area-polygon-line">
      <span id="area-points" role="status"></span>
      <button type="button" id="area-undo" data-i18n="area.undo"></button>
      <button type="button" id="area-clear" data-i18n="area.clear"></button>
    </div>
    <p class="error" id="area-error" hidden></p>
    <div class="dialog-actions">
      <button type="button" id="area-cancel" data-i18n="area.cancel"></button>
      <button type="submit" id="area-save" data-i18n="area.save"></button>
    </div>
  </form>`;

/** Edit `area` (the wire shape: lat, lon, radius_m, polygon [[lat, lon], ...]) in a dialog over
 * the site map; resolves with the new area, or null when the dialog is cancelled. */
export async function editArea(area) {
  const dialog = document.createElement("dialog");
  dialog.className = "incident-dialog area-dialog";
  dialog.id = "area-dialog";
  dialog.innerHTML = template;
  document.body.append(dialog);
  apply(dialog);
  const $ = (sel) => dialog.querySelector(sel);
  dialog.showModal();

  // A station's marker is a place to put the centre on, as a click beside it would.
  let stations = [];
  const onStation = (id) => {
    const s = stations.find((x) => x.id === id);
    if (s) place(s.lat, s.lon);
  };
  const [siteMap, list] = await Promise.all([
    createMap($("#area-map"), { site: ctx.site, legend: false, onStation }),
    api("/api/stations").catch(() => []),
  ]);
  stations = list;
  siteMap.setStations(stations);
  const L = siteMap.L;
  const map = siteMap.map;
  const drawn = L.layerGroup().addTo(map);
  const style = { color: "#ffb020", weight: 2, fillColor: "#ffb020", fillOpacity: 0.15 };

  let polygon = (area?.polygon || []).map(([lat, lon]) => [lat, lon]);
  if (area?.lat !== null && area?.lat !== undefined) {
    $("#area-lat").value = area.lat;
    $("#area-lon").value = area.lon;
    $("#area-radius").value = Math.round(area.radius_m);
  } else {
    $("#area-radius").value = DEFAULT_RADIUS_M;
  }
  if (polygon.length && (area?.lat === null || area?.lat === undefined)) {
    dialog.querySelector("input[value=polygon]").checked = true;
  }

  const mode = () => dialog.querySelector("input[name=area-mode]:checked").value;
  const centre = () => {
    const lat = Number.parseFloat($("#area-lat").value);
    const lon = Number.parseFloat($("#area-lon").value);
    return Number.isFinite(lat) && Number.isFinite(lon) ? [lat, lon] : null;
  };
  const radius = () => {
    const r = Number.parseFloat($("#area-radius").value);
    return Number.isFinite(r) && r > 0 ? r : null;
  };

  function draw() {
    drawn.clearLayers();
    const c = centre();
    if (c && radius()) L.circle(c, { ...style, radius: radius() }).addTo(drawn);
    if (polygon.length >= 3) L.polygon(polygon, style).addTo(drawn);
    else if (polygon.length) L.polyline(polygon, style).addTo(drawn);
    for (const p of polygon) L.circleMarker(p, { ...style, radius: 4, fillOpacity: 1 }).addTo(drawn);
    $("#area-points").textContent = t("area.points", { n: polygon.length });
    $("#area-undo").disabled = polygon.length === 0;
    const fields = dialog.querySelector(".area-fields");
    fields.dataset.mode = mode();
  }

  function place(lat, lon) {
    if (mode() === "circle") {
      $("#area-lat").value = lat.toFixed(6);
      $("#area-lon").value = lon.toFixed(6);
    } else {
      polygon.push([Number(lat.toFixed(6)), Number(lon.toFixed(6))]);
    }
    $("#area-error").hidden = true;
    draw();
  }
  map.on("click", (e) => place(e.latlng.lat, e.latlng.lng));
  for (const input of dialog.querySelectorAll(".area-fields input, input[name=area-mode]")) {
    input.addEventListener("input", draw);
  }
  $("#area-undo").addEventListener("click", () => {
    polygon.pop();
    draw();
  });
  $("#area-clear").addEventListener("click", () => {
    polygon = [];
    $("#area-lat").value = "";
    $("#area-lon").value = "";
    draw();
  });
  draw();
  const shown = drawn.getLayers().filter((l) => l.getBounds);
  if (shown.length) map.fitBounds(L.featureGroup(shown).getBounds().pad(0.3));

  return new Promise((resolve) => {
    const done = (value) => {
      siteMap.destroy();
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    $("#area-cancel").addEventListener("click", () => done(null));
    dialog.addEventListener("cancel", (e) => {
      e.preventDefault();
      done(null);
    });
    $("#area-save").addEventListener("click", (e) => {
      e.preventDefault();
      const c = centre();
      const error = $("#area-error");
      if (polygon.length && polygon.length < 3) {
        error.textContent = t("area.need_three");
        error.hidden = false;
        return;
      }
      const typed = $("#area-lat").value !== "" || $("#area-lon").value !== "";
      if (typed && (!c || !radius())) {
        error.textContent = t("area.need_centre");
        error.hidden = false;
        return;
      }
      const out = { polygon };
      if (c) Object.assign(out, { lat: c[0], lon: c[1], radius_m: radius() });
      done(out);
    });
  });
}
