// /vehicle: the crew's page on a rugged tablet or laptop in a command vehicle, on a cellular
// link that drops. It streams the camera and microphone to the center (WHIP, capped for the
// link), reports the vehicle's position from the Geolocation API, shows alerts, plays any camera
// and the center's talkback, and shows the state of the link.
//
// When the link drops nothing is lost: positions wait in IndexedDB (position-queue.js) and are
// uploaded oldest first once it is back; the center stores each (vehicle, ts) once, so a batch
// sent twice after a lost answer is not doubled. The stream is published again by itself
// (whip.js). Every retry waits a backoff with jitter; the first request that gets through makes
// every waiting part try at once.
import { session } from "./api.js";
import * as events from "./events.js";
import { apply, extend, localName, t } from "./i18n.js";
import { alertKind } from "./metrics.js";
import { PositionQueue } from "./position-queue.js";
import { badge, rank } from "./severity.js";
import { boot, formatTime } from "./shell.js";
import { TalkbackListener } from "./talkback.js";
import { createTile } from "./tiles.js";
import { VehicleTasks } from "./vehicle-tasks.js";
import { WhipPublisher } from "./whip.js";

extend({
  "zh-CN": {
    "vehicle.title": "车载终端 · 应急指挥中心",
    "vehicle.choose": "本车",
    "vehicle.name_plate": "{name} · {plate}",
    "vehicle.none": "本站点没有配置指挥车",
    "vehicle.stream": "本车视频",
    "vehicle.stream_start": "开始推流",
    "vehicle.stream_stop": "停止推流",
    "vehicle.quality": "画质（蜂窝网络）",
    "vehicle.quality.low": "低 · 360p · 0.4 Mbit/s",
    "vehicle.quality.medium": "中 · 480p · 0.8 Mbit/s",
    "vehicle.quality.high": "高 · 720p · 1.5 Mbit/s",
    "vehicle.interval": "位置上报间隔",
    "vehicle.interval_s": "{n} 秒",
    "vehicle.stream.idle": "未推流",
    "vehicle.stream.connecting": "正在连接指挥中心…",
    "vehicle.stream.live": "推流中 · {kbps} kbit/s · 往返 {rtt} ms · 丢包 {loss}%",
    "vehicle.stream.reconnecting": "连接中断，正在自动重连…",
    "vehicle.stream.error": "推流失败（{detail}），正在重试…",
    "vehicle.no_camera": "无法使用摄像头或麦克风：{detail}",
    "vehicle.link.up": "链路正常",
    "vehicle.link.down": "链路中断",
    "vehicle.link_banner": "与指挥中心的连接已中断：{n} 条位置在本机排队，视频与位置将在恢复后自动续传",
    "vehicle.signed_out": "登录已过期，请重新登录；排队的位置不会丢失",
    "vehicle.gps.fix": "定位 ±{m} m",
    "vehicle.gps.none": "无定位",
    "vehicle.gps.stale": "定位信号弱",
    "vehicle.gps.denied": "定位未授权",
    "vehicle.talkback.live": "指挥中心正在讲话",
    "vehicle.talkback.waiting": "对讲连接中",
    "vehicle.alerts": "告警",
    "vehicle.no_alerts": "暂无未解除告警",
    "vehicle.new_alert": "新告警：{source} {kind}",
    "vehicle.watch": "查看视频",
    "vehicle.camera": "摄像机",
    "vehicle.camera_none": "— 选择摄像机 —",
  },
  en: {
    "vehicle.title": "Vehicle · Emergency Command Center",
    "vehicle.choose": "This vehicle",
    "vehicle.name_plate": "{name} · {plate}",
    "vehicle.none": "This site has no vehicles",
    "vehicle.stream": "This vehicle's video",
    "vehicle.stream_start": "Start streaming",
    "vehicle.stream_stop": "Stop streaming",
    "vehicle.quality": "Quality (cellular)",
    "vehicle.quality.low": "Low · 360p · 0.4 Mbit/s",
    "vehicle.quality.medium": "Medium · 480p · 0.8 Mbit/s",
    "vehicle.quality.high": "High · 720p · 1.5 Mbit/s",
    "vehicle.interval": "Position every",
    "vehicle.interval_s": "{n} s",
    "vehicle.stream.idle": "Not streaming",
    "vehicle.stream.connecting": "Connecting to the center…",
    "vehicle.stream.live": "Streaming · {kbps} kbit/s · RTT {rtt} ms · loss {loss}%",
    "vehicle.stream.reconnecting": "Link lost, reconnecting by itself…",
    "vehicle.stream.error": "Streaming failed ({detail}), trying again…",
    "vehicle.no_camera": "Cannot use the camera or microphone: {detail}",
    "vehicle.link.up": "Link up",
    "vehicle.link.down": "Link down",
    "vehicle.link_banner": "The link to the center is down: {n} positions wait on this device; video and positions resume by themselves when it is back",
    "vehicle.signed_out": "Signed out: sign in again; queued positions are kept",
    "vehicle.gps.fix": "Position ±{m} m",
    "vehicle.gps.none": "No position",
    "vehicle.gps.stale": "Weak position signal",
    "vehicle.gps.denied": "Position not allowed",
    "vehicle.talkback.live": "The center is talking",
    "vehicle.talkback.waiting": "Talkback connecting",
    "vehicle.alerts": "Alerts",
    "vehicle.no_alerts": "No open alerts",
    "vehicle.new_alert": "New alert: {source} {kind}",
    "vehicle.watch": "Watch a camera",
    "vehicle.camera": "Camera",
    "vehicle.camera_none": "— choose a camera —",
  },
});

// Capped for a cellular uplink; the crew picks one, and may change it while streaming.
const QUALITIES = {
  low: { width: 640, height: 360, frameRate: 15, maxBitrate: 400_000 },
  medium: { width: 854, height: 480, frameRate: 20, maxBitrate: 800_000 },
  high: { width: 1280, height: 720, frameRate: 25, maxBitrate: 1_500_000 },
};
const INTERVALS = [1, 2, 5, 10, 30];
const TELEMETRY_MS = 5000;
const BATCH = 200;
const STALE_FIX_MS = 60_000;
const MIN_RETRY_MS = 1000;
const MAX_RETRY_MS = 15000;
const BANNER_MS = 20000;
const KEY = { vehicle: "ecc.vehicle.id", streaming: "ecc.vehicle.streaming", quality: "ecc.vehicle.quality", interval: "ecc.vehicle.interval" };

const $ = (sel) => document.querySelector(sel);
const token = () => session()?.token;

const state = {
  vehicles: [],
  vehicleId: null,
  quality: localStorage.getItem(KEY.quality) in QUALITIES ? localStorage.getItem(KEY.quality) : "medium",
  interval: INTERVALS.includes(Number(localStorage.getItem(KEY.interval))) ? Number(localStorage.getItem(KEY.interval)) : 2,
  queue: null,
  queued: 0,
  recorded: 0,
  stream: null,
  publisher: null,
  streamDetail: null,
  figures: { rtt_ms: null, loss_pct: null, bitrate_kbps: null },
  fix: null,
  gpsError: null,
  link: null, // null (not yet known), true, false
  signedOut: false,
  listener: null,
  talkback: false,
  alerts: new Map(),
  names: new Map(),
  watch: null,
};

// -- the link -----------------------------------------------------------------------------

function linkOk() {
  const was = state.link;
  state.link = true;
  state.signedOut = false;
  if (was === false) {
    // Back: everything that waits out a backoff goes now.
    flush();
    state.publisher?.retryNow();
    state.listener?.now();
  }
  renderLink();
}

function linkFailed(status) {
  state.link = false;
  state.signedOut = status === 401;
  renderLink();
}

async function send(path, body) {
  const res = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token()}` },
    body: JSON.stringify(body),
  });
  // Any answer but 401 means the center is reachable.
  if (res.status === 401) linkFailed(401);
  else linkOk();
  return res;
}

function renderLink() {
  const up = state.link !== false && events.state !== "closed";
  const el = $("#link-state");
  el.dataset.state = up ? "up" : "down";
  el.textContent = t(up ? "vehicle.link.up" : "vehicle.link.down");
  const banner = $("#link-banner");
  banner.hidden = up && !state.signedOut;
  banner.textContent = state.signedOut ? t("vehicle.signed_out") : t("vehicle.link_banner", { n: state.queued });
  banner.dataset.queued = String(state.queued);
}

// -- positions ----------------------------------------------------------------------------

let flushing = false;
let flushAgain = false;
let retryTimer = null;
let retryMs = MIN_RETRY_MS;

async function countQueued() {
  if (state.queue && state.vehicleId) state.queued = await state.queue.count(state.vehicleId);
  renderLink();
}

/** Upload the queue, oldest first; a batch leaves the queue only once the center answered. */
async function flush() {
  if (!state.queue || !state.vehicleId) return;
  if (flushing) {
    flushAgain = true;
    return;
  }
  flushing = true;
  clearTimeout(retryTimer);
  const id = state.vehicleId;
  const path = `/api/vehicles/${encodeURIComponent(id)}/positions`;
  try {
    do {
      flushAgain = false;
      for (;;) {
        const batch = await state.queue.peek(id, BATCH);
        if (!batch.length) break;
        const res = await send(path, batch);
        if (res.status === 422) {
          await sendOneByOne(path, id, batch);
          continue;
        }
        if (!res.ok) throw new Error(String(res.status));
        await state.queue.remove(id, batch.map((p) => p.ts));
        await countQueued();
      }
    } while (flushAgain);
    retryMs = MIN_RETRY_MS;
  } catch (err) {
    if (err instanceof TypeError) linkFailed();
    retryTimer = setTimeout(flush, retryMs * (0.5 + Math.random()));
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  } finally {
    flushing = false;
    await countQueued();
  }
}

// A batch the center refuses as invalid: each alone, dropping only those refused alone (a
// position far in the future of a device with a wrong clock), so one cannot hold the queue.
async function sendOneByOne(path, id, batch) {
  for (const p of batch) {
    const res = await send(path, [p]);
    if (!res.ok && res.status !== 422) throw new Error(String(res.status));
    if (res.status === 422) console.error("position refused and dropped", p, await res.text());
    await state.queue.remove(id, [p.ts]);
  }
}

function finite(v) {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function startGps() {
  if (!("geolocation" in navigator)) return renderGps();
  const options = { enableHighAccuracy: true, maximumAge: 0, timeout: 30000 };
  navigator.geolocation.watchPosition(
    (p) => {
      state.fix = p;
      state.gpsError = null;
      renderGps();
    },
    (err) => {
      state.gpsError = err;
      renderGps();
    },
    options,
  );
}

let tickTimer = null;
function schedulePositions() {
  clearInterval(tickTimer);
  tickTimer = setInterval(recordPosition, state.interval * 1000);
}

/** Every interval: where the vehicle is now, into the queue, then upload. */
async function recordPosition() {
  const fix = state.fix;
  if (!fix || !state.vehicleId) return;
  const age = Date.now() - fix.timestamp;
  if (age > state.interval * 1000) {
    // A still receiver may not report again by itself: ask for a fresh fix for next time.
    navigator.geolocation.getCurrentPosition(
      (p) => {
        state.fix = p;
        renderGps();
      },
      () => {},
      { enableHighAccuracy: true, maximumAge: state.interval * 1000, timeout: 10000 },
    );
  }
  if (age > STALE_FIX_MS) return renderGps();
  const c = fix.coords;
  await state.queue.put(state.vehicleId, {
    ts: Date.now() / 1000,
    lat: c.latitude,
    lon: c.longitude,
    speed: finite(c.speed),
    heading: finite(c.heading),
    accuracy: finite(c.accuracy),
  });
  state.recorded += 1;
  await countQueued();
  flush();
}

function renderGps() {
  const el = $("#gps-state");
  let key = "vehicle.gps.none";
  let s = "none";
  if (state.gpsError && state.gpsError.code === 1) {
    key = "vehicle.gps.denied";
    s = "error";
  } else if (state.fix && Date.now() - state.fix.timestamp <= STALE_FIX_MS) {
    key = "vehicle.gps.fix";
    s = "fix";
  } else if (state.fix) {
    key = "vehicle.gps.stale";
    s = "stale";
  }
  el.dataset.state = s;
  el.textContent = t(key, { m: state.fix ? Math.round(state.fix.coords.accuracy) : "" });
}

// -- telemetry ----------------------------------------------------------------------------

async function telemetry() {
  if (!state.vehicleId) return;
  const figures = state.publisher ? await state.publisher.figures() : { rtt_ms: null, loss_pct: null, bitrate_kbps: null };
  state.figures = figures;
  renderStream();
  try {
    await send(`/api/vehicles/${encodeURIComponent(state.vehicleId)}/telemetry`, {
      ...figures,
      queued: state.queued,
      network: navigator.connection?.effectiveType ?? null,
      agent: "page",
    });
  } catch (_) {
    linkFailed();
  }
}

// -- the stream ---------------------------------------------------------------------------

async function startStream() {
  const q = QUALITIES[state.quality];
  $("#stream-error").hidden = true;
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: q.width }, height: { ideal: q.height }, frameRate: { ideal: q.frameRate, max: q.frameRate }, facingMode: "environment" },
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
  } catch (err) {
    $("#stream-error").textContent = t("vehicle.no_camera", { detail: err.message || err.name });
    $("#stream-error").hidden = false;
    localStorage.removeItem(KEY.streaming);
    return renderStream();
  }
  state.stream = stream;
  $("#preview").srcObject = stream;
  state.publisher = new WhipPublisher({
    url: `/api/whip/vehicle:${encodeURIComponent(state.vehicleId)}`,
    token,
    stream,
    video: { maxBitrate: q.maxBitrate, maxFramerate: q.frameRate },
    onState: (s, detail) => {
      state.streamDetail = detail ?? null;
      if (s === "live") linkOk();
      renderStream();
    },
  });
  state.publisher.start();
  localStorage.setItem(KEY.streaming, "1");
  renderStream();
}

function stopStream(forget = true) {
  state.publisher?.stop();
  state.publisher = null;
  for (const track of state.stream?.getTracks() || []) track.stop();
  state.stream = null;
  $("#preview").srcObject = null;
  if (forget) localStorage.removeItem(KEY.streaming);
  renderStream();
}

async function setQuality(name) {
  state.quality = name;
  localStorage.setItem(KEY.quality, name);
  const q = QUALITIES[name];
  const video = state.stream?.getVideoTracks()[0];
  if (video) await video.applyConstraints({ width: { ideal: q.width }, height: { ideal: q.height }, frameRate: { ideal: q.frameRate, max: q.frameRate } }).catch(() => {});
  await state.publisher?.setVideoLimits({ maxBitrate: q.maxBitrate, maxFramerate: q.frameRate });
}

function renderStream() {
  const s = state.publisher ? state.publisher.state : "idle";
  const section = $(".vehicle-stream");
  section.dataset.state = s;
  const button = $("#stream-toggle");
  button.textContent = t(state.publisher ? "vehicle.stream_stop" : "vehicle.stream_start");
  button.setAttribute("aria-pressed", String(Boolean(state.publisher)));
  button.disabled = !state.vehicleId;
  const f = state.figures;
  $("#stream-state").textContent = t(`vehicle.stream.${s}`, {
    kbps: f.bitrate_kbps ?? "–",
    rtt: f.rtt_ms ?? "–",
    loss: f.loss_pct ?? "–",
    detail: state.streamDetail ?? "",
  });
}

// -- talkback -----------------------------------------------------------------------------

function setTalkback(open) {
  state.talkback = open;
  if (open && state.listener) {
    state.listener.start();
    state.listener.now();
  } else if (state.listener) {
    state.listener.stop();
  }
  renderTalkback();
}

function renderTalkback() {
  const el = $("#talkback-state");
  const s = state.listener ? state.listener.state : "idle";
  el.hidden = !state.talkback;
  el.dataset.state = s === "live" ? "live" : "waiting";
  el.textContent = t(s === "live" ? "vehicle.talkback.live" : "vehicle.talkback.waiting");
}

// -- alerts -------------------------------------------------------------------------------

function sourceName(source) {
  const item = state.names.get(`${source.type}:${source.id}`);
  return item ? localName(item) : source.id;
}

function renderAlerts() {
  const list = $("#alert-items");
  list.replaceChildren();
  const open = [...state.alerts.values()]
    .filter((a) => a.state !== "resolved")
    .sort((a, b) => rank(b.severity) - rank(a.severity) || Date.parse(b.raised_at) - Date.parse(a.raised_at));
  for (const a of open) {
    const li = document.createElement("li");
    li.dataset.alertId = a.id;
    const what = document.createElement("span");
    what.className = "alert-what";
    what.textContent = `${sourceName(a.source)} · ${alertKind(a)}`;
    const when = document.createElement("span");
    when.className = "alert-when";
    when.textContent = formatTime(a.raised_at, { date: true });
    li.append(badge(a.severity), what, when);
    list.append(li);
  }
  $("#no-alerts").hidden = open.length > 0;
  apply(list);
}

let bannerTimer = null;
function announce(a) {
  const banner = $("#alert-banner");
  banner.textContent = t("vehicle.new_alert", { source: sourceName(a.source), kind: alertKind(a) });
  banner.hidden = false;
  clearTimeout(bannerTimer);
  bannerTimer = setTimeout(() => (banner.hidden = true), BANNER_MS);
}

async function loadAlerts() {
  const [active, acked] = await Promise.all([fetchJson("/api/alerts?state=active"), fetchJson("/api/alerts?state=acknowledged")]);
  state.alerts = new Map([...acked, ...active].map((a) => [a.id, a]));
  renderAlerts();
}

// -- watching a camera --------------------------------------------------------------------

function watch(camera) {
  state.watch?.stop();
  state.watch = null;
  $("#watch-tile").replaceChildren();
  if (!camera) return;
  const tile = createTile(camera, { url: `/api/whep/camera:${encodeURIComponent(camera.id)}?stream=sub`, token });
  $("#watch-tile").append(tile.el);
  tile.start();
  state.watch = tile;
}

// -- choosing the vehicle -----------------------------------------------------------------

async function fetchJson(path) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return res.json();
}

async function chooseVehicle(id) {
  const streaming = Boolean(state.publisher);
  if (streaming) stopStream(false);
  state.listener?.stop();
  state.vehicleId = id;
  localStorage.setItem(KEY.vehicle, id);
  tasks.show(id);
  state.listener = new TalkbackListener($("#talkback-audio"), { vehicleId: id, token, onState: renderTalkback });
  await countQueued();
  const vehicle = await fetchJson(`/api/vehicles/${encodeURIComponent(id)}`).catch(() => null);
  setTalkback(Boolean(vehicle?.status?.talkback));
  if (streaming || localStorage.getItem(KEY.streaming) === "1") await startStream();
  renderStream();
  flush();
}

function renderChoices() {
  const select = $("#vehicle-select");
  select.replaceChildren(
    ...state.vehicles.map((v) => {
      const o = document.createElement("option");
      o.value = v.id;
      o.textContent = v.plate ? t("vehicle.name_plate", { name: localName(v), plate: v.plate }) : localName(v);
      return o;
    }),
  );
  select.value = state.vehicleId || "";
  const q = $("#quality");
  q.replaceChildren(
    ...Object.keys(QUALITIES).map((k) => {
      const o = document.createElement("option");
      o.value = k;
      o.textContent = t(`vehicle.quality.${k}`);
      return o;
    }),
  );
  q.value = state.quality;
  const iv = $("#interval");
  iv.replaceChildren(
    ...INTERVALS.map((n) => {
      const o = document.createElement("option");
      o.value = String(n);
      o.textContent = t("vehicle.interval_s", { n });
      return o;
    }),
  );
  iv.value = String(state.interval);
}

function renderCameras(cameras) {
  const select = $("#camera-select");
  const none = document.createElement("option");
  none.value = "";
  none.textContent = t("vehicle.camera_none");
  const current = select.value;
  select.replaceChildren(
    none,
    ...cameras.map((c) => {
      const o = document.createElement("option");
      o.value = c.id;
      o.textContent = localName(c);
      return o;
    }),
  );
  select.value = current;
}

function renderAll() {
  document.title = t("vehicle.title");
  renderChoices();
  renderLink();
  renderGps();
  renderStream();
  renderTalkback();
  renderAlerts();
}

// -- start --------------------------------------------------------------------------------

await boot();
apply(document);
state.queue = await PositionQueue.open();
const tasks = new VehicleTasks($("#vehicle-tasks"), { token });
const [vehicles, cameras, stations] = await Promise.all([fetchJson("/api/vehicles"), fetchJson("/api/cameras"), fetchJson("/api/stations")]);
state.vehicles = vehicles;
for (const [type, items] of [["vehicle", vehicles], ["camera", cameras], ["station", stations]]) {
  for (const item of items) state.names.set(`${type}:${item.id}`, item);
}
renderCameras(cameras);
if (!vehicles.length) {
  $("#stream-error").textContent = t("vehicle.none");
  $("#stream-error").hidden = false;
}
const saved = localStorage.getItem(KEY.vehicle);
state.vehicleId = vehicles.some((v) => v.id === saved) ? saved : vehicles[0]?.id || null;
renderAll();
if (state.vehicleId) await chooseVehicle(state.vehicleId);
await loadAlerts().catch(() => {});
startGps();
schedulePositions();
setInterval(telemetry, TELEMETRY_MS);

$("#vehicle-select").addEventListener("change", (e) => chooseVehicle(e.target.value));
$("#stream-toggle").addEventListener("click", () => (state.publisher ? stopStream() : startStream()));
$("#quality").addEventListener("change", (e) => setQuality(e.target.value));
$("#interval").addEventListener("change", (e) => {
  state.interval = Number(e.target.value);
  localStorage.setItem(KEY.interval, String(state.interval));
  schedulePositions();
});
$("#camera-select").addEventListener("change", (e) => watch(cameras.find((c) => c.id === e.target.value)));
events.onState(() => renderLink());
events.on("alert", (a) => {
  const known = state.alerts.get(a.id);
  state.alerts.set(a.id, a);
  if (!known && a.state === "active") announce(a);
  renderAlerts();
});
events.on("incident", (i) => tasks.onIncident(i));
events.on("vehicle", (s) => {
  if (s.id === state.vehicleId && s.talkback !== state.talkback) setTalkback(s.talkback);
});
events.on("reconnect", async () => {
  linkOk();
  await loadAlerts().catch(() => {});
  if (state.vehicleId) tasks.show(state.vehicleId);
  const vehicle = await fetchJson(`/api/vehicles/${encodeURIComponent(state.vehicleId)}`).catch(() => null);
  if (vehicle) setTalkback(Boolean(vehicle.status?.talkback));
});
document.addEventListener("ecc:language", () => {
  renderAll();
  tasks.render();
});
window.addEventListener("pagehide", () => {
  state.publisher?.stop();
  state.listener?.stop();
  state.watch?.stop();
});
// The page's parts, for the wall's tests and for diagnosing a vehicle in the field.
window.eccVehicle = { state, flush };
