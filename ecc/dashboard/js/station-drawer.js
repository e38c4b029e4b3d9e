// A station on the operator's wall: its chart of the last 24 h with the warning and danger
// levels drawn, its latest values, and its cameras with a button that puts one on the wall.
//
//   const drawer = new StationDrawer(el, { cameras, camerasOf, onShow, chartStyle, ... });
//   drawer.open(station, from); drawer.reading(r); drawer.render(); drawer.close();
import { api } from "./api.js";
import { createChart } from "./chart.js";
import { apply, extend, localName, t } from "./i18n.js";
import { metricName, primaryMetric, withUnit } from "./metrics.js";
import { badge } from "./severity.js";

extend({
  "zh-CN": {
    "drawer.close": "关闭",
    "drawer.close_label": "关闭监测站详情",
    "drawer.chart": "最近 24 小时",
    "drawer.latest": "最新数据",
    "drawer.cameras": "关联摄像机",
    "drawer.nearby": "{km} 公里内的摄像机",
    "drawer.no_cameras": "附近没有摄像机",
    "drawer.show": "上墙",
    "drawer.show_label": "将 {name} 放上大屏",
    "drawer.online": "在线",
    "drawer.offline": "离线",
    "drawer.unknown": "无数据",
    "drawer.no_value": "暂无数据",
  },
  en: {
    "drawer.close": "Close",
    "drawer.close_label": "Close the station details",
    "drawer.chart": "Last 24 hours",
    "drawer.latest": "Latest values",
    "drawer.cameras": "Linked cameras",
    "drawer.nearby": "Cameras within {km} km",
    "drawer.no_cameras": "No cameras nearby",
    "drawer.show": "Show",
    "drawer.show_label": "Show {name} on the wall",
    "drawer.online": "Online",
    "drawer.offline": "Offline",
    "drawer.unknown": "No data",
    "drawer.no_value": "No data yet",
  },
});

function span(className, text) {
  const s = document.createElement("span");
  s.className = className;
  s.textContent = text;
  return s;
}

export class StationDrawer {
  /**
   * options: cameras (Map id -> camera), camerasOf(station) -> {nearby, ids} (its linked
   * cameras, or the nearest), radiusKm() (of "nearest"), onShow(cameraId), chartStyle() ->
   * {height, fontSize}, timezone, formatTime(iso), onClose().
   */
  constructor(el, options) {
    this.el = el;
    this.options = options;
    this.station = null;
    this.metric = null;
    this.chart = null;
    this.from = null;
    this.seq = 0; // a chart answer for an earlier station or metric is dropped
    el.innerHTML = `
      <header class="drawer-head">
        <div>
          <h2 class="drawer-title" tabindex="-1"></h2>
          <p class="drawer-meta muted"></p>
        </div>
        <div class="drawer-status"></div>
        <button type="button" class="drawer-close" data-i18n="drawer.close" data-i18n-attr="aria-label:drawer.close_label"></button>
      </header>
      <div class="drawer-body">
        <div class="metric-tabs" role="group"></div>
        <h3 class="drawer-h" data-i18n="drawer.chart"></h3>
        <div class="wall-chart"></div>
        <div class="drawer-cols">
          <div>
            <h3 class="drawer-h" data-i18n="drawer.latest"></h3>
            <dl class="kv drawer-latest"></dl>
          </div>
          <div>
            <h3 class="drawer-h drawer-cameras-title"></h3>
            <ul class="plain drawer-cameras"></ul>
          </div>
        </div>
      </div>`;
    this.$ = (sel) => el.querySelector(sel);
    this.$(".drawer-title").id = `${el.id}-title`;
    el.setAttribute("aria-labelledby", `${el.id}-title`);
    this.$(".drawer-close").addEventListener("click", () => this.close());
  }

  get id() {
    return this.station ? this.station.id : null;
  }

  /** Show a station (an item of GET /api/stations); `from` gets the focus back on close. */
  async open(station, from = null) {
    const same = this.id === station.id;
    this.station = station;
    this.metric = same ? this.metric : primaryMetric(station);
    this.from = from || this.from;
    this.seq += 1;
    this.el.hidden = false;
    this.render();
    this.$(".drawer-title").focus();
    await this._loadChart();
  }

  /** Close; false when it was not open. */
  close() {
    if (!this.station) return false;
    const from = this.from;
    this.station = null;
    this.from = null;
    this.seq += 1;
    this.chart?.destroy();
    this.chart = null;
    this.el.hidden = true;
    this.options.onClose?.();
    if (from && from.isConnected) from.focus();
    return true;
  }

  /** A "reading" event of the station shown: the chart grows, the latest values change. */
  reading(r) {
    if (!this.station || r.station_id !== this.station.id) return;
    if (this.chart && typeof r.values[this.metric] === "number") this.chart.append(r.ts, r.values[this.metric]);
    this.render();
  }

  /** The screen changed size: the chart follows. */
  resize() {
    this.chart?.setSize(this.options.chartStyle());
  }

  async _loadChart() {
    const { station: s, metric, seq } = this;
    const box = this.$(".wall-chart");
    let points = [];
    try {
      points = await api(`/api/stations/${encodeURIComponent(s.id)}/readings?metric=${encodeURIComponent(metric)}&limit=20000`);
    } catch (err) {
      if (seq === this.seq) box.textContent = t("error.load", { detail: err.message });
      return;
    }
    if (seq !== this.seq) return;
    const made = await createChart(box, {
      metric,
      thresholds: s.thresholds[metric] || {},
      timezone: this.options.timezone,
      points,
      gapS: s.interval_s * 3,
      ...this.options.chartStyle(),
    });
    if (seq !== this.seq) return made.destroy();
    this.chart?.destroy();
    this.chart = made;
    box.dataset.ready = "true";
  }

  render() {
    const s = this.station;
    if (!s) return;
    const fmt = this.options.formatTime;
    this.$(".drawer-title").textContent = localName(s);
    const meta = [t(`kind.${s.kind}`)];
    if (s.river) meta.push(s.river);
    this.$(".drawer-meta").textContent = meta.join(" · ");
    const link = s.online === true ? "online" : s.online === false ? "offline" : "unknown";
    this.$(".drawer-status").replaceChildren(badge(s.alert_severity || null), span(`link-state link-${link}`, t(`drawer.${link}`)));

    const tabs = this.$(".metric-tabs");
    tabs.hidden = s.metrics.length < 2;
    tabs.replaceChildren(
      ...s.metrics.map((m) => {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = metricName(m);
        b.setAttribute("aria-pressed", String(m === this.metric));
        b.addEventListener("click", () => {
          if (m === this.metric) return;
          this.metric = m;
          this.seq += 1;
          this.render();
          this._loadChart();
        });
        return b;
      }),
    );

    const dl = this.$(".drawer-latest");
    dl.replaceChildren();
    for (const m of s.metrics) {
      const dt = document.createElement("dt");
      dt.textContent = metricName(m);
      const dd = document.createElement("dd");
      dd.dataset.metric = m;
      const v = s.latest[m];
      if (v) {
        const value = document.createElement("strong");
        value.className = "num";
        value.textContent = withUnit(m, v.value);
        dd.append(value, " ", span("muted num", fmt(v.ts)));
      } else {
        dd.className = "muted";
        dd.textContent = t("drawer.no_value");
      }
      dl.append(dt, dd);
    }

    const { nearby, ids } = this.options.camerasOf(s);
    this.$(".drawer-cameras-title").textContent = nearby
      ? t("drawer.nearby", { km: this.options.radiusKm() })
      : t("drawer.cameras");
    const ul = this.$(".drawer-cameras");
    ul.replaceChildren(
      ...ids.map((id) => {
        const c = this.options.cameras.get(id);
        const li = document.createElement("li");
        li.dataset.camera = id;
        li.append(span("cam-name", localName(c)));
        if (c.status && c.status.online === false) li.append(span("muted", t("drawer.offline")));
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = t("drawer.show");
        b.setAttribute("aria-label", t("drawer.show_label", { name: localName(c) }));
        b.addEventListener("click", () => this.options.onShow(id));
        li.append(b);
        return li;
      }),
    );
    if (!ids.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = t("drawer.no_cameras");
      ul.append(li);
    }
    apply(this.el);
  }
}
