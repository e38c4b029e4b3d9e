// What the incident pages share: the words for states and timeline events, a line describing
// each timeline entry, source names, and the export with its progress.
//
//   const names = await loadNames();        // stations, cameras, vehicles by source id
//   describe(entry, names)                  // "中河新碶站 · 水位 2.85 m · 警戒"
//   await exportIncident(id, (job) => bar.value = job.progress);
import { api, session } from "./api.js";
import { extend, language, localName, t } from "./i18n.js";
import { alertKind, alertWhat, learnZones, metricName, withUnit } from "./metrics.js";

extend({
  "zh-CN": {
    "incident.state.open": "处置中",
    "incident.state.monitoring": "监视中",
    "incident.state.closed": "已结束",
    "incident.origin.auto": "告警自动生成",
    "incident.origin.manual": "人工创建",
    "incident.auto_title": "{source} · {what}",
    "task.state.dispatched": "已派遣",
    "task.state.acknowledged": "车组已确认",
    "task.state.arrived": "已到达",
    "task.state.done": "已完成",
    "task.state.cancelled": "已取消",
    "timeline.incident.opened": "事件开始",
    "timeline.incident.linked": "关联告警",
    "timeline.incident.unlinked": "取消关联告警",
    "timeline.incident.edited": "修改事件",
    "timeline.incident.state": "状态变更",
    "timeline.incident.source_added": "添加关联对象",
    "timeline.incident.source_removed": "移除关联对象",
    "timeline.note": "记录",
    "timeline.task.dispatched": "派遣车辆",
    "timeline.task.acknowledged": "车组确认",
    "timeline.task.arrived": "车辆到达",
    "timeline.task.done": "任务完成",
    "timeline.task.cancelled": "任务取消",
    "timeline.alert.raised": "告警产生",
    "timeline.alert.escalated": "告警升级",
    "timeline.alert.deescalated": "告警降级",
    "timeline.alert.acknowledged": "告警确认",
    "timeline.alert.resolved": "告警解除",
    "timeline.by_system": "系统",
    "timeline.state_change": "{from} → {to}",
    "timeline.metric_value": "{metric} {value}",
    "timeline.edited": "修改了 {fields}",
    "field.title": "标题",
    "field.severity": "级别",
    "field.description": "说明",
    "field.area": "区域",
    "source.camera": "摄像机 {name}",
    "source.vehicle": "{name}",
    "source.station": "{name}",
    "export.start": "导出",
    "export.busy": "正在导出… {percent}%",
    "export.queued": "排队等待导出…",
    "export.done": "导出完成",
    "export.failed": "导出失败：{detail}",
    "export.label": "导出进度",
  },
  en: {
    "incident.state.open": "Open",
    "incident.state.monitoring": "Monitoring",
    "incident.state.closed": "Closed",
    "incident.origin.auto": "Opened by an alert",
    "incident.origin.manual": "Opened by hand",
    "incident.auto_title": "{source} · {what}",
    "task.state.dispatched": "Dispatched",
    "task.state.acknowledged": "Acknowledged by crew",
    "task.state.arrived": "Arrived",
    "task.state.done": "Done",
    "task.state.cancelled": "Cancelled",
    "timeline.incident.opened": "Incident opened",
    "timeline.incident.linked": "Alert linked",
    "timeline.incident.unlinked": "Alert unlinked",
    "timeline.incident.edited": "Incident edited",
    "timeline.incident.state": "State changed",
    "timeline.incident.source_added": "Source added",
    "timeline.incident.source_removed": "Source removed",
    "timeline.note": "Note",
    "timeline.task.dispatched": "Vehicle dispatched",
    "timeline.task.acknowledged": "Crew acknowledged",
    "timeline.task.arrived": "Vehicle arrived",
    "timeline.task.done": "Task done",
    "timeline.task.cancelled": "Task cancelled",
    "timeline.alert.raised": "Alert raised",
    "timeline.alert.escalated": "Alert escalated",
    "timeline.alert.deescalated": "Alert eased",
    "timeline.alert.acknowledged": "Alert acknowledged",
    "timeline.alert.resolved": "Alert resolved",
    "timeline.by_system": "ECC",
    "timeline.state_change": "{from} → {to}",
    "timeline.metric_value": "{metric} {value}",
    "timeline.edited": "changed {fields}",
    "field.title": "title",
    "field.severity": "severity",
    "field.description": "description",
    "field.area": "area",
    "source.camera": "Camera {name}",
    "source.vehicle": "{name}",
    "source.station": "{name}",
    "export.start": "Export",
    "export.busy": "Exporting… {percent}%",
    "export.queued": "Waiting to export…",
    "export.done": "Export ready",
    "export.failed": "Export failed: {detail}",
    "export.label": "Export progress",
  },
});

// Events that are decisions and actions (marked apart from what the alerts did).
export const DECISIONS = new Set([
  "note",
  "task.dispatched",
  "task.acknowledged",
  "task.arrived",
  "task.done",
  "task.cancelled",
  "incident.state",
  "incident.opened",
]);

/** Stations, cameras and vehicles by source id ("station:x"), each with its `type`. */
export async function loadNames() {
  const [stations, cameras, vehicles] = await Promise.all([
    api("/api/stations"),
    api("/api/cameras"),
    api("/api/vehicles"),
  ]);
  learnZones(cameras);
  const names = new Map();
  for (const [kind, items] of [["station", stations], ["camera", cameras], ["vehicle", vehicles]]) {
    for (const item of items) names.set(`${kind}:${item.id}`, { ...item, type: kind });
  }
  return names;
}

export function sourceName(source, names) {
  const item = names.get(source);
  const kind = source.split(":")[0];
  if (!item) return source;
  return t(`source.${kind}`, { name: localName(item) });
}

/** An incident's title in the page's language: the words a person gave it as they are; one
 * opened by an alert and never retitled is said from its cause (its stored title is in the
 * site's language, Chinese for Beilun). */
export function incidentTitle(i, names) {
  const cause = i.title_cause;
  if (!cause || language() === "zh-CN") return i.title;
  const item = names && names.get(cause.source);
  const kind = alertKind({ kind: cause.kind });
  const what = cause.metric && ["level", "rise"].includes(cause.kind) ? `${metricName(cause.metric)}: ${kind.toLowerCase()}` : kind;
  // Without the severity: the incident's own (shown beside it) may have grown since.
  return t("incident.auto_title", { source: item ? localName(item) : cause.source.split(":")[1], what });
}

export function kindName(kind) {
  return t(`timeline.${kind}`);
}

export function byName(by) {
  return by || t("timeline.by_system");
}

/** One line on what a timeline entry says, beyond its kind. */
export function describe(e, names) {
  if (e.kind.startsWith("alert.")) {
    if (e.source && e.source.startsWith("camera:")) {
      // A camera's alert (an intrusion): its zone by name and the kind, no measured value.
      const [, id] = e.source.split(":");
      const what = alertWhat({ kind: e.alert_kind, metric: e.metric, source: { type: "camera", id } });
      return [sourceName(e.source, names), what, t(`severity.${e.severity}`), e.note].filter(Boolean).join(" · ");
    }
    const what = e.metric ? metricName(e.metric) : alertKind({ kind: e.alert_kind, metric: e.metric });
    const shown = typeof e.value === "number" && e.metric ? t("timeline.metric_value", { metric: what, value: withUnit(e.metric, e.value) }) : what;
    const parts = [sourceName(e.source, names), shown, t(`severity.${e.severity}`)];
    if (e.note) parts.push(e.note);
    return parts.join(" · ");
  }
  if (e.kind === "incident.state") {
    const change = t("timeline.state_change", {
      from: t(`incident.state.${e.from}`),
      to: t(`incident.state.${e.to}`),
    });
    return e.note ? `${change} · ${e.note}` : change;
  }
  if (e.kind === "incident.linked") return `${sourceName(e.source, names)} · ${t(`severity.${e.severity}`)}`;
  if (e.kind.startsWith("task.")) {
    const name = sourceName(`vehicle:${e.vehicle_id}`, names);
    return e.instructions ? `${name} · ${e.instructions}` : name;
  }
  if (e.kind === "note") return e.text || "";
  if (e.kind === "incident.opened") return incidentTitle({ title: e.title || "", title_cause: e.cause }, names);
  if (e.kind === "incident.source_added" || e.kind === "incident.source_removed") return sourceName(e.source, names);
  if (e.kind === "incident.edited") {
    const fields = ["title", "severity", "description", "area"].filter((f) => f in e).map((f) => t(`field.${f}`));
    return t("timeline.edited", { fields: fields.join(", ") });
  }
  return "";
}

const POLL_MS = 500;

/**
 * Export an incident: a job on the center, its progress polled, then the zip downloaded.
 * `onProgress(job)` sees each state ({state, progress, step}); resolves with the last.
 */
export async function exportIncident(id, onProgress = () => {}) {
  const base = `/api/incidents/${encodeURIComponent(id)}`;
  let job = await api(`${base}/exports`, { method: "POST" });
  onProgress(job);
  while (job.state === "queued" || job.state === "running") {
    await new Promise((r) => setTimeout(r, POLL_MS));
    job = await api(`${base}/exports/${job.id}`);
    onProgress(job);
  }
  if (job.state !== "done") throw new Error(job.error || job.state);
  // The file comes with the bearer token, so through fetch, then handed to the browser.
  const res = await fetch(`${base}/export.zip?job=${job.id}`, {
    headers: { Authorization: `Bearer ${session()?.token}` },
  });
  if (!res.ok) throw new Error(`${res.status}`);
  const blob = await res.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `incident-${id.slice(0, 12)}.zip`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 60000);
  return job;
}

/** The export button's behaviour: progress shown in `status` (a <progress> and a line). */
export function exportButton(button, progress, status, id) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    status.textContent = t("export.queued");
    try {
      await exportIncident(id(), (job) => {
        progress.value = job.progress;
        status.textContent =
          job.state === "queued" ? t("export.queued") : t("export.busy", { percent: Math.round(job.progress * 100) });
      });
      status.textContent = t("export.done");
    } catch (err) {
      status.textContent = t("export.failed", { detail: err.message });
    } finally {
      button.disabled = false;
    }
  });
}
