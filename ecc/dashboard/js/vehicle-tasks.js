// The crew's tasks on the vehicle page: the incidents this vehicle is sent to, with the
// instructions, the incident's area, and a button to acknowledge the task. Arrival needs no
// button: the center sees the vehicle's positions enter the area.
//
//   const tasks = new VehicleTasks(el, { token });
//   tasks.show(vehicleId); events.on("incident", (i) => tasks.onIncident(i));
import { extend, t } from "./i18n.js";
import { incidentTitle } from "./incident.js";
import { badge } from "./severity.js";
import { formatTime } from "./shell.js";

extend({
  "zh-CN": {
    "vtask.heading": "任务",
    "vtask.none": "暂无派遣任务",
    "vtask.ack": "确认接收",
    "vtask.acked": "已确认接收",
    "vtask.new": "新任务：{title}",
    "vtask.dispatched": "{time} 派遣",
    "vtask.area": "目标区域：{lat}, {lon} 半径 {radius} m",
    "vtask.area_polygon": "目标区域：多边形",
    "vtask.failed": "确认失败：{detail}",
    "vtask.state.dispatched": "待确认",
    "vtask.state.acknowledged": "已确认，前往现场",
    "vtask.state.arrived": "已到达现场",
    "vtask.state.done": "已完成",
    "vtask.state.cancelled": "已撤回",
  },
  en: {
    "vtask.heading": "Tasks",
    "vtask.none": "No task",
    "vtask.ack": "Acknowledge",
    "vtask.acked": "Acknowledged",
    "vtask.new": "New task: {title}",
    "vtask.dispatched": "dispatched {time}",
    "vtask.area": "Area: {lat}, {lon}, radius {radius} m",
    "vtask.area_polygon": "Area: a polygon",
    "vtask.failed": "Could not acknowledge: {detail}",
    "vtask.state.dispatched": "To acknowledge",
    "vtask.state.acknowledged": "Acknowledged, on the way",
    "vtask.state.arrived": "On site",
    "vtask.state.done": "Done",
    "vtask.state.cancelled": "Recalled",
  },
});

export class VehicleTasks {
  constructor(el, { token }) {
    this.el = el;
    this.token = token;
    this.vehicleId = null;
    this.tasks = [];
    this.known = new Set();
    this.loaded = false;
    this.error = null;
    this.names = new Map(); // `station:{id}` -> station, to title incidents in the page's language
    this._seq = 0;
    el.hidden = false;
    el.classList.add("vehicle-tasks");
  }

  async _fetch(path, method = "GET") {
    const res = await fetch(path, { method, headers: { Authorization: `Bearer ${this.token()}` } });
    if (!res.ok) {
      let detail = `${res.status}`;
      try {
        detail = (await res.json()).detail || detail;
      } catch (_) { /* not JSON */ }
      throw new Error(detail);
    }
    return res.json();
  }

  /** The tasks of this vehicle (and of no other from now on). */
  async show(vehicleId) {
    const changed = vehicleId !== this.vehicleId;
    this.vehicleId = vehicleId;
    if (changed) {
      this.known = new Set();
      this.loaded = false;
    }
    const seq = ++this._seq;
    let tasks;
    try {
      if (!this.names.size) {
        const stations = await this._fetch("/api/stations");
        for (const s of stations) this.names.set(`station:${s.id}`, s);
      }
      tasks = await this._fetch(`/api/vehicles/${encodeURIComponent(vehicleId)}/tasks`);
    } catch (_) {
      return; // the link is down: the page says so; the next reconnect loads again
    }
    if (seq !== this._seq) return;
    // A task not seen before is announced, except on the first load of a vehicle's tasks.
    const fresh = this.loaded ? tasks.filter((x) => x.state === "dispatched" && !this.known.has(x.id)) : [];
    this.loaded = true;
    for (const x of tasks) this.known.add(x.id);
    this.tasks = tasks;
    this.render();
    if (fresh.length) this._announce(fresh[0]);
  }

  /** An `incident` event: reload if it concerns this vehicle. */
  onIncident(incident) {
    if (incident.tasks?.some((x) => x.vehicle_id === this.vehicleId) || this.tasks.some((x) => x.incident.id === incident.id)) {
      this.show(this.vehicleId);
    }
  }

  _announce(task) {
    const banner = document.getElementById("alert-banner");
    if (!banner) return;
    banner.textContent = t("vtask.new", { title: incidentTitle(task.incident, this.names) });
    banner.hidden = false;
    clearTimeout(this._banner);
    this._banner = setTimeout(() => (banner.hidden = true), 20000);
  }

  async _ack(task, button) {
    button.disabled = true;
    try {
      await this._fetch(`/api/incidents/${encodeURIComponent(task.incident.id)}/tasks/${encodeURIComponent(task.id)}/ack`, "POST");
      this.error = null;
      await this.show(this.vehicleId);
    } catch (err) {
      this.error = t("vtask.failed", { detail: err.message });
      button.disabled = false;
      this.render();
    }
  }

  _area(area) {
    if (area.radius_m) {
      return t("vtask.area", { lat: area.lat.toFixed(5), lon: area.lon.toFixed(5), radius: Math.round(area.radius_m) });
    }
    return area.polygon?.length ? t("vtask.area_polygon") : "";
  }

  render() {
    const h = document.createElement("h2");
    h.textContent = t("vtask.heading");
    const list = document.createElement("ul");
    list.className = "task-items";
    list.id = "task-items";
    const current = this.tasks.filter((x) => !["done", "cancelled"].includes(x.state));
    for (const task of current) {
      const li = document.createElement("li");
      li.dataset.taskId = task.id;
      li.dataset.state = task.state;
      const title = document.createElement("strong");
      title.textContent = incidentTitle(task.incident, this.names);
      const state = document.createElement("span");
      state.className = "task-state";
      state.textContent = t(`vtask.state.${task.state}`);
      const line = document.createElement("div");
      line.append(badge(task.incident.severity), " ", title, " · ", state);
      li.append(line);
      if (task.instructions) {
        const p = document.createElement("p");
        p.className = "task-instructions";
        p.textContent = task.instructions;
        li.append(p);
      }
      const meta = document.createElement("p");
      meta.className = "muted";
      meta.textContent = [t("vtask.dispatched", { time: formatTime(task.dispatched_at) }), this._area(task.incident.area)].filter(Boolean).join(" · ");
      li.append(meta);
      if (!task.acknowledged_at) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "primary big task-ack";
        b.textContent = t("vtask.ack");
        b.addEventListener("click", () => this._ack(task, b));
        li.append(b);
      }
      list.append(li);
    }
    const none = document.createElement("p");
    none.className = "muted";
    none.textContent = t("vtask.none");
    none.hidden = current.length > 0;
    const error = document.createElement("p");
    error.className = "error";
    error.hidden = !this.error;
    error.textContent = this.error || "";
    this.el.replaceChildren(h, list, none, error);
  }
}
