// The site map (Leaflet): the offline base layer, stations by worst open alert, cameras, and
// vehicles with heading and a short trail. Works with no internet: tiles are drawn only when
// the site gives a tile_url. Used by the stations page, the overview and the operator's wall.
//
//   const map = await createMap(el, { site, onStation: (id) => ... });
//   map.setStations(list); map.setCameras(list); map.setVehicles(list);
//   events.on("position", (p) => map.position(p));
import { api } from "./api.js";
import { extend, localName, t } from "./i18n.js";
import { shape } from "./severity.js";
import * as vendor from "./vendor.js";

extend({
  "zh-CN": {
    "map.label": "地图",
    "map.zoom_in": "放大",
    "map.zoom_out": "缩小",
    "map.legend": "图例",
    "map.stations": "监测站",
    "map.cameras": "摄像机",
    "map.vehicles": "指挥车",
    "map.offline": "离线",
    "map.station_label": "{name}，{state}",
    "map.camera_label": "摄像机 {name}",
    "map.camera_offline_label": "摄像机 {name}，离线",
    "map.vehicle_label": "{name}，{time}",
    "map.vehicle_offline_label": "{name}，离线，{time}",
  },
  en: {
    "map.label": "Map",
    "map.zoom_in": "Zoom in",
    "map.zoom_out": "Zoom out",
    "map.legend": "Legend",
    "map.stations": "Stations",
    "map.cameras": "Cameras",
    "map.vehicles": "Vehicles",
    "map.offline": "Offline",
    "map.station_label": "{name}, {state}",
    "map.camera_label": "Camera {name}",
    "map.camera_offline_label": "Camera {name}, offline",
    "map.vehicle_label": "{name}, {time}",
    "map.vehicle_offline_label": "{name}, offline, {time}",
  },
});

// A vehicle's trail: its last positions, at most this many and this old.
const TRAIL_POINTS = 30;
const TRAIL_SECONDS = 15 * 60;
const SIZES = { station: 24, camera: 20, vehicle: 28 };

// Styles of the base layer by feature kind, for a dark screen: land a shade above the
// background, water in blue, roads in grey; thin enough that markers stay in front.
function baseStyle(feature, withTiles) {
  const kind = feature.properties && feature.properties.kind;
  if (kind === "outline" || kind === "island") {
    return {
      color: "#3f6489",
      weight: 1.5,
      fillColor: "#132a42",
      fillOpacity: withTiles ? 0 : 1,
    };
  }
  if (kind === "river") return { color: "#2f86d6", weight: 3, opacity: 0.9 };
  if (kind === "road") return { color: "#6f8296", weight: 2, opacity: 0.85 };
  return { color: "#5b7088", weight: 1 };
}

// One fetch of the base layer per page, however many maps it shows.
let baseLayer = null;
function loadBaseLayer() {
  baseLayer ??= api("/api/site/base-layer");
  return baseLayer;
}

/** A map of the site in `el`; resolves once Leaflet and the base layer are loaded. */
export async function createMap(el, options) {
  const [L, geojson] = await Promise.all([
    vendor.leaflet(),
    options.site.map.base_layer ? loadBaseLayer() : Promise.resolve(null),
  ]);
  return new SiteMap(L, el, geojson, options);
}

// A camera body and lens; offline cameras also get a slash (css/map.css), not only grey.
function cameraGlyph(size = 20) {
  return (
    `<svg class="mk" width="${size}" height="${size}" viewBox="0 0 20 20" aria-hidden="true" focusable="false">` +
    '<rect class="mk-shape" x="1" y="4" width="13" height="12" rx="2"/>' +
    '<polygon class="mk-shape" points="14,8 19,5 19,15 14,12"/>' +
    '<line class="mk-slash" x1="2" y1="18" x2="18" y2="2"/></svg>'
  );
}

// ts on the wire is RFC 3339 or epoch seconds (DESIGN.md); a position without one is "now".
function epochMs(ts) {
  if (typeof ts === "number") return ts * 1000;
  const ms = typeof ts === "string" ? Date.parse(ts) : Number.NaN;
  return Number.isNaN(ms) ? Date.now() : ms;
}

// A disc with an arrow along the heading; a dot when the heading is unknown.
function vehicleGlyph(heading, size = 28) {
  const arrow =
    heading === null || heading === undefined
      ? '<circle class="mk-mark" cx="14" cy="14" r="3"/>'
      : `<polygon class="mk-mark" points="14,4 20,20 14,16.5 8,20" transform="rotate(${Number(heading)} 14 14)"/>`;
  return (
    `<svg class="mk" width="${size}" height="${size}" viewBox="0 0 28 28" aria-hidden="true" focusable="false">` +
    `<circle class="mk-shape" cx="14" cy="14" r="12.5"/>${arrow}</svg>`
  );
}

export class SiteMap {
  constructor(L, el, geojson, options) {
    this.L = L;
    this.el = el;
    this.options = { legend: true, ...options };
    this.site = options.site;
    // Markers grow with the screen where the page says so (the wall on a 4K display).
    this.scale = options.scale || 1;
    this.stations = new Map(); // id -> { data, marker }
    this.cameras = new Map();
    this.vehicles = new Map(); // id -> { data, marker, trail, points }
    this.selected = null;

    el.classList.add("site-map");
    el.setAttribute("role", "region");
    el.dataset.i18nAttr = "aria-label:map.label";
    el.setAttribute("aria-label", t("map.label"));
    const map = L.map(el, {
      center: this.site.map.center,
      zoom: this.site.map.zoom,
      zoomControl: false,
      attributionControl: false,
      zoomSnap: 0.25,
      minZoom: 8,
      maxZoom: 18,
      // Sizes are followed by the ResizeObserver below, which also sees layout changes that
      // are not window resizes; Leaflet's own window handler would delay redraws by 200 ms.
      trackResize: false,
    });
    this.map = map;
    const tiles = this.site.map.tile_url;
    if (tiles) L.tileLayer(tiles, { maxZoom: 18, className: "map-tiles" }).addTo(map);
    this.labels = [];
    if (geojson) {
      this.base = L.geoJSON(geojson, {
        style: (f) => baseStyle(f, Boolean(tiles)),
        interactive: false,
      }).addTo(map);
      this._riverLabels(geojson);
    }
    map.createPane("trails").style.zIndex = 450;
    this.stationLayer = L.layerGroup().addTo(map);
    this.cameraLayer = L.layerGroup().addTo(map);
    this.vehicleLayer = L.layerGroup().addTo(map);
    this._controls();

    // Layout changes (a drawer opening, a window resize) must reach Leaflet, or its tiles and
    // hit areas stay at the old size.
    this._resize = new ResizeObserver(() => {
      map.invalidateSize({ pan: false });
      this._reveal();
    });
    this._resize.observe(el);
    this._onLanguage = () => this.relabel();
    document.addEventListener("ecc:language", this._onLanguage);
  }

  destroy() {
    document.removeEventListener("ecc:language", this._onLanguage);
    this._resize.disconnect();
    this.map.remove();
  }

  // --- base layer and controls ---------------------------------------------------------

  _riverLabels(geojson) {
    for (const f of geojson.features || []) {
      const kind = f.properties && f.properties.kind;
      if (kind !== "river" || f.geometry.type !== "LineString") continue;
      const coords = f.geometry.coordinates;
      const [lon, lat] = coords[Math.floor(coords.length / 2)];
      const label = this.L.tooltip({
        permanent: true,
        direction: "center",
        className: "map-label",
        interactive: false,
      })
        .setLatLng([lat, lon])
        .setContent(localName(f.properties));
      label.addTo(this.map);
      this.labels.push({ label, props: f.properties });
    }
  }

  _controls() {
    const L = this.L;
    this.zoom = L.control
      .zoom({ position: "topright", zoomInTitle: t("map.zoom_in"), zoomOutTitle: t("map.zoom_out") })
      .addTo(this.map);
    if (!this.options.legend) return;
    const legend = L.control({ position: "bottomleft" });
    legend.onAdd = () => {
      const div = L.DomUtil.create("div", "map-legend");
      div.setAttribute("role", "group");
      div.dataset.i18nAttr = "aria-label:map.legend";
      const items = ["ok", "info", "warning", "danger", "critical"]
        .map((s) => `<span class="legend-item">${shape(s === "ok" ? null : s, 16)}<span data-i18n="severity.${s}"></span></span>`)
        .join("");
      div.innerHTML = `
        <div class="legend-row">${items}
          <span class="legend-item"><span class="mk-icon mk-offline">${shape(null, 16)}</span><span data-i18n="map.offline"></span></span>
        </div>
        <div class="legend-row">
          <label class="legend-item"><input type="checkbox" data-layer="stationLayer" checked><span data-i18n="map.stations"></span></label>
          <label class="legend-item"><input type="checkbox" data-layer="cameraLayer" checked><span class="mk-icon mk-camera">${cameraGlyph(16)}</span><span data-i18n="map.cameras"></span></label>
          <label class="legend-item"><input type="checkbox" data-layer="vehicleLayer" checked><span class="mk-icon mk-vehicle">${vehicleGlyph(0, 16)}</span><span data-i18n="map.vehicles"></span></label>
        </div>`;
      for (const box of div.querySelectorAll("input[data-layer]")) {
        box.addEventListener("change", () => {
          const layer = this[box.dataset.layer];
          if (box.checked) layer.addTo(this.map);
          else layer.remove();
        });
      }
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      this.legendEl = div;
      this._applyLegend();
      return div;
    };
    legend.addTo(this.map);
  }

  _applyLegend() {
    if (!this.legendEl) return;
    for (const el of this.legendEl.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    this.legendEl.setAttribute("aria-label", t("map.legend"));
  }

  /** Re-draw every string in the current language (called on ecc:language). */
  relabel() {
    this.el.setAttribute("aria-label", t("map.label"));
    const zoom = this.zoom.getContainer();
    zoom.querySelector(".leaflet-control-zoom-in").title = t("map.zoom_in");
    zoom.querySelector(".leaflet-control-zoom-in").setAttribute("aria-label", t("map.zoom_in"));
    zoom.querySelector(".leaflet-control-zoom-out").title = t("map.zoom_out");
    zoom.querySelector(".leaflet-control-zoom-out").setAttribute("aria-label", t("map.zoom_out"));
    this._applyLegend();
    for (const { label, props } of this.labels) label.setContent(localName(props));
    for (const entry of this.stations.values()) this._drawStation(entry);
    for (const entry of this.cameras.values()) this._drawCamera(entry);
    for (const entry of this.vehicles.values()) if (entry.marker) this._drawVehicle(entry);
  }

  /** Draw every marker at `scale` times its size (1: as designed for a 1920 px screen). */
  setScale(scale) {
    if (scale === this.scale) return;
    this.scale = scale;
    const kinds = [
      ["station", this.stations],
      ["camera", this.cameras],
      ["vehicle", this.vehicles],
    ];
    for (const [kind, entries] of kinds) {
      const size = SIZES[kind] * scale;
      for (const entry of entries.values()) {
        if (!entry.marker) continue;
        // Leaflet reuses the marker's element for the new icon; its look is put back after.
        entry.marker.setIcon(this.L.divIcon({ className: `mk-icon mk-${kind}`, html: "", iconSize: [size, size] }));
        this._decorate(entry.marker);
      }
    }
  }

  // --- markers -------------------------------------------------------------------------

  _marker(latlng, kind, id, onActivate) {
    const L = this.L;
    const size = SIZES[kind] * this.scale;
    const marker = L.marker(latlng, {
      icon: L.divIcon({ className: `mk-icon mk-${kind}`, html: "", iconSize: [size, size] }),
      // In the tab order (as a button) only when choosing it does something.
      keyboard: Boolean(onActivate),
      riseOnHover: true,
    });
    marker.on("click", () => onActivate && onActivate(id));
    // Leaflet opens popups on Enter; these markers have none, so Enter and Space act as a click.
    marker.on("add", () => {
      const el = marker.getElement();
      el.dataset.id = id;
      el.addEventListener("keydown", (e) => {
        if ((e.key === "Enter" || e.key === " ") && onActivate) {
          e.preventDefault();
          onActivate(id);
        }
      });
      this._decorate(marker);
    });
    return marker;
  }

  /** Put the marker's current look (kept on the marker) onto its element, which Leaflet
   *  re-creates whenever the layer is added again. */
  _decorate(marker) {
    const el = marker.getElement();
    const look = marker.look;
    if (!el || !look) return;
    el.className = el.className
      .split(" ")
      .filter((c) => !c.startsWith("mk-") || c === "mk-icon" || c === look.base)
      .concat(look.classes)
      .join(" ");
    el.innerHTML = look.html;
    // Leaflet makes keyboard markers buttons; the others are pictures with a name.
    if (!el.hasAttribute("role")) el.setAttribute("role", "img");
    el.setAttribute("aria-label", look.label);
    if (look.selected !== undefined) el.setAttribute("aria-pressed", String(look.selected));
  }

  _setLook(marker, look) {
    marker.look = look;
    marker.options.zIndexOffset = look.z || 0;
    marker.setZIndexOffset(look.z || 0);
    if (marker.getTooltip()) marker.setTooltipContent(look.label);
    else marker.bindTooltip(look.label, { direction: "top", offset: [0, -14] });
    this._decorate(marker);
  }

  setStations(list) {
    const seen = new Set();
    for (const s of list) {
      seen.add(s.id);
      let entry = this.stations.get(s.id);
      if (!entry) {
        entry = { data: s, marker: this._marker([s.lat, s.lon], "station", s.id, this.options.onStation) };
        this.stations.set(s.id, entry);
        entry.marker.addTo(this.stationLayer);
      }
      entry.data = s;
      this._drawStation(entry);
    }
    for (const [id, entry] of this.stations) {
      if (!seen.has(id)) {
        entry.marker.remove();
        this.stations.delete(id);
      }
    }
  }

  /** Change some fields of one station (alert_severity, online, ...). */
  updateStation(id, changes) {
    const entry = this.stations.get(id);
    if (!entry) return;
    Object.assign(entry.data, changes);
    this._drawStation(entry);
  }

  _drawStation(entry) {
    const s = entry.data;
    const sev = s.alert_severity || null;
    const offline = s.online === false;
    const state = [t(`severity.${sev || "ok"}`)];
    if (offline) state.push(t("map.offline"));
    const tag = sev ? `<span class="mk-tag sev sev-${sev}">${t(`severity.${sev}`)}</span>` : "";
    this._setLook(entry.marker, {
      base: "mk-station",
      classes: [`mk-sev-${sev || "ok"}`, ...(offline ? ["mk-offline"] : []), ...(this.selected === s.id ? ["mk-selected"] : [])],
      html: `${shape(sev)}${tag}`,
      label: t("map.station_label", { name: localName(s), state: state.join(" · ") }),
      selected: this.selected === s.id,
      // Worse alerts draw on top of milder ones where markers overlap.
      z: 1000 * ((sev ? ["info", "warning", "danger", "critical"].indexOf(sev) : -1) + 2),
    });
  }

  /** Mark one station as selected (the open drawer), or none with null. */
  select(id, { pan = false } = {}) {
    const before = this.selected;
    this.selected = id;
    for (const sid of [before, id]) {
      const entry = sid && this.stations.get(sid);
      if (entry) this._drawStation(entry);
    }
    const entry = id && this.stations.get(id);
    if (pan && entry) {
      // The layout may just have changed (a drawer opening): measure before centring.
      this.map.invalidateSize({ pan: false });
      this.map.panTo(entry.marker.getLatLng(), { animate: false });
    }
  }

  // Pan the selected station into view when it is not (after a select, or when a drawer
  // opening beside the map has made the map narrower).
  _reveal() {
    const entry = this.selected && this.stations.get(this.selected);
    if (entry && !this.map.getBounds().pad(-0.2).contains(entry.marker.getLatLng())) {
      this.map.panTo(entry.marker.getLatLng(), { animate: false });
    }
  }

  setCameras(list) {
    for (const c of list) {
      let entry = this.cameras.get(c.id);
      if (!entry) {
        entry = { data: c, marker: this._marker([c.lat, c.lon], "camera", c.id, this.options.onCamera) };
        this.cameras.set(c.id, entry);
        entry.marker.addTo(this.cameraLayer);
      }
      entry.data = c;
      this._drawCamera(entry);
    }
  }

  /** A camera status event: {id, online, ...}. */
  updateCamera(status) {
    const entry = this.cameras.get(status.id);
    if (!entry) return;
    entry.data.status = status;
    this._drawCamera(entry);
  }

  _drawCamera(entry) {
    const c = entry.data;
    const offline = c.status && c.status.online === false;
    const name = localName(c);
    this._setLook(entry.marker, {
      base: "mk-camera",
      classes: offline ? ["mk-offline"] : [],
      html: cameraGlyph(),
      label: t(offline ? "map.camera_offline_label" : "map.camera_label", { name }),
      z: 0,
    });
  }

  /** The site's vehicles (names); they appear on the map with their first position. */
  setVehicles(list) {
    for (const v of list) {
      const entry = this.vehicles.get(v.id) || { points: [] };
      entry.data = v;
      this.vehicles.set(v.id, entry);
      // Items of GET /api/vehicles carry the newest stored position: shown at once.
      if (!entry.marker && v.position) this.position({ ...v.position, vehicle_id: v.id });
      else if (entry.marker) this._drawVehicle(entry);
    }
  }

  /** A "position" event: {vehicle_id, lat, lon, heading?, ts}. */
  position(p) {
    if (typeof p.lat !== "number" || typeof p.lon !== "number") return;
    let entry = this.vehicles.get(p.vehicle_id);
    if (!entry) {
      entry = { data: { id: p.vehicle_id, name: p.vehicle_id }, points: [] };
      this.vehicles.set(p.vehicle_id, entry);
    }
    const tsMs = epochMs(p.ts);
    // Positions may come late (a vehicle's queue uploaded after an outage, a track loaded after
    // the newest position): the trail stays in time order and the marker on the newest.
    if (entry.points.some((q) => q.ts === tsMs)) return;
    entry.points.push({ latlng: [p.lat, p.lon], ts: tsMs });
    entry.points.sort((a, b) => a.ts - b.ts);
    if (entry.last && entry.last.ts > tsMs) p = { ...entry.last, vehicle_id: p.vehicle_id };
    const newest = Math.max(tsMs, entry.last ? entry.last.ts : tsMs);
    const cutoff = newest - TRAIL_SECONDS * 1000;
    entry.points = entry.points.filter((q) => q.ts >= cutoff).slice(-TRAIL_POINTS);
    entry.last = { ...p, ts: newest };
    if (!entry.marker) {
      entry.marker = this._marker([p.lat, p.lon], "vehicle", p.vehicle_id, this.options.onVehicle);
      entry.trail = this.L.polyline([], { pane: "trails", className: "vehicle-trail", interactive: false });
      entry.trail.addTo(this.vehicleLayer);
      entry.marker.addTo(this.vehicleLayer);
    }
    entry.marker.setLatLng([p.lat, p.lon]);
    entry.trail.setLatLngs(entry.points.map((q) => q.latlng));
    this._drawVehicle(entry);
  }

  /** A vehicle where it was at one moment: `points` are its positions up to then, oldest
   *  first; the marker on the last, the trail the minutes before it. The incident review moves
   *  through time backwards as well as forwards; no points hides the vehicle. */
  showAt(vehicleId, points) {
    let entry = this.vehicles.get(vehicleId);
    if (!entry) {
      entry = { data: { id: vehicleId, name: vehicleId }, points: [] };
      this.vehicles.set(vehicleId, entry);
    }
    if (!points.length) {
      entry.marker?.remove();
      entry.trail?.remove();
      Object.assign(entry, { marker: null, trail: null, points: [], last: null });
      return;
    }
    const last = points[points.length - 1];
    const newest = epochMs(last.ts);
    entry.points = points
      .map((q) => ({ latlng: [q.lat, q.lon], ts: epochMs(q.ts) }))
      .filter((q) => q.ts >= newest - TRAIL_SECONDS * 1000)
      .slice(-TRAIL_POINTS);
    entry.last = { ...last, vehicle_id: vehicleId, ts: newest };
    if (!entry.marker) {
      entry.marker = this._marker([last.lat, last.lon], "vehicle", vehicleId, this.options.onVehicle);
      entry.trail = this.L.polyline([], { pane: "trails", className: "vehicle-trail", interactive: false });
      entry.trail.addTo(this.vehicleLayer);
      entry.marker.addTo(this.vehicleLayer);
    }
    entry.marker.setLatLng([last.lat, last.lon]);
    entry.trail.setLatLngs(entry.points.map((q) => q.latlng));
    this._drawVehicle(entry);
  }

  _drawVehicle(entry) {
    const heading = entry.last && typeof entry.last.heading === "number" ? entry.last.heading : null;
    const time = entry.last ? this.options.formatTime?.(new Date(entry.last.ts).toISOString()) ?? "" : "";
    // Offline (not heard lately, see the vehicles API's status): the dashed outline.
    const offline = entry.data.status && entry.data.status.online === false;
    this._setLook(entry.marker, {
      base: "mk-vehicle",
      classes: [...(heading === null ? [] : ["mk-heading"]), ...(offline ? ["mk-offline"] : [])],
      html: vehicleGlyph(heading),
      label: t(offline ? "map.vehicle_offline_label" : "map.vehicle_label", { name: localName(entry.data), time }),
      z: 5000,
    });
  }

  /** Frame the stations and cameras (the site's centre and zoom fit only one screen size). */
  fitMarkers() {
    const points = [...this.stations.values(), ...this.cameras.values()].map((e) => e.marker.getLatLng());
    if (points.length === 0) return;
    this.map.fitBounds(this.L.latLngBounds(points), { padding: [36, 36], maxZoom: 14, animate: false });
  }
}
