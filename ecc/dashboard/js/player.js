// A WHEP player (RFC 9725 semantics) for a <video> element: tiles watch a camera's sub stream,
// full screen its main stream. It shows its state (connecting, live, reconnecting, offline) and
// recovers by itself: a stalled picture, a dropped connection or an offline camera (503 with
// Retry-After) lead to a new session after a backoff with jitter, never to a page reload.
//
//   const player = new WhepPlayer(video, { url: "/api/whep/camera:dam-east?stream=sub",
//                                          token: () => session()?.token, onState });
//   player.start(); ... player.stop();

import { RtcSession, gathered } from "./rtc-session.js";

const STALL_MS = 4000; // no new decoded frame this long: "reconnecting" (the picture froze)
const RESTART_MS = 12000; // still nothing: end the session and start a new one
const MIN_RETRY_MS = 1000;
// Chromium opens at most 6 HTTP/1.1 connections to one host, and the hub answers an offer for
// a camera only once it is pushed (up to its whep_wait_s, for an idle or offline camera): a
// wall of 16 tiles would leave no connection for the API (an acknowledge would wait). At most
// this many offers are in flight per page; a player's first offer goes before other players'
// retries, so a tile just put on the wall is not kept waiting behind offline cameras.
const OFFERS_IN_FLIGHT = 4;
const offers = { busy: 0, queue: [] };

function offerSlot(first) {
  return new Promise((resolve) => {
    offers.queue.push({ first, resolve });
    nextOffer();
  });
}

function nextOffer() {
  while (offers.busy < OFFERS_IN_FLIGHT && offers.queue.length) {
    const i = Math.max(0, offers.queue.findIndex((q) => q.first));
    const [q] = offers.queue.splice(i, 1);
    offers.busy += 1;
    let released = false;
    q.resolve(() => {
      if (released) return;
      released = true;
      offers.busy -= 1;
      nextOffer();
    });
  }
}

export class WhepPlayer extends RtcSession {
  constructor(video, { url, token = () => null, audio = false, onState = () => {} }) {
    super({ token, onState, minRetryMs: MIN_RETRY_MS, maxRetryMs: 15000 });
    this.video = video;
    this.url = url;
    this.audio = audio;
    this.stats = { framesDecoded: 0, width: 0, height: 0, fps: 0 };
    this._lastProgress = 0;
    this.lastFrameAt = 0; // performance.now() when framesDecoded last rose
  }

  start() {
    if (!this._running) this._offered = false;
    super.start();
  }

  async _connect() {
    const generation = ++this._generation;
    const current = () => this._running && generation === this._generation;
    this._set(this.stats.framesDecoded > 0 ? "reconnecting" : "connecting");
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: "max-bundle" });
    this.pc = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    if (this.audio) pc.addTransceiver("audio", { direction: "recvonly" });
    pc.ontrack = (e) => {
      if (e.track.kind !== "video" && !this.audio) return;
      const stream = this.video.srcObject instanceof MediaStream ? this.video.srcObject : new MediaStream();
      stream.getTracks().filter((t) => t.kind === e.track.kind).forEach((t) => stream.removeTrack(t));
      stream.addTrack(e.track);
      if (this.video.srcObject !== stream) this.video.srcObject = stream;
      this.video.play().catch(() => {});
    };
    pc.onconnectionstatechange = () => {
      if (!current()) return;
      if (pc.connectionState === "failed" || pc.connectionState === "closed") this._again(MIN_RETRY_MS);
    };
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      if (!current()) return pc.close();
      const release = await offerSlot(!this._offered);
      let res;
      try {
        if (!current()) return pc.close();
        this._offered = true;
        res = await fetch(this.url, { method: "POST", headers: this._headers(), body: pc.localDescription.sdp });
      } finally {
        release();
      }
      if (!current()) return pc.close();
      if (res.status === 503 || res.status === 404) {
        // The camera is offline (or not public any more): say so and ask again later.
        const after = Number(res.headers.get("Retry-After")) * 1000;
        this._set("offline");
        return this._again(after > 0 ? after : this._retry, true);
      }
      if (!res.ok) {
        this._set("error", `${res.status}`);
        return this._again(this._retry, true);
      }
      const location = res.headers.get("Location");
      // The Location is relative to the URL that was posted to (RFC 9110 10.2.2).
      this.location = location ? new URL(location, new URL(this.url, window.location.href)).href : null;
      await pc.setRemoteDescription({ type: "answer", sdp: await res.text() });
      this._lastProgress = performance.now();
      this._watchFrames(pc, current);
    } catch (err) {
      if (!current()) return;
      this._set("reconnecting");
      this._again(this._retry, true);
    }
  }

  _watchFrames(pc, current) {
    clearInterval(this._watch);
    let last = -1;
    this._watch = setInterval(async () => {
      if (!current()) return clearInterval(this._watch);
      let decoded = 0;
      let fps = 0;
      try {
        const report = await pc.getStats();
        report.forEach((s) => {
          if (s.type === "inbound-rtp" && s.kind === "video") {
            decoded = s.framesDecoded || 0;
            fps = s.framesPerSecond || 0;
          }
        });
      } catch (_) {
        return;
      }
      const now = performance.now();
      if (decoded > last && last >= 0) {
        this._retry = MIN_RETRY_MS;
        this.stats = { framesDecoded: this.stats.framesDecoded + (decoded - last), width: this.video.videoWidth, height: this.video.videoHeight, fps };
        this._lastProgress = now;
        this.lastFrameAt = now;
        this._set("live");
      } else if (now - this._lastProgress > RESTART_MS) {
        this._again(0);
      } else if (now - this._lastProgress > STALL_MS && this.state === "live") {
        this._set("reconnecting");
      }
      last = decoded;
    }, 500);
  }
}
