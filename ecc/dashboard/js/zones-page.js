// /admin/zones: draw a camera's motion zones and masks over a still from it, set their
// sensitivity, minimum area and duration, intrusion alert and hours, and save. Saved settings go
// to the site's motion sidecar (never the hand-written site file) and apply at once on the
// camera's worker. Coordinates are normalized (0..1 from the left and the top), as in the site.
import { ApiError, api } from "./api.js";
import { apply, extend, localName, t } from "./i18n.js";
import { boot } from "./shell.js";

extend({
  "zh-CN": {
    "zones.title": "移动侦测区域 · 应急指挥中心",
    "zones.heading": "移动侦测区域",
    "zones.camera": "摄像机",
    "zones.no_still": "暂无该摄像机的画面（摄像机上线后约 30 秒内生成）",
    "zones.refresh_still": "刷新画面",
    "zones.new_zone": "新建区域",
    "zones.new_mask": "新建屏蔽区",
    "zones.finish": "完成绘制",
    "zones.cancel": "取消",
    "zones.delete": "删除所选",
    "zones.hint_idle": "点“新建区域”或“新建屏蔽区”后在画面上逐点单击绘制多边形；拖动所选图形的顶点可调整。",
    "zones.hint_drawing": "单击添加顶点，单击第一个顶点、双击或按回车完成（至少 3 个点），Esc 取消。",
    "zones.camera_settings": "摄像机设置",
    "zones.enabled": "启用移动侦测",
    "zones.people": "识别行人（HOG 行人检测）",
    "zones.sensitivity": "灵敏度（0–1）",
    "zones.min_area": "最小面积（画面的 %）",
    "zones.min_duration": "最短持续时间（秒）",
    "zones.shapes": "区域与屏蔽区",
    "zones.none": "尚未绘制区域：整个画面作为一个区域分析",
    "zones.zone": "区域",
    "zones.mask": "屏蔽区",
    "zones.points": "{n} 个顶点",
    "zones.selected_zone": "所选区域",
    "zones.selected_mask": "所选屏蔽区",
    "zones.id": "编号（小写字母、数字和 -）",
    "zones.name": "名称",
    "zones.intrusion": "入侵告警级别",
    "zones.intrusion_none": "不告警",
    "zones.active_hours": "告警时段（如 18:00-07:00，多个用逗号分隔；空为全天）",
    "zones.default": "默认 {value}",
    "zones.save": "保存",
    "zones.saving": "正在保存…",
    "zones.saved": "已保存，摄像机立即按新设置分析",
    "zones.revert": "恢复站点文件设置",
    "zones.reverted": "已恢复为站点文件中的设置",
    "zones.dirty": "有未保存的修改",
    "zones.source_saved": "当前设置：在本页面保存",
    "zones.source_site": "当前设置：站点文件",
    "zones.source_none": "该摄像机未启用移动侦测",
    "zones.invalid": "无法保存：{detail}",
    "zones.stage": "摄像机画面与区域",
  },
  en: {
    "zones.title": "Motion zones · Emergency Command Center",
    "zones.heading": "Motion zones",
    "zones.camera": "Camera",
    "zones.no_still": "No still from this camera yet (one comes within about 30 s of it going online)",
    "zones.refresh_still": "Refresh still",
    "zones.new_zone": "New zone",
    "zones.new_mask": "New mask",
    "zones.finish": "Finish shape",
    "zones.cancel": "Cancel",
    "zones.delete": "Delete selected",
    "zones.hint_idle": "Click “New zone” or “New mask”, then click corner by corner on the picture; drag a corner of the selected shape to move it.",
    "zones.hint_drawing": "Click to add a corner; click the first corner, double-click or press Enter to finish (three corners at least); Esc cancels.",
    "zones.camera_settings": "Camera settings",
    "zones.enabled": "Motion detection on",
    "zones.people": "Recognise people (HOG people detector)",
    "zones.sensitivity": "Sensitivity (0–1)",
    "zones.min_area": "Minimum area (% of the picture)",
    "zones.min_duration": "Minimum duration (s)",
    "zones.shapes": "Zones and masks",
    "zones.none": "No zones drawn: the whole picture is analysed as one zone",
    "zones.zone": "Zone",
    "zones.mask": "Mask",
    "zones.points": "{n} corners",
    "zones.selected_zone": "Selected zone",
    "zones.selected_mask": "Selected mask",
    "zones.id": "Id (lowercase letters, digits and -)",
    "zones.name": "Name",
    "zones.intrusion": "Intrusion alert severity",
    "zones.intrusion_none": "No alert",
    "zones.active_hours": "Alert hours (e.g. 18:00-07:00, several separated by commas; empty: always)",
    "zones.default": "default {value}",
    "zones.save": "Save",
    "zones.saving": "Saving…",
    "zones.saved": "Saved; the camera is analysed with the new settings now",
    "zones.revert": "Back to the site file",
    "zones.reverted": "Back to the settings of the site file",
    "zones.dirty": "Unsaved changes",
    "zones.source_saved": "Settings in force: saved on this page",
    "zones.source_site": "Settings in force: the site file",
    "zones.source_none": "Motion detection is off for this camera",
    "zones.invalid": "Not saved: {detail}",
    "zones.stage": "Camera picture and zones",
  },
});

const SEVERITIES = ["info", "warning", "danger", "critical"];
const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 1000; // viewBox width; the height follows the picture's aspect ratio
const CLOSE_PX = 12; // a click this close to the first corner closes the shape

const view = document.getElementById("view");
const state = {
  cameras: [],
  camera: null,
  config: null,
  draft: null,
  selected: null, // { kind: "zones" | "masks", index }
  drawing: null, // { kind, points }
  drag: null, // { kind, index, point }
  aspect: 16 / 9,
  still: null,
  dirty: false,
  status: "", // i18n key of the status line
  error: null, // { key, detail } of the error line
};

view.innerHTML = `
  <div class="page-head zones-head">
    <h1 data-i18n="zones.heading"></h1>
    <label class="zones-camera"><span data-i18n="zones.camera"></span>
      <select id="zone-camera"></select></label>
    <span id="zone-source" class="muted"></span>
  </div>
  <div class="zones-layout">
    <section class="zones-canvas">
      <div class="zone-tools" role="toolbar">
        <button type="button" id="new-zone" data-i18n="zones.new_zone"></button>
        <button type="button" id="new-mask" data-i18n="zones.new_mask"></button>
        <button type="button" id="finish-shape" data-i18n="zones.finish" disabled></button>
        <button type="button" id="cancel-shape" data-i18n="zones.cancel" disabled></button>
        <button type="button" id="delete-shape" data-i18n="zones.delete" disabled></button>
        <button type="button" class="link" id="refresh-still" data-i18n="zones.refresh_still"></button>
      </div>
      <div class="zone-stage" id="zone-stage" data-i18n-attr="aria-label:zones.stage" role="group">
        <img id="zone-still" alt="" hidden>
        <p id="zone-no-still" class="zone-no-still muted" data-i18n="zones.no_still" hidden></p>
        <svg id="zone-svg" xmlns="${SVG}" preserveAspectRatio="none"></svg>
      </div>
      <p id="zone-hint" class="muted zone-hint"></p>
    </section>
    <aside class="zones-side">
      <fieldset class="zone-panel" id="camera-panel">
        <legend data-i18n="zones.camera_settings"></legend>
        <label class="check"><input type="checkbox" id="cam-enabled"><span data-i18n="zones.enabled"></span></label>
        <label class="check"><input type="checkbox" id="cam-people"><span data-i18n="zones.people"></span></label>
        <label><span data-i18n="zones.sensitivity"></span><input type="number" id="cam-sensitivity" min="0" max="1" step="0.05"></label>
        <label><span data-i18n="zones.min_area"></span><input type="number" id="cam-min-area" min="0.001" max="100" step="0.05"></label>
        <label><span data-i18n="zones.min_duration"></span><input type="number" id="cam-min-duration" min="0" max="60" step="0.5"></label>
      </fieldset>
      <fieldset class="zone-panel">
        <legend data-i18n="zones.shapes"></legend>
        <ul id="shape-list" class="shape-list"></ul>
        <p id="shape-none" class="muted" data-i18n="zones.none" hidden></p>
      </fieldset>
      <fieldset class="zone-panel" id="shape-panel" hidden>
        <legend id="shape-legend"></legend>
        <label data-for="zones"><span data-i18n="zones.id"></span><input type="text" id="shape-id" maxlength="63" autocomplete="off"></label>
        <label><span data-i18n="zones.name"></span><input type="text" id="shape-name" maxlength="60" autocomplete="off"></label>
        <label data-for="zones"><span data-i18n="zones.sensitivity"></span><input type="number" id="shape-sensitivity" min="0" max="1" step="0.05"></label>
        <label data-for="zones"><span data-i18n="zones.min_area"></span><input type="number" id="shape-min-area" min="0.001" max="100" step="0.05"></label>
        <label data-for="zones"><span data-i18n="zones.min_duration"></span><input type="number" id="shape-min-duration" min="0" max="60" step="0.5"></label>
        <label data-for="zones"><span data-i18n="zones.intrusion"></span><select id="shape-intrusion"></select></label>
        <label data-for="zones"><span data-i18n="zones.active_hours"></span><input type="text" id="shape-hours" placeholder="18:00-07:00" autocomplete="off"></label>
      </fieldset>
      <div class="zone-footer">
        <div class="zone-actions">
          <button type="button" class="primary" id="save-zones" data-i18n="zones.save"></button>
          <button type="button" id="revert-zones" data-i18n="zones.revert"></button>
        </div>
        <p id="zone-status" class="muted" role="status"></p>
        <p id="zone-error" class="error" role="alert" hidden></p>
      </div>
    </aside>
  </div>`;

const $ = (id) => document.getElementById(id);
const stage = $("zone-stage");
const svg = $("zone-svg");

// -- helpers -----------------------------------------------------------------------------

const clone = (value) => JSON.parse(JSON.stringify(value));
const round = (v) => Math.round(v * 10000) / 10000;

function numberOrNull(input) {
  if (input.value.trim() === "") return null;
  const v = Number(input.value);
  return Number.isFinite(v) ? v : null;
}

function percent(fraction) {
  return fraction === null || fraction === undefined ? "" : String(round(fraction * 100));
}

function shapes(kind) {
  return state.draft[kind];
}

function selectedShape() {
  const s = state.selected;
  return s ? shapes(s.kind)[s.index] : null;
}

function nextZoneId() {
  const taken = new Set(state.draft.zones.map((z) => z.id));
  for (let n = 1; ; n++) if (!taken.has(`zone-${n}`)) return `zone-${n}`;
}

function markDirty() {
  state.dirty = true;
  status("zones.dirty");
}

/** The status line, by i18n key ("" for none), so that it follows the language. */
function status(key) {
  state.status = key;
  $("zone-status").textContent = key ? t(key) : "";
}

/** The error line: an i18n key with the server's detail, or null for none. */
function showError(key, detail = "") {
  state.error = key ? { key, detail } : null;
  const el = $("zone-error");
  el.textContent = key ? t(key, { detail }) : "";
  el.hidden = !key;
}

/** A 422's detail (FastAPI's list of problems) as "zones[0] (crest).polygon: ..." lines. */
function problems(err) {
  let detail = err.detail;
  try {
    detail = JSON.parse(err.detail);
  } catch (_) { /* a plain message */ }
  if (!Array.isArray(detail)) return String(detail);
  return detail
    .map((p) => {
      const loc = (p.loc || []).filter((part) => part !== "body");
      let where = "";
      loc.forEach((part, i) => {
        if (typeof part === "number") {
          where += `[${part}]`;
          const list = state.draft[loc[i - 1]];
          if (Array.isArray(list) && list[part] && list[part].id) where += ` (${list[part].id})`;
        } else where += where ? `.${part}` : part;
      });
      return `${where}: ${p.msg}`;
    })
    .join("; ");
}

// -- drawing -----------------------------------------------------------------------------

function point(e) {
  const r = stage.getBoundingClientRect();
  const x = Math.min(1, Math.max(0, (e.clientX - r.left) / r.width));
  const y = Math.min(1, Math.max(0, (e.clientY - r.top) / r.height));
  return [round(x), round(y)];
}

function pixels(a, b) {
  const r = stage.getBoundingClientRect();
  return Math.hypot((a[0] - b[0]) * r.width, (a[1] - b[1]) * r.height);
}

function startDrawing(kind) {
  state.drawing = { kind, points: [] };
  state.selected = null;
  showError(null);
  render();
}

function finishDrawing() {
  const d = state.drawing;
  if (!d) return;
  // A double-click leaves its two clicks as corners on one spot: keep one.
  const points = d.points.filter((p, i) => i === 0 || pixels(p, d.points[i - 1]) > 2);
  if (points.length < 3) return;
  let shape;
  if (d.kind === "zones") {
    shape = { id: nextZoneId(), polygon: points, active_hours: [] };
    if (!state.config.motion && !state.draft.enabled) {
      // Drawing the first zone of a camera that is not analysed means switching it on.
      state.draft.enabled = true;
    }
  } else {
    shape = { polygon: points };
  }
  shapes(d.kind).push(shape);
  state.selected = { kind: d.kind, index: shapes(d.kind).length - 1 };
  state.drawing = null;
  markDirty();
  render();
}

function cancelDrawing() {
  state.drawing = null;
  render();
}

function deleteSelected() {
  const s = state.selected;
  if (!s) return;
  shapes(s.kind).splice(s.index, 1);
  state.selected = null;
  markDirty();
  render();
}

stage.addEventListener("pointerdown", (e) => {
  if (e.button !== 0 || !state.draft) return;
  const p = point(e);
  if (state.drawing) {
    const pts = state.drawing.points;
    if (pts.length >= 3 && pixels(p, pts[0]) <= CLOSE_PX) {
      finishDrawing();
      return;
    }
    pts.push(p);
    render();
    return;
  }
  const handle = e.target.closest("[data-corner]");
  if (handle && state.selected) {
    state.drag = { ...state.selected, corner: Number(handle.dataset.corner) };
    stage.setPointerCapture(e.pointerId);
    return;
  }
  const hit = e.target.closest("[data-shape]");
  state.selected = hit ? { kind: hit.dataset.kind, index: Number(hit.dataset.shape) } : null;
  render();
});

stage.addEventListener("pointermove", (e) => {
  const d = state.drag;
  if (!d) return;
  shapes(d.kind)[d.index].polygon[d.corner] = point(e);
  state.dirty = true;
  renderSvg();
});

stage.addEventListener("pointerup", () => {
  if (state.drag) {
    state.drag = null;
    markDirty();
    render();
  }
});

stage.addEventListener("dblclick", (e) => {
  if (state.drawing) {
    e.preventDefault();
    finishDrawing();
  }
});

document.addEventListener("keydown", (e) => {
  if (!state.drawing) return;
  if (e.key === "Escape") cancelDrawing();
  else if (e.key === "Enter") finishDrawing();
});

// -- rendering ---------------------------------------------------------------------------

function el(name, attrs = {}) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function renderSvg() {
  const height = WIDTH / state.aspect;
  svg.setAttribute("viewBox", `0 0 ${WIDTH} ${height}`);
  const scale = WIDTH / Math.max(1, stage.clientWidth); // viewBox units per screen pixel
  const at = ([x, y]) => `${x * WIDTH},${y * height}`;
  svg.replaceChildren();
  if (!state.draft) return;
  for (const kind of ["masks", "zones"]) {
    shapes(kind).forEach((shape, index) => {
      const selected = state.selected && state.selected.kind === kind && state.selected.index === index;
      const g = el("g", { "data-kind": kind, "data-shape": index, class: `shape ${kind}${selected ? " selected" : ""}` });
      g.append(el("polygon", { points: shape.polygon.map(at).join(" "), "stroke-width": 2 * scale }));
      const [lx, ly] = shape.polygon[0];
      const label = el("text", { x: lx * WIDTH + 6 * scale, y: ly * height + 18 * scale, "font-size": 14 * scale });
      label.textContent = kind === "zones" ? shape.name || shape.id : shape.name || t("zones.mask");
      g.append(label);
      if (selected) {
        shape.polygon.forEach((p, corner) => {
          g.append(el("circle", { cx: p[0] * WIDTH, cy: p[1] * height, r: 7 * scale, "data-corner": corner, class: "corner" }));
        });
      }
      svg.append(g);
    });
  }
  const d = state.drawing;
  if (d && d.points.length) {
    const g = el("g", { class: `drawing ${d.kind}` });
    g.append(el("polyline", { points: d.points.map(at).join(" "), "stroke-width": 2 * scale }));
    d.points.forEach((p, i) => {
      g.append(el("circle", { cx: p[0] * WIDTH, cy: p[1] * height, r: (i === 0 ? 9 : 5) * scale, class: "corner" }));
    });
    svg.append(g);
  }
}

function renderList() {
  const list = $("shape-list");
  list.replaceChildren();
  for (const kind of ["zones", "masks"]) {
    shapes(kind).forEach((shape, index) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = `shape-item ${kind}`;
      const selected = state.selected && state.selected.kind === kind && state.selected.index === index;
      b.setAttribute("aria-pressed", String(Boolean(selected)));
      const what = kind === "zones" ? t("zones.zone") : t("zones.mask");
      const name = kind === "zones" ? shape.name || shape.id : shape.name || "";
      b.textContent = `${what} ${name} · ${t("zones.points", { n: shape.polygon.length })}`;
      if (kind === "zones" && shape.intrusion) {
        const sev = document.createElement("span");
        sev.className = `sev sev-${shape.intrusion}`;
        sev.textContent = t(`severity.${shape.intrusion}`);
        b.append(" ", sev);
      }
      b.addEventListener("click", () => {
        state.selected = { kind, index };
        render();
      });
      li.append(b);
      list.append(li);
    });
  }
  $("shape-none").hidden = state.draft.zones.length > 0;
}

function placeholder(input, value) {
  input.placeholder = value === null || value === undefined ? "" : t("zones.default", { value });
}

function renderForms() {
  const m = state.draft;
  $("cam-enabled").checked = m.enabled;
  $("cam-people").checked = m.people;
  $("cam-sensitivity").value = m.sensitivity;
  $("cam-min-area").value = percent(m.min_area);
  $("cam-min-duration").value = m.min_duration_s;
  const shape = selectedShape();
  const panel = $("shape-panel");
  panel.hidden = !shape;
  if (!shape) return;
  const kind = state.selected.kind;
  const legend = $("shape-legend");
  legend.dataset.i18n = kind === "zones" ? "zones.selected_zone" : "zones.selected_mask";
  legend.textContent = t(legend.dataset.i18n);
  for (const label of panel.querySelectorAll("[data-for=zones]")) label.hidden = kind !== "zones";
  $("shape-name").value = shape.name || "";
  if (kind !== "zones") return;
  $("shape-id").value = shape.id;
  $("shape-sensitivity").value = shape.sensitivity ?? "";
  placeholder($("shape-sensitivity"), m.sensitivity);
  $("shape-min-area").value = percent(shape.min_area);
  placeholder($("shape-min-area"), percent(m.min_area));
  $("shape-min-duration").value = shape.min_duration_s ?? "";
  placeholder($("shape-min-duration"), m.min_duration_s);
  $("shape-intrusion").value = shape.intrusion || "";
  $("shape-hours").value = (shape.active_hours || []).join(", ");
}

function renderTools() {
  const drawing = Boolean(state.drawing);
  $("new-zone").disabled = drawing || !state.draft;
  $("new-mask").disabled = drawing || !state.draft;
  $("finish-shape").disabled = !drawing || state.drawing.points.length < 3;
  $("cancel-shape").disabled = !drawing;
  $("delete-shape").disabled = drawing || !state.selected;
  $("save-zones").disabled = !state.draft;
  stage.classList.toggle("is-drawing", drawing);
  $("zone-hint").textContent = t(drawing ? "zones.hint_drawing" : "zones.hint_idle");
}

function renderSource() {
  const c = state.config;
  const key = !c ? "" : !c.motion ? "zones.source_none" : c.saved ? "zones.source_saved" : "zones.source_site";
  $("zone-source").textContent = key ? t(key) : "";
  $("revert-zones").disabled = !c || !c.saved;
}

function render() {
  renderSvg();
  if (!state.draft) return;
  renderList();
  renderForms();
  renderTools();
  renderSource();
}

// -- form inputs -------------------------------------------------------------------------

function onInput(id, update) {
  $(id).addEventListener("input", () => {
    if (!state.draft) return;
    update($(id));
    markDirty();
    renderSvg();
    renderList();
  });
}

onInput("cam-enabled", (i) => (state.draft.enabled = i.checked));
onInput("cam-people", (i) => (state.draft.people = i.checked));
onInput("cam-sensitivity", (i) => (state.draft.sensitivity = numberOrNull(i) ?? state.config.defaults.sensitivity));
onInput("cam-min-area", (i) => {
  const v = numberOrNull(i);
  state.draft.min_area = v === null ? state.config.defaults.min_area : v / 100;
});
onInput("cam-min-duration", (i) => (state.draft.min_duration_s = numberOrNull(i) ?? state.config.defaults.min_duration_s));
onInput("shape-id", (i) => (selectedShape().id = i.value.trim()));
onInput("shape-name", (i) => (selectedShape().name = i.value.trim() || null));
onInput("shape-sensitivity", (i) => (selectedShape().sensitivity = numberOrNull(i)));
onInput("shape-min-area", (i) => {
  const v = numberOrNull(i);
  selectedShape().min_area = v === null ? null : v / 100;
});
onInput("shape-min-duration", (i) => (selectedShape().min_duration_s = numberOrNull(i)));
$("shape-intrusion").addEventListener("change", () => {
  selectedShape().intrusion = $("shape-intrusion").value || null;
  markDirty();
  renderList();
});
onInput("shape-hours", (i) => {
  selectedShape().active_hours = i.value.split(/[,，\s]+/).filter(Boolean);
});

function fillSeverities() {
  const select = $("shape-intrusion");
  const value = select.value;
  select.replaceChildren();
  for (const s of ["", ...SEVERITIES]) {
    const o = document.createElement("option");
    o.value = s;
    o.textContent = s ? t(`severity.${s}`) : t("zones.intrusion_none");
    select.append(o);
  }
  select.value = value;
}

// -- loading and saving ------------------------------------------------------------------

async function loadStill(cameraId) {
  const img = $("zone-still");
  if (state.still) URL.revokeObjectURL(state.still);
  state.still = null;
  try {
    const res = await api(`/api/cameras/${encodeURIComponent(cameraId)}/snapshot.jpg`, { raw: true });
    state.still = URL.createObjectURL(await res.blob());
    await new Promise((resolve, reject) => {
      img.onload = resolve;
      img.onerror = reject;
      img.src = state.still;
    });
    state.aspect = img.naturalWidth / img.naturalHeight || 16 / 9;
    img.hidden = false;
    $("zone-no-still").hidden = true;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) console.warn("still", err);
    img.hidden = true;
    img.removeAttribute("src");
    state.aspect = 16 / 9;
    $("zone-no-still").hidden = false;
  }
  stage.style.aspectRatio = String(state.aspect);
  stage.dataset.still = img.hidden ? "none" : "loaded";
  renderSvg();
}

function take(config) {
  state.config = config;
  state.draft = clone(config.motion || { ...config.defaults, enabled: false });
  state.selected = null;
  state.drawing = null;
  state.dirty = false;
}

async function selectCamera(cameraId) {
  state.camera = cameraId;
  $("zone-camera").value = cameraId;
  if (location.hash.slice(1) !== cameraId) history.replaceState(null, "", `#${encodeURIComponent(cameraId)}`);
  showError(null);
  status("");
  view.dataset.ready = "false";
  try {
    const [config] = await Promise.all([
      api(`/api/cameras/${encodeURIComponent(cameraId)}/motion-config`),
      loadStill(cameraId),
    ]);
    take(config);
    render();
  } catch (err) {
    state.config = state.draft = null;
    renderSvg();
    renderTools();
    renderSource();
    showError("error.load", err.message);
  }
  view.dataset.ready = "true";
}

async function save(method) {
  showError(null);
  status("zones.saving");
  const url = `/api/cameras/${encodeURIComponent(state.camera)}/motion-config`;
  try {
    const config = await api(url, method === "PUT" ? { method, body: state.draft } : { method });
    take(config);
    render();
    status(method === "PUT" ? "zones.saved" : "zones.reverted");
  } catch (err) {
    status("");
    showError("zones.invalid", err instanceof ApiError ? problems(err) : err.message);
  }
}

$("new-zone").addEventListener("click", () => startDrawing("zones"));
$("new-mask").addEventListener("click", () => startDrawing("masks"));
$("finish-shape").addEventListener("click", finishDrawing);
$("cancel-shape").addEventListener("click", cancelDrawing);
$("delete-shape").addEventListener("click", deleteSelected);
$("save-zones").addEventListener("click", () => save("PUT"));
$("revert-zones").addEventListener("click", () => save("DELETE"));
$("refresh-still").addEventListener("click", () => state.camera && loadStill(state.camera));
$("zone-camera").addEventListener("change", () => selectCamera($("zone-camera").value));
new ResizeObserver(() => renderSvg()).observe(stage);

function fillCameras() {
  const select = $("zone-camera");
  select.replaceChildren();
  for (const c of state.cameras) {
    const o = document.createElement("option");
    o.value = c.id;
    o.textContent = `${localName(c)} (${c.id})`;
    select.append(o);
  }
  if (state.camera) select.value = state.camera;
}

await boot();
document.title = t("zones.title");
apply(view);
fillSeverities();
try {
  state.cameras = await api("/api/cameras");
} catch (err) {
  showError("error.load", err.message);
}
fillCameras();
const wanted = decodeURIComponent(location.hash.slice(1));
const first = state.cameras.find((c) => c.id === wanted) || state.cameras[0];
if (first) await selectCamera(first.id);
else view.dataset.ready = "true";
document.addEventListener("ecc:language", () => {
  document.title = t("zones.title");
  apply(view);
  fillSeverities();
  fillCameras();
  render();
  status(state.status);
  if (state.error) showError(state.error.key, state.error.detail);
});
