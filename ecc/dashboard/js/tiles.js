// A camera tile: a WHEP player in a frame with the camera's name and its state, kept in step
// with the camera's health events. The cameras page and the wall display build on it.
//
// A tile with sound (full screen: a camera's main stream, a vehicle) has a sound button; the
// choice is kept per browser (an operator who mutes full-screen sound once keeps it muted).

const SOUND = "ecc.tile-sound";
import { apply, extend, localName, t } from "./i18n.js";
import { WhepPlayer } from "./player.js";

extend({
  "zh-CN": {
    "video.state.idle": "未播放",
    "video.state.connecting": "连接中",
    "video.state.live": "直播",
    "video.state.reconnecting": "重连中",
    "video.state.offline": "离线",
    "video.state.error": "错误",
    "video.info": "{fps} 帧/秒 · {kbps} kbit/s",
    "video.close": "关闭",
    "video.open": "全屏查看 {name}",
    "video.rec_on": "录像",
    "video.rec_off": "未录像",
    "video.sound_on": "声音：开",
    "video.sound_off": "声音：关",
  },
  en: {
    "video.state.idle": "Stopped",
    "video.state.connecting": "Connecting",
    "video.state.live": "Live",
    "video.state.reconnecting": "Reconnecting",
    "video.state.offline": "Offline",
    "video.state.error": "Error",
    "video.info": "{fps} fps · {kbps} kbit/s",
    "video.close": "Close",
    "video.open": "Watch {name} full screen",
    "video.rec_on": "REC",
    "video.rec_off": "Not recording",
    "video.sound_on": "Sound on",
    "video.sound_off": "Sound off",
  },
});

/**
 * createTile(camera, { url, token, audio }) -> { el, player, setStatus(status), start(), stop() }
 * `camera` is an item of GET /api/cameras; `status` its health ({online, fps, bitrate, ...}).
 */
export function createTile(camera, { url, token = () => null, audio = false }) {
  const el = document.createElement("figure");
  el.className = "tile";
  el.dataset.camera = camera.id;
  el.innerHTML = `
    <video muted playsinline autoplay></video>
    <figcaption class="tile-bar">
      <span class="tile-name"></span>
      <span class="tile-rec" hidden></span>
      <button type="button" class="tile-sound" hidden></button>
      <span class="tile-state" role="status"></span>
    </figcaption>
    <div class="tile-info"></div>`;
  const video = el.querySelector("video");
  const stateEl = el.querySelector(".tile-state");
  const info = el.querySelector(".tile-info");
  const rec = el.querySelector(".tile-rec");
  const sound = el.querySelector(".tile-sound");
  let status = camera.status || null;
  let statusAt = performance.now();
  let playerState = "idle";
  let player = null;

  const render = () => {
    // The camera worker's word that the camera is offline counts at once, not after the
    // player's stall timeout; unless pictures keep coming after it said so.
    const offline =
      status && status.online === false && !(player && player.lastFrameAt > statusAt + 1000);
    const state = offline ? "offline" : playerState;
    el.dataset.state = state;
    stateEl.dataset.i18n = `video.state.${state}`;
    el.querySelector(".tile-name").textContent = localName(camera);
    // Recording state, when the camera worker reports one (`recording` in its status); a
    // camera not meant to record says nothing.
    const recording = status && typeof status.recording === "boolean" ? status.recording : null;
    rec.hidden = recording === null || (camera.record === false && !recording);
    rec.dataset.recording = String(recording);
    rec.dataset.i18n = recording ? "video.rec_on" : "video.rec_off";
    // A camera whose worker says it has no sound gets no button; others (vehicles, cameras
    // not yet reported) do.
    const silent = status && status.streams && status.streams.main && status.streams.main.audio === null;
    sound.hidden = !audio || Boolean(silent);
    sound.setAttribute("aria-pressed", String(!video.muted));
    sound.dataset.i18n = video.muted ? "video.sound_off" : "video.sound_on";
    if (status && status.online && typeof status.fps === "number") {
      info.textContent = t("video.info", { fps: status.fps.toFixed(1), kbps: Math.round((status.bitrate || 0) / 1000) });
    } else {
      info.textContent = "";
    }
    apply(el);
  };

  player = new WhepPlayer(video, {
    url,
    token,
    audio,
    onState: (s) => {
      playerState = s;
      render();
    },
  });
  sound.addEventListener("click", (e) => {
    e.stopPropagation(); // not a click on the tile (which opens or closes full screen)
    video.muted = !video.muted;
    localStorage.setItem(SOUND, video.muted ? "off" : "on");
    if (!video.muted) video.play().catch(() => {});
    render();
  });
  sound.addEventListener("dblclick", (e) => e.stopPropagation());
  render();
  document.addEventListener("ecc:language", render);
  // The element knows its player: tests and the wall read its figures from the page.
  el.player = player;
  return {
    el,
    player,
    video,
    setStatus(s) {
      status = s;
      statusAt = performance.now();
      render();
    },
    start() {
      video.muted = !audio || localStorage.getItem(SOUND) === "off";
      render();
      player.start();
    },
    stop() {
      player.stop();
      document.removeEventListener("ecc:language", render);
    },
  };
}
