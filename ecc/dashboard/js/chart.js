// A time series of one metric (uPlot): the readings of a window (24 h by default), the
// station's warning / danger / critical levels drawn across it, new readings appended live,
// times in the site's (or user's) time zone.
//
//   const chart = await createChart(el, { metric, thresholds, timezone, points });
//   events.on("reading", (r) => chart.append(r.ts, r.values[metric]));
import { extend, language, t } from "./i18n.js";
import { LEVELS, formatValue, levelName, metricName, unit, withUnit } from "./metrics.js";
import * as vendor from "./vendor.js";

extend({
  "zh-CN": {
    "chart.time": "时间",
    "chart.summary": "{metric}，最近 {hours} 小时，{count} 个数据点，最新 {latest}",
    "chart.summary_empty": "{metric}，最近 {hours} 小时，暂无数据",
    "chart.empty": "最近 {hours} 小时没有数据",
  },
  en: {
    "chart.time": "Time",
    "chart.summary": "{metric}, last {hours} h, {count} points, latest {latest}",
    "chart.summary_empty": "{metric}, last {hours} h, no data",
    "chart.empty": "No readings in the last {hours} h",
  },
});

// Each level has its own dash pattern and a written label, so the lines stay apart without
// colour (the colours are the severity colours of css/app.css).
const DASH = { warning: [10, 6], danger: [4, 4], critical: [] };

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

function toEpoch(ts) {
  return typeof ts === "number" ? ts : Date.parse(ts) / 1000;
}

/** A chart in `el`; resolves once uPlot is loaded and the first points are drawn. */
export async function createChart(el, options) {
  const uPlot = await vendor.uplot();
  return new TimeChart(uPlot, el, options);
}

export class TimeChart {
  /**
   * options: metric, thresholds ({warning, danger, critical}), timezone, points ([{ts, value}]),
   * windowS (86400), gapS (break the line where readings are further apart), height (240).
   */
  constructor(uPlot, el, options) {
    this.uPlot = uPlot;
    this.el = el;
    this.options = { windowS: 86400, height: 240, fontSize: 12, thresholds: {}, ...options };
    this.xs = [];
    this.ys = [];
    this.setPoints(options.points || [], { draw: false });
    el.classList.add("ts-chart");
    el.setAttribute("role", "figure");
    this.plotEl = document.createElement("div");
    this.emptyEl = document.createElement("p");
    this.emptyEl.className = "ts-chart-empty muted";
    el.replaceChildren(this.plotEl, this.emptyEl);
    this._build();
    this._resize = new ResizeObserver(() => this._fitWidth());
    this._resize.observe(el);
    this._onLanguage = () => this._build();
    document.addEventListener("ecc:language", this._onLanguage);
  }

  destroy() {
    document.removeEventListener("ecc:language", this._onLanguage);
    this._resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
    // Only this chart's nodes: a newer chart may already be drawn in the same element.
    this.plotEl.remove();
    this.emptyEl.remove();
  }

  /** Replace the points ([{ts, value}], any order). */
  setPoints(points, { draw = true } = {}) {
    const sorted = points
      .map((p) => [toEpoch(p.ts), p.value])
      .filter(([x, y]) => Number.isFinite(x) && typeof y === "number")
      .sort((a, b) => a[0] - b[0]);
    this.xs = sorted.map((p) => p[0]);
    this.ys = sorted.map((p) => p[1]);
    if (draw) this._redraw();
  }

  /** Add one reading; an older or repeated timestamp goes into its place, not at the end. */
  append(ts, value) {
    if (typeof value !== "number") return;
    const x = toEpoch(ts);
    if (!Number.isFinite(x)) return;
    let i = this.xs.length;
    while (i > 0 && this.xs[i - 1] > x) i--;
    if (i > 0 && this.xs[i - 1] === x) this.ys[i - 1] = value;
    else {
      this.xs.splice(i, 0, x);
      this.ys.splice(i, 0, value);
    }
    // Keep only the window, measured from the newest reading.
    const cutoff = this.xs[this.xs.length - 1] - this.options.windowS;
    let drop = 0;
    while (drop < this.xs.length && this.xs[drop] < cutoff) drop++;
    if (drop) {
      this.xs.splice(0, drop);
      this.ys.splice(0, drop);
    }
    this._redraw();
  }

  /** A time cursor across the chart (epoch s; null: none), as the incident review moves it. */
  setCursor(ts) {
    this.options.cursor = ts;
    this.plot?.redraw(false, false);
  }

  /** Marks at instants ([{ts, severity?}]: an alert's colour, or a decision's grey). */
  setMarks(marks) {
    this.options.marks = marks || [];
    this.plot?.redraw(false, false);
  }

  _drawMarks(u) {
    const { ctx, bbox } = u;
    const px = this.uPlot.pxRatio;
    const line = (ts, colour, width, top) => {
      const x = Math.round(u.valToPos(ts, "x", true));
      if (x < bbox.left || x > bbox.left + bbox.width) return;
      ctx.strokeStyle = colour;
      ctx.lineWidth = width * px;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
    };
    ctx.save();
    ctx.setLineDash([]);
    ctx.globalAlpha = 0.7;
    for (const m of this.options.marks || []) {
      const colour = m.severity ? cssVar(`--${m.severity}`, "#fff") : cssVar("--muted", "#8ea5bf");
      // Alerts across the whole height; decisions as short ticks from the bottom.
      line(m.ts, colour, 1, m.severity ? bbox.top : bbox.top + bbox.height - 14 * px);
    }
    ctx.globalAlpha = 1;
    if (typeof this.options.cursor === "number") line(this.options.cursor, cssVar("--focus", "#ffd24a"), 2, bbox.top);
    ctx.restore();
  }

  /** Change the height or the size of the text (px), for a chart in a panel that grows with
   *  the screen (the wall). */
  setSize({ height = this.options.height, fontSize = this.options.fontSize } = {}) {
    const rebuild = fontSize !== this.options.fontSize;
    this.options.height = height;
    this.options.fontSize = fontSize;
    if (rebuild) this._build();
    else this._fitWidth();
  }

  setThresholds(thresholds) {
    this.options.thresholds = thresholds || {};
    this._redraw();
  }

  get count() {
    return this.xs.length;
  }

  // uPlot draws a line across missing readings; a gap longer than gapS is shown as a gap.
  _data() {
    const gap = this.options.gapS;
    if (!gap) return [this.xs, this.ys];
    const xs = [];
    const ys = [];
    for (let i = 0; i < this.xs.length; i++) {
      if (i > 0 && this.xs[i] - this.xs[i - 1] > gap) {
        xs.push((this.xs[i] + this.xs[i - 1]) / 2);
        ys.push(null);
      }
      xs.push(this.xs[i]);
      ys.push(this.ys[i]);
    }
    return [xs, ys];
  }

  _levels() {
    const th = this.options.thresholds || {};
    return LEVELS.filter((l) => typeof th[l] === "number").map((l) => ({ level: l, value: th[l] }));
  }

  _format(parts) {
    const opts = { timeZone: this.options.timezone, hour12: false };
    if (parts.includes("time")) Object.assign(opts, { hour: "2-digit", minute: "2-digit" });
    if (parts.includes("date")) Object.assign(opts, { month: "2-digit", day: "2-digit" });
    const f = new Intl.DateTimeFormat(language() === "en" ? "en-GB" : "zh-CN", opts);
    return (ts) => f.format(new Date(ts * 1000));
  }

  _build() {
    this.plot?.destroy();
    const { metric, timezone } = this.options;
    const uPlot = this.uPlot;
    const text = cssVar("--muted", "#8ea5bf");
    const grid = cssVar("--line", "#24405f");
    const line = cssVar("--accent", "#3da5ff");
    const fs = this.options.fontSize;
    const font = `${fs}px ${cssVar("--font", "sans-serif")}`;
    const hm = this._format(["time"]);
    const md = this._format(["date"]);
    const mdhm = this._format(["date", "time"]);
    const self = this;
    const opts = {
      width: Math.max(this.el.clientWidth, 200),
      height: this.options.height,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), timezone),
      cursor: { drag: { x: false, y: false }, points: { size: 7 } },
      legend: { live: true },
      scales: {
        x: {
          time: true,
          // Always the whole window up to now (or the newest reading), so that a silent
          // station shows as an empty stretch, not as a stretched line.
          range: () => {
            // A fixed span (an incident's review) when given, else the window up to now.
            if (self.options.range) return self.options.range;
            const end = Math.max(Date.now() / 1000, self.xs.at(-1) ?? 0);
            return [end - self.options.windowS, end];
          },
        },
        y: {
          // The levels stay in view, so the distance to them can be read at a glance.
          range: (u, min, max) => {
            const vals = [min, max, ...self._levels().map((l) => l.value)].filter(Number.isFinite);
            if (vals.length === 0) return [0, 1];
            let lo = Math.min(...vals);
            let hi = Math.max(...vals);
            const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.05 || 1;
            lo -= pad;
            hi += pad;
            return [lo, hi];
          },
        },
      },
      series: [
        {
          label: t("chart.time"),
          // Away from the cursor, the legend shows the newest reading.
          value: (u, ts, si, idx) => {
            if (idx == null) return self.xs.length ? mdhm(self.xs.at(-1)) : "";
            return ts == null ? "" : mdhm(ts);
          },
        },
        {
          label: unit(metric) ? `${metricName(metric)} (${unit(metric)})` : metricName(metric),
          stroke: line,
          width: 2,
          fill: "rgba(61, 165, 255, 0.10)",
          spanGaps: false,
          points: { show: (u, si, i0, i1) => i1 - i0 < 60, size: 5 },
          value: (u, v, si, idx) => {
            if (idx == null) return self.ys.length ? formatValue(metric, self.ys.at(-1)) : "";
            return v == null ? "" : formatValue(metric, v);
          },
        },
      ],
      axes: [
        {
          stroke: text,
          font,
          // uPlot's sizes (50 px, ticks 50 px apart) grow with the text.
          size: Math.round((50 * fs) / 12),
          space: Math.round((50 * fs) / 12),
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          values: (u, splits, ax, space, incr) =>
            splits.map((ts, i) => {
              // The date under the first tick and wherever the day changes; the time elsewhere.
              const day = md(ts);
              if (incr >= 86400) return day;
              return i > 0 && md(splits[i - 1]) === day ? hm(ts) : `${hm(ts)}\n${day}`;
            }),
        },
        {
          stroke: text,
          font,
          size: Math.round((56 * fs) / 12),
          space: Math.round((30 * fs) / 12),
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          values: (u, splits) => splits.map((v) => formatValue(metric, v)),
        },
      ],
      hooks: { draw: [(u) => self._drawLevels(u), (u) => self._drawMarks(u)] },
    };
    this.plot = new uPlot(opts, this._data(), this.plotEl);
    this._describe();
  }

  _drawLevels(u) {
    const { ctx, bbox } = u;
    const px = this.uPlot.pxRatio;
    ctx.save();
    const fs = this.options.fontSize;
    ctx.font = `${Math.round(fs * px)}px ${cssVar("--font", "sans-serif")}`;
    ctx.textBaseline = "bottom";
    ctx.textAlign = "right";
    for (const { level, value } of this._levels()) {
      const y = Math.round(u.valToPos(value, "y", true));
      if (y < bbox.top || y > bbox.top + bbox.height) continue;
      const colour = cssVar(`--${level}`, "#fff");
      ctx.strokeStyle = colour;
      ctx.lineWidth = 2 * px;
      ctx.setLineDash(DASH[level].map((d) => d * px));
      ctx.beginPath();
      ctx.moveTo(bbox.left, y);
      ctx.lineTo(bbox.left + bbox.width, y);
      ctx.stroke();
      const label = `${levelName(this.options.metric, level)} ${withUnit(this.options.metric, value)}`;
      const w = ctx.measureText(label).width;
      const x = bbox.left + bbox.width - 4 * px;
      ctx.fillStyle = "rgba(10, 20, 32, 0.85)";
      ctx.fillRect(x - w - 4 * px, y - (fs + 5) * px, w + 8 * px, (fs + 3) * px);
      ctx.fillStyle = colour;
      ctx.fillText(label, x, y - 3 * px);
    }
    ctx.restore();
  }

  _redraw() {
    if (!this.plot) return;
    this.plot.setData(this._data());
    this._describe();
  }

  _fitWidth() {
    if (!this.plot) return;
    const width = Math.max(this.el.clientWidth, 200);
    if (width !== this.plot.width || this.options.height !== this.plot.height) {
      this.plot.setSize({ width, height: this.options.height });
    }
  }

  // A text equivalent of the picture for screen readers, and what the tests read.
  _describe() {
    const { metric } = this.options;
    const hours = Math.round(this.options.windowS / 3600);
    const name = metricName(metric);
    const n = this.xs.length;
    this.el.dataset.points = String(n);
    this.el.dataset.latest = n ? String(this.ys[n - 1]) : "";
    this.el.setAttribute(
      "aria-label",
      n
        ? t("chart.summary", { metric: name, hours, count: n, latest: withUnit(metric, this.ys[n - 1]) })
        : t("chart.summary_empty", { metric: name, hours }),
    );
    this.emptyEl.textContent = t("chart.empty", { hours });
    this.emptyEl.hidden = n > 0;
  }
}
