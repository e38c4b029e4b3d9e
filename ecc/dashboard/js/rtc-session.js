// What the dashboard's WebRTC sessions share (WHEP player, WHIP publisher, talkback listener):
// one session at a time, started again after a backoff with jitter when it ends or fails, its
// state told to `onState`, and the server told at once (DELETE on its Location) when it is left.
//
// A subclass sets `url`-specific fields, and implements `_connect()`, which bumps
// `_generation` and checks it after every await (a session superseded by a newer one quits).

export const GATHER_MS = 2000; // longest wait for our own ICE candidates before sending the offer

export class RtcSession {
  constructor({ token = () => null, onState = () => {}, minRetryMs = 1000, maxRetryMs = 15000, jitter = 0.2 }) {
    this.token = token;
    this.onState = onState;
    this.state = "idle";
    this.pc = null;
    this.location = null;
    this.minRetryMs = minRetryMs;
    this.maxRetryMs = maxRetryMs;
    this.jitter = jitter; // a wait of d is d × (1 ± jitter)
    this._running = false;
    this._generation = 0;
    this._timer = null; // the next attempt
    this._watch = null; // a subclass's interval watching the session
    this._disconnected = null; // a subclass's timeout on ICE "disconnected"
    this._retry = minRetryMs;
  }

  start() {
    if (this._running) return;
    this._running = true;
    this._connect();
  }

  stop() {
    this._running = false;
    this._generation += 1;
    this._clearTimers();
    this._teardown();
    this._set("idle");
  }

  _clearTimers() {
    clearTimeout(this._timer);
    clearInterval(this._watch);
    clearTimeout(this._disconnected);
  }

  _set(state, detail) {
    if (state === this.state && detail === undefined) return;
    this.state = state;
    this.onState(state, detail);
  }

  _headers() {
    const headers = { "Content-Type": "application/sdp" };
    const token = this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    return headers;
  }

  /** End the session and start a new one after `delay` (with jitter); `backoff` doubles the
   * next failure's wait, up to maxRetryMs. */
  _again(delay, backoff = false) {
    if (!this._running) return;
    this._clearTimers();
    this._generation += 1;
    this._teardown();
    if (backoff) this._retry = Math.min(this._retry * 2, this.maxRetryMs);
    const wait = delay * (1 - this.jitter + Math.random() * 2 * this.jitter);
    this._timer = setTimeout(() => this._connect(), wait);
  }

  _teardown() {
    if (this.location) {
      // Tell the server at once: a camera stops being pushed when nobody watches.
      fetch(this.location, { method: "DELETE", headers: this._headers(), keepalive: true }).catch(() => {});
      this.location = null;
    }
    if (this.pc) {
      this.pc.onconnectionstatechange = null;
      this.pc.close();
      this.pc = null;
    }
  }
}

/** Resolves once the peer connection has gathered its ICE candidates, or after GATHER_MS. */
export function gathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, GATHER_MS);
  });
}
