// Talkback: two-way audio between the center and a vehicle, through the media hub, which
// forwards the Opus packets as they came (nothing is decoded or encoded on the center).
//
// - The center's voice: an operator's microphone goes out over WHIP to /api/talkback/{vehicle};
//   the vehicle page hears it with a TalkbackListener (WHEP, audio only, at .../listen).
// - The vehicle's voice: the sound of its own stream (vehicle:{id}), which the panel plays with
//   the picture.
//
// createTalkback(vehicle, { token }) is the operator's panel: the vehicle's live picture and
// sound, and a button that opens and closes talkback. The vehicles page uses it; the wall can
// put the same panel on screen.
import { apply, extend, localName, t } from "./i18n.js";
import { createTile } from "./tiles.js";
import { RtcSession, gathered } from "./rtc-session.js";
import { WhipPublisher } from "./whip.js";

extend({
  "zh-CN": {
    "talkback.open": "开始对讲",
    "talkback.close": "结束对讲",
    "talkback.state.idle": "对讲未开启",
    "talkback.state.connecting": "对讲连接中",
    "talkback.state.live": "对讲中：车组可听到您的声音",
    "talkback.state.reconnecting": "对讲重连中",
    "talkback.state.error": "对讲失败",
    "talkback.no_mic": "无法使用麦克风：{detail}",
    "talkback.panel": "{name} 实时画面与对讲",
    "talkback.mic_level": "麦克风音量",
  },
  en: {
    "talkback.open": "Talk",
    "talkback.close": "End talkback",
    "talkback.state.idle": "Talkback off",
    "talkback.state.connecting": "Talkback connecting",
    "talkback.state.live": "Talkback on: the crew hears you",
    "talkback.state.reconnecting": "Talkback reconnecting",
    "talkback.state.error": "Talkback failed",
    "talkback.no_mic": "Cannot use the microphone: {detail}",
    "talkback.panel": "{name}: live picture and talkback",
    "talkback.mic_level": "Microphone level",
  },
});

const MIN_RETRY_MS = 1000;
const MAX_RETRY_MS = 10000;
const SILENT_MS = 6000; // no audio packet this long: the session is gone, listen again

export function talkbackUrl(vehicleId, listen = false) {
  return `/api/talkback/${encodeURIComponent(vehicleId)}${listen ? "/listen" : ""}`;
}

/**
 * The vehicle's side: hear the center. WHEP with one audio transceiver; while nobody talks the
 * hub answers 503 with Retry-After and the listener asks again then. States: idle, waiting,
 * live, reconnecting.
 */
export class TalkbackListener extends RtcSession {
  constructor(audio, { vehicleId, token = () => null, onState = () => {} }) {
    super({ token, onState, minRetryMs: MIN_RETRY_MS, maxRetryMs: MAX_RETRY_MS });
    this.audio = audio;
    this.url = talkbackUrl(vehicleId, true);
  }

  /** Listen again at once (talkback just opened): skips a Retry-After wait. */
  now() {
    if (this._running && this.state !== "live") this._again(0);
  }

  /** What the vehicle hears: { level (0..1), energy (total), packets }. */
  async figures() {
    const out = { level: 0, energy: 0, packets: 0 };
    if (!this.pc) return out;
    (await this.pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") {
        out.level = s.audioLevel || 0;
        out.energy = s.totalAudioEnergy || 0;
        out.packets = s.packetsReceived || 0;
      }
    });
    return out;
  }

  async _connect() {
    const generation = ++this._generation;
    const current = () => this._running && generation === this._generation;
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: "max-bundle" });
    this.pc = pc;
    pc.addTransceiver("audio", { direction: "recvonly" });
    pc.ontrack = (e) => {
      this.audio.srcObject = new MediaStream([e.track]);
      this.audio.play().catch(() => {});
    };
    pc.onconnectionstatechange = () => {
      if (current() && (pc.connectionState === "failed" || pc.connectionState === "closed")) {
        this._set("reconnecting");
        this._again(MIN_RETRY_MS);
      }
    };
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      if (!current()) return pc.close();
      const res = await fetch(this.url, { method: "POST", headers: this._headers(), body: pc.localDescription.sdp });
      if (!current()) return pc.close();
      if (!res.ok) {
        const after = Number(res.headers.get("Retry-After")) * 1000;
        this._set("waiting");
        return this._again(after > 0 ? after : this._retry, true);
      }
      const location = res.headers.get("Location");
      this.location = location ? new URL(location, window.location.href).href : null;
      await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
      this._watchPackets(pc, current);
    } catch (_) {
      if (!current()) return;
      this._set("reconnecting");
      this._again(this._retry, true);
    }
  }

  _watchPackets(pc, current) {
    clearInterval(this._watch);
    let last = -1;
    let progress = performance.now();
    this._watch = setInterval(async () => {
      if (!current()) return clearInterval(this._watch);
      const { packets } = await this.figures();
      const now = performance.now();
      if (packets > last) {
        progress = now;
        this._retry = MIN_RETRY_MS;
        if (last >= 0) this._set("live");
      } else if (now - progress > SILENT_MS) {
        this._set("waiting");
        this._again(0);
      }
      last = packets;
    }, 500);
  }
}

/** A microphone stream for speech: echo cancellation on, since the vehicle's sound plays too. */
export function microphone() {
  return navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    video: false,
  });
}

/** A level meter (0..1) of a stream's first audio track, read by polling `read()`. */
export function meter(stream) {
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 512;
  context.createMediaStreamSource(stream).connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  return {
    read() {
      analyser.getFloatTimeDomainData(data);
      let sum = 0;
      for (const v of data) sum += v * v;
      return Math.min(1, Math.sqrt(sum / data.length) * 4);
    },
    close() {
      context.close().catch(() => {});
    },
  };
}

/**
 * The operator's panel for one vehicle: live picture and sound (vehicle:{id}, main stream, with
 * audio) and the talkback button. -> { el, tile, start(), stop(), talking() }
 */
export function createTalkback(vehicle, { token = () => null } = {}) {
  const el = document.createElement("section");
  el.className = "talkback";
  el.dataset.vehicle = vehicle.id;
  el.innerHTML = `
    <div class="talkback-video"></div>
    <div class="talkback-bar">
      <button type="button" class="talkback-toggle primary" aria-pressed="false"></button>
      <span class="talkback-state" role="status"></span>
      <meter class="talkback-level" min="0" max="1" value="0"></meter>
    </div>
    <p class="error talkback-error" hidden></p>`;
  const tile = createTile(vehicle, { url: `/api/whep/vehicle:${encodeURIComponent(vehicle.id)}`, token, audio: true });
  el.querySelector(".talkback-video").append(tile.el);
  const button = el.querySelector(".talkback-toggle");
  const stateEl = el.querySelector(".talkback-state");
  const levelEl = el.querySelector(".talkback-level");
  const errorEl = el.querySelector(".talkback-error");
  let publisher = null;
  let mic = null;
  let level = null;
  let ticker = null;
  let state = "idle";

  const render = () => {
    el.setAttribute("aria-label", t("talkback.panel", { name: localName(vehicle) }));
    button.dataset.i18n = publisher ? "talkback.close" : "talkback.open";
    button.setAttribute("aria-pressed", String(Boolean(publisher)));
    stateEl.dataset.i18n = `talkback.state.${state}`;
    el.dataset.talkback = state;
    levelEl.setAttribute("aria-label", t("talkback.mic_level"));
    apply(el);
  };

  async function open() {
    errorEl.hidden = true;
    try {
      mic = await microphone();
    } catch (err) {
      errorEl.textContent = t("talkback.no_mic", { detail: err.message || err.name });
      errorEl.hidden = false;
      return;
    }
    level = meter(mic);
    ticker = setInterval(() => (levelEl.value = level.read()), 100);
    publisher = new WhipPublisher({
      url: talkbackUrl(vehicle.id),
      token,
      stream: mic,
      onState: (s) => {
        state = s;
        render();
      },
    });
    el.publisher = publisher;
    publisher.start();
    render();
  }

  function close() {
    if (publisher) publisher.stop();
    publisher = null;
    el.publisher = null;
    clearInterval(ticker);
    if (level) level.close();
    level = null;
    if (mic) for (const track of mic.getTracks()) track.stop();
    mic = null;
    levelEl.value = 0;
    state = "idle";
    render();
  }

  button.addEventListener("click", () => (publisher ? close() : open()));
  document.addEventListener("ecc:language", render);
  render();
  return {
    el,
    tile,
    start() {
      tile.start();
    },
    stop() {
      close();
      tile.stop();
      document.removeEventListener("ecc:language", render);
    },
    talking() {
      return Boolean(publisher);
    },
  };
}
