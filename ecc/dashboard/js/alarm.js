// The alarm sound of the operator's wall, made with the Web Audio API (no audio files): a
// two-tone beep for danger, a faster and higher one for critical.
//
// Browsers start audio only after a user gesture on the page (Chrome's autoplay policy), so
// the context may be "suspended" until then: `state` says so ("blocked"), the wall shows a
// visible "enable sound" control, and any click or key press on the page unlocks it as well.
//
//   const alarm = new Alarm({ onChange: (state) => ... });   // "on" | "off" | "blocked" | "none"
//   alarm.play("danger");

const PATTERNS = {
  danger: { tones: [880, 660], beeps: 4, beep: 0.2, gap: 0.08 },
  critical: { tones: [1046, 784], beeps: 8, beep: 0.12, gap: 0.05 },
};
const VOLUME = 0.14;
const STORAGE = "ecc.sound";

export class Alarm {
  constructor({ onChange = () => {} } = {}) {
    this.onChange = onChange;
    this.muted = localStorage.getItem(STORAGE) === "off";
    this.played = 0;
    this.ctx = null;
    const Context = window.AudioContext || window.webkitAudioContext;
    if (Context) {
      this.ctx = new Context();
      this.ctx.addEventListener("statechange", () => this.onChange(this.state));
    }
    // Any gesture counts: the operator need not find the button. The button itself
    // ([data-alarm-control]) decides on its own what its press means.
    const unlock = (e) => {
      if (!this.ctx || this.ctx.state === "running" || e.target.closest?.("[data-alarm-control]")) return;
      this.unlock();
    };
    document.addEventListener("pointerdown", unlock, true);
    document.addEventListener("keydown", unlock, true);
  }

  get state() {
    if (!this.ctx) return "none";
    if (this.ctx.state !== "running") return "blocked";
    return this.muted ? "off" : "on";
  }

  /** Resume the audio context; works when called from a user gesture. */
  unlock() {
    if (!this.ctx) return Promise.resolve();
    return this.ctx.resume().then(
      () => this.onChange(this.state),
      () => this.onChange(this.state),
    );
  }

  setMuted(muted) {
    this.muted = muted;
    localStorage.setItem(STORAGE, muted ? "off" : "on");
    this.onChange(this.state);
  }

  /** Sound the alarm for a severity (danger or critical); false when it cannot be heard. */
  play(severity) {
    const pattern = PATTERNS[severity];
    if (!pattern || this.state !== "on") return false;
    const ctx = this.ctx;
    const gain = ctx.createGain();
    gain.gain.value = 0;
    gain.connect(ctx.destination);
    const osc = ctx.createOscillator();
    osc.type = "square";
    osc.connect(gain);
    const t0 = ctx.currentTime + 0.02;
    const { tones, beeps, beep, gap } = pattern;
    for (let i = 0; i < beeps; i++) {
      const start = t0 + i * (beep + gap);
      osc.frequency.setValueAtTime(tones[i % tones.length], start);
      // Short ramps at both ends: a step in the gain clicks.
      gain.gain.setValueAtTime(0, start);
      gain.gain.linearRampToValueAtTime(VOLUME, start + 0.01);
      gain.gain.setValueAtTime(VOLUME, start + beep - 0.015);
      gain.gain.linearRampToValueAtTime(0, start + beep);
    }
    const end = t0 + beeps * (beep + gap);
    osc.start(t0);
    osc.stop(end);
    osc.addEventListener("ended", () => gain.disconnect());
    this.played += 1;
    // What the tests read: how many alarms were actually sounded.
    document.body.dataset.alarms = String(this.played);
    return true;
  }
}
