// Plays one source's recordings in a <video> with hls.js, addressed by wall time.
//
// The center answers an HLS VOD playlist for any range (GET .../playback.m3u8?start=&end=);
// every segment carries its wall time (EXT-X-PROGRAM-DATE-TIME), so a time of day maps to a
// media time and back. The player loads a window around the time asked for (WINDOW_MS on each
// side) and moves the window when a seek leaves it or playback reaches its end. URLs carry the
// source's media token (from GET .../recordings): hls.js's own requests send no header.
//
//   const p = new RecordingPlayer(video, { base: "/api/cameras/dam-east", token: () => t,
//                                          onTime: (ms) => ..., onState: (s) => ... });
//   await p.seek(ms); p.play(); p.setRate(4); p.step(1); p.now(); p.destroy();
//
// States: idle, loading, paused, playing, ended (nothing recorded after), error.
import { hls as loadHls } from "./vendor.js";

const WINDOW_MS = 30 * 60e3;
const DEFAULT_FRAME_S = 1 / 25;

export class RecordingPlayer {
  constructor(video, { base, token, onTime = () => {}, onState = () => {} }) {
    this.video = video;
    this.base = base;
    this.token = token;
    this.onTime = onTime;
    this.onState = onState;
    this.state = "idle";
    this.hls = null;
    this.window = null; // [start, end] ms of the loaded playlist
    this.fragments = []; // [{ start (media s), duration (s), pdt (ms) }]
    this.rate = 1;
    this.frameS = DEFAULT_FRAME_S;
    this._generation = 0;
    this._wantPlay = false;
    this._onTimeUpdate = () => this._tick();
    this._onEnded = () => this._next();
    video.addEventListener("timeupdate", this._onTimeUpdate);
    video.addEventListener("seeked", this._onTimeUpdate);
    video.addEventListener("ended", this._onEnded);
    video.addEventListener("playing", () => this._set("playing"));
    video.addEventListener("pause", () => { if (this.state === "playing") this._set("paused"); });
    video.muted = true;
    video.playsInline = true;
  }

  _set(state, detail) {
    this.state = state;
    this.video.closest("[data-player]")?.setAttribute("data-state", state);
    this.onState(state, detail);
  }

  /** Wall time (ms) of the picture shown, or null. */
  now() {
    const t = this.video.currentTime;
    const f = this._fragmentAt(t);
    return f ? f.pdt + (t - f.start) * 1000 : null;
  }

  _fragmentAt(t) {
    const frags = this.fragments;
    let found = null;
    for (const f of frags) {
      if (f.start <= t + 1e-3) found = f;
      else break;
    }
    return found;
  }

  /** Media time of wall time `ms` in the loaded playlist: in a gap, the start of what follows. */
  _mediaTime(ms) {
    for (const f of this.fragments) {
      if (ms < f.pdt) return f.start;
      if (ms < f.pdt + f.duration * 1000) return f.start + (ms - f.pdt) / 1000;
    }
    return null;
  }

  _url(start, end) {
    const q = new URLSearchParams({
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      token: this.token(),
    });
    return `${this.base}/playback.m3u8?${q}`;
  }

  async _load(start, end) {
    const Hls = await loadHls();
    const generation = ++this._generation;
    if (this.hls) this.hls.destroy();
    this.fragments = [];
    this.window = [start, end];
    this._set("loading");
    const hls = new Hls({
      autoStartLoad: false,
      enableWorker: true,
      lowLatencyMode: false,
      // A few segments ahead: a jump stays cheap, fast playback keeps fed.
      maxBufferLength: 30,
      maxMaxBufferLength: 120,
      backBufferLength: 60,
    });
    this.hls = hls;
    return new Promise((resolve, reject) => {
      hls.on(Hls.Events.LEVEL_LOADED, (_, data) => {
        if (generation !== this._generation) return;
        this.fragments = data.details.fragments.map((f) => ({
          start: f.start,
          duration: f.duration,
          pdt: f.programDateTime,
        }));
        resolve();
      });
      hls.on(Hls.Events.LEVEL_UPDATED, (_, data) => {
        // hls.js corrects fragment starts from the media's own times as it parses them.
        if (generation !== this._generation) return;
        this.fragments = data.details.fragments.map((f) => ({
          start: f.start,
          duration: f.duration,
          pdt: f.programDateTime,
        }));
      });
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (!data.fatal || generation !== this._generation) return;
        const status = data.response?.code;
        this._set("error", status === 404 ? "nothing" : data.details);
        reject(new Error(data.details));
      });
      hls.loadSource(this._url(start, end));
      hls.attachMedia(this.video);
    });
  }

  /** Show the picture at wall time `ms` (keeps playing if it was). False: nothing recorded
   * from there to the end of the loaded window. */
  async seek(ms) {
    const playing = this._wantPlay;
    const inside = this.window && ms >= this.window[0] && ms < this.window[1] && this.fragments.length;
    if (!inside) {
      try {
        await this._load(ms - WINDOW_MS, ms + WINDOW_MS);
      } catch (_) {
        return false;
      }
    }
    const t = this._mediaTime(ms);
    if (t === null) {
      this._set("ended");
      return false;
    }
    if (!inside) this.hls.startLoad(t);
    await this._seekMedia(t);
    this.video.playbackRate = this.rate;
    if (playing) await this.play();
    else this._set("paused");
    return true;
  }

  async _seekMedia(t) {
    const video = this.video;
    // Before the element has metadata a new currentTime is only remembered: no seek, no event.
    if (video.readyState < 1) {
      await new Promise((resolve) => video.addEventListener("loadedmetadata", resolve, { once: true }));
    }
    return new Promise((resolve) => {
      // The picture at the new time is on screen once the element has it (readyState 2) and
      // the page has painted twice since.
      const painted = () => requestAnimationFrame(() => requestAnimationFrame(() => resolve()));
      const ready = () => {
        video.removeEventListener("canplay", ready);
        painted();
      };
      const done = () => {
        video.removeEventListener("seeked", done);
        if (video.readyState >= 2) painted();
        else video.addEventListener("canplay", ready);
      };
      video.addEventListener("seeked", done);
      video.currentTime = t;
    });
  }

  async play() {
    this._wantPlay = true;
    this.video.playbackRate = this.rate;
    try {
      await this.video.play();
    } catch (_) {
      /* interrupted by a seek: the seek plays again */
    }
  }

  pause() {
    this._wantPlay = false;
    this.video.pause();
    this._set("paused");
  }

  get playing() {
    return this._wantPlay;
  }

  setRate(rate) {
    this.rate = rate;
    this.video.playbackRate = rate;
  }

  /** One frame forward or back (paused). */
  async step(direction) {
    if (this._wantPlay) this.pause();
    await this._seekMedia(Math.max(0, this.video.currentTime + direction * this.frameS));
    this._tick();
  }

  _tick() {
    const ms = this.now();
    if (ms !== null) this.onTime(ms);
    // The frame rate, from the pictures themselves, for stepping.
    if (this.video.requestVideoFrameCallback && !this._measuring && this._wantPlay) {
      this._measuring = true;
      this.video.requestVideoFrameCallback((_, a) => {
        this.video.requestVideoFrameCallback((__, b) => {
          this._measuring = false;
          const d = (b.mediaTime - a.mediaTime) / Math.max(1, b.presentedFrames - a.presentedFrames);
          if (d > 0.005 && d < 1) this.frameS = d;
        });
      });
    }
  }

  async _next() {
    // The window's playlist has ended: go on from its end if there is more.
    if (!this.window) return;
    const end = this.window[1];
    const moved = await this.seek(end);
    if (!moved) this._set("ended");
  }

  destroy() {
    this._generation += 1;
    this.video.removeEventListener("timeupdate", this._onTimeUpdate);
    this.video.removeEventListener("seeked", this._onTimeUpdate);
    this.video.removeEventListener("ended", this._onEnded);
    if (this.hls) this.hls.destroy();
    this.hls = null;
  }
}
