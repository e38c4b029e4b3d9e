// A WHIP publisher (RFC 9725) for a MediaStream: a vehicle's camera and microphone, an
// operator's voice for talkback. It publishes again by itself when the connection drops (ICE
// disconnected for a few seconds, failed, or refused), after a backoff with jitter, until stop().
//
//   const pub = new WhipPublisher({ url: "/api/whip/vehicle:cmd-1", token: () => session()?.token,
//                                   stream, video: { maxBitrate: 800_000, maxFramerate: 20 },
//                                   onState });
//   pub.start(); ... pub.setVideoLimits({ maxBitrate: 400_000 }); ... pub.stop();
//
// Video is offered as H.264 only, Constrained Baseline first: the center forwards the encoded
// frames to every viewer and to the recorder without decoding them, so it must be a codec every
// browser decodes; Constrained Baseline is what every H.264 encoder of a tablet makes and every
// decoder takes.

import { RtcSession, gathered } from "./rtc-session.js";

const DISCONNECTED_MS = 4000; // ICE "disconnected" this long: the link is gone, publish again
const MIN_RETRY_MS = 1000;
const MAX_RETRY_MS = 15000;
const H264_ORDER = ["42e01f", "42001f", "4d001f", "640c1f"];

/** The browser's H.264 send codecs (packetization-mode 1), Constrained Baseline first, with RTX. */
export function h264Codecs() {
  const codecs = RTCRtpSender.getCapabilities("video")?.codecs || [];
  const plid = (c) => (/profile-level-id=([0-9a-f]{6})/i.exec(c.sdpFmtpLine || "") || [])[1] || "";
  const h264 = codecs
    .filter((c) => c.mimeType.toLowerCase() === "video/h264" && /packetization-mode=1/.test(c.sdpFmtpLine || ""))
    .sort((a, b) => rankOf(plid(a)) - rankOf(plid(b)));
  const rtx = codecs.filter((c) => c.mimeType.toLowerCase() === "video/rtx");
  return h264.length ? [...h264, ...rtx] : [];
}

function rankOf(plid) {
  const i = H264_ORDER.indexOf(plid.toLowerCase());
  return i === -1 ? H264_ORDER.length : i;
}

export class WhipPublisher extends RtcSession {
  constructor({ url, token = () => null, stream, video = {}, onState = () => {} }) {
    super({ token, onState, minRetryMs: MIN_RETRY_MS, maxRetryMs: MAX_RETRY_MS, jitter: 0.5 });
    this.url = url;
    this.stream = stream;
    this.limits = { ...video };
    this.sessions = 0;
    this._sent = null;
  }

  /** Publish again now (the link is back): skips what is left of a backoff. */
  retryNow() {
    if (this._running && (this.state === "reconnecting" || this.state === "error")) this._again(0);
  }

  /** Cap the video: { maxBitrate (bit/s), maxFramerate, scaleResolutionDownBy }; no renegotiation. */
  async setVideoLimits(limits) {
    Object.assign(this.limits, limits);
    const sender = this.pc?.getSenders().find((s) => s.track && s.track.kind === "video");
    if (!sender) return;
    const params = sender.getParameters();
    if (!params.encodings || !params.encodings.length) params.encodings = [{}];
    for (const [key, value] of Object.entries(this.limits)) {
      if (value === undefined || value === null) delete params.encodings[0][key];
      else params.encodings[0][key] = value;
    }
    await sender.setParameters(params).catch(() => {});
  }

  /** Swap the media (another camera, a new resolution) without a new session. */
  async setStream(stream) {
    this.stream = stream;
    if (!this.pc) return;
    for (const sender of this.pc.getSenders()) {
      const track = sender.track ? stream.getTracks().find((t) => t.kind === sender.track.kind) : null;
      if (track) await sender.replaceTrack(track);
    }
  }

  /** Link figures of the session: { rtt_ms, loss_pct, bitrate_kbps } (nulls when unknown). */
  async figures() {
    const out = { rtt_ms: null, loss_pct: null, bitrate_kbps: null };
    if (!this.pc || this.state !== "live") return out;
    let bytes = 0;
    let remote = null;
    (await this.pc.getStats()).forEach((s) => {
      if (s.type === "outbound-rtp") bytes += s.bytesSent || 0;
      if (s.type === "remote-inbound-rtp" && (!remote || s.kind === "video")) remote = s;
    });
    const now = performance.now();
    if (this._sent && now > this._sent.at) {
      out.bitrate_kbps = Math.round(((bytes - this._sent.bytes) * 8) / (now - this._sent.at));
    }
    this._sent = { at: now, bytes };
    if (remote) {
      if (typeof remote.roundTripTime === "number") out.rtt_ms = Math.round(remote.roundTripTime * 1000);
      if (typeof remote.fractionLost === "number") out.loss_pct = Math.round(remote.fractionLost * 1000) / 10;
    }
    return out;
  }

  async _connect() {
    const generation = ++this._generation;
    const current = () => this._running && generation === this._generation;
    this._set(this.sessions > 0 ? "reconnecting" : "connecting");
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: "max-bundle" });
    this.pc = pc;
    this._sent = null;
    for (const track of this.stream.getTracks()) {
      if (track.kind === "video") {
        const encoding = {};
        for (const [key, value] of Object.entries(this.limits)) if (value !== undefined && value !== null) encoding[key] = value;
        const transceiver = pc.addTransceiver(track, { direction: "sendonly", streams: [this.stream], sendEncodings: [encoding] });
        const codecs = h264Codecs();
        if (!codecs.length) {
          this._set("error", "no-h264");
          return this._again(MAX_RETRY_MS);
        }
        transceiver.setCodecPreferences(codecs);
      } else {
        pc.addTransceiver(track, { direction: "sendonly", streams: [this.stream] });
      }
    }
    pc.onconnectionstatechange = () => {
      if (!current()) return;
      const state = pc.connectionState;
      if (state === "connected") {
        clearTimeout(this._disconnected);
        this._retry = MIN_RETRY_MS;
        this._set("live");
      } else if (state === "failed" || state === "closed") {
        this._again(MIN_RETRY_MS);
      } else if (state === "disconnected") {
        this._set("reconnecting");
        clearTimeout(this._disconnected);
        this._disconnected = setTimeout(() => current() && this._again(0), DISCONNECTED_MS);
      }
    };
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      if (!current()) return pc.close();
      const res = await fetch(this.url, { method: "POST", headers: this._headers(), body: pc.localDescription.sdp });
      if (!current()) return pc.close();
      if (!res.ok) {
        this._set("error", String(res.status));
        return this._again(this._retry, true);
      }
      const location = res.headers.get("Location");
      this.location = location ? new URL(location, new URL(this.url, window.location.href)).href : null;
      await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
      this.sessions += 1;
    } catch (_) {
      if (!current()) return;
      this._set("reconnecting");
      this._again(this._retry, true);
    }
  }

  _again(delay, backoff = false) {
    super._again(delay, backoff);
    if (this._running && this.state === "live") this._set("reconnecting");
  }
}
