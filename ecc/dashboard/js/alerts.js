// The alert list: filters by state and severity, acknowledge and resolve (only for users with
// alerts.manage), operable from the keyboard. Used by the alerts page and the operator's wall.
//
//   const list = new AlertList(el, { canManage, sourceName, formatTime });
//   list.set(await api("/api/alerts")); events.on("alert", (a) => list.upsert(a));
//
// Keyboard: Tab reaches the filters, then the list; in the list ↑/↓, Home/End move between
// alerts, A acknowledges the alert in focus, Enter opens it (onOpen).
import { api } from "./api.js";
import { extend, t } from "./i18n.js";
import { alertQuantity, alertWhat, levelName } from "./metrics.js";
import { SEVERITIES, badge, rank } from "./severity.js";

extend({
  "zh-CN": {
    "alerts.filters": "告警筛选",
    "alerts.filter_state": "状态",
    "alerts.filter_severity": "级别",
    "alerts.state_open": "未解除",
    "alerts.state_all": "全部",
    "alerts.count": "共 {n} 条",
    "alerts.none": "没有符合条件的告警",
    "alerts.table": "告警列表",
    "alerts.col_time": "发生时间",
    "alerts.col_severity": "级别",
    "alerts.col_source": "来源",
    "alerts.col_kind": "类型",
    "alerts.col_value": "数值 / 阈值",
    "alerts.col_state": "状态",
    "alerts.col_actions": "操作",
    "alerts.ack": "确认",
    "alerts.resolve": "解除",
    "alerts.ack_label": "确认告警：{source} {kind}",
    "alerts.resolve_label": "解除告警：{source} {kind}",
    "alerts.by": "{who} 于 {time}",
    "alerts.value_of": "{value}（{level} {threshold}）",
    "alerts.acked": "已确认：{source} {kind}",
    "alerts.resolved": "已解除：{source} {kind}",
    "alerts.failed": "操作失败：{detail}",
    "alerts.keys": "↑↓ 选择告警 · A 确认",
    "alerts.keys_readonly": "↑↓ 选择告警",
    "alerts.source_camera": "摄像机 {name}",
    "alerts.source_vehicle": "{name}",
  },
  en: {
    "alerts.filters": "Alert filters",
    "alerts.filter_state": "State",
    "alerts.filter_severity": "Severity",
    "alerts.state_open": "Open",
    "alerts.state_all": "All",
    "alerts.count": "{n} alerts",
    "alerts.none": "No alerts match",
    "alerts.table": "Alerts",
    "alerts.col_time": "Raised",
    "alerts.col_severity": "Severity",
    "alerts.col_source": "Source",
    "alerts.col_kind": "Kind",
    "alerts.col_value": "Value / threshold",
    "alerts.col_state": "State",
    "alerts.col_actions": "Actions",
    "alerts.ack": "Acknowledge",
    "alerts.resolve": "Resolve",
    "alerts.ack_label": "Acknowledge alert: {source} {kind}",
    "alerts.resolve_label": "Resolve alert: {source} {kind}",
    "alerts.by": "{who} at {time}",
    "alerts.value_of": "{value} ({level} {threshold})",
    "alerts.acked": "Acknowledged: {source} {kind}",
    "alerts.resolved": "Resolved: {source} {kind}",
    "alerts.failed": "Failed: {detail}",
    "alerts.keys": "↑↓ choose an alert · A acknowledge",
    "alerts.keys_readonly": "↑↓ choose an alert",
    "alerts.source_camera": "Camera {name}",
    "alerts.source_vehicle": "{name}",
  },
});

const STATES = ["open", "active", "acknowledged", "resolved", "all"];
const STATE_ORDER = { active: 0, acknowledged: 1, resolved: 2 };
const MAX_ROWS = 500;
let lists = 0;

function stateKey(s) {
  return s === "open" || s === "all" ? `alerts.state_${s}` : `state.${s}`;
}

/** Newer wins: an event that arrives after the answer of the same change must not undo it. */
function newer(a, b) {
  return !b || changedAt(a) >= changedAt(b);
}

// Parsed, not compared as text: "…:05.250Z" is later than "…:05Z" but sorts before it.
function changedAt(a) {
  return Date.parse(a.updated_at || a.raised_at);
}

export class AlertList {
  /**
   * options: canManage (bool), sourceName(source) -> text, sourceHref(source) -> URL or null,
   * formatTime(iso) -> text, onOpen(alert) (Enter or a click on a row), state ("open"),
   * severities (all), filters (true).
   */
  constructor(root, options) {
    this.root = root;
    this.options = { filters: true, state: "open", ...options };
    this.alerts = new Map();
    this.state = this.options.state;
    this.severities = new Set(this.options.severities || SEVERITIES);
    this.focusId = null;
    this.fresh = new Set();
    this.busy = new Set();
    this.id = `alert-list-${++lists}`;
    root.classList.add("alert-list");
    root.innerHTML = `
      <div class="alert-filters" role="toolbar" ${this.options.filters ? "" : "hidden"}>
        <div class="seg" role="group" aria-labelledby="${this.id}-fs">
          <span class="seg-label" id="${this.id}-fs" data-i18n="alerts.filter_state"></span>
          ${STATES.map((s) => `<button type="button" data-state="${s}" data-i18n="${stateKey(s)}"></button>`).join("")}
        </div>
        <div class="seg" role="group" aria-labelledby="${this.id}-fv">
          <span class="seg-label" id="${this.id}-fv" data-i18n="alerts.filter_severity"></span>
          ${SEVERITIES.map((s) => `<button type="button" data-severity="${s}" class="sev-filter"><span class="sev sev-${s}" data-i18n="severity.${s}"></span></button>`).join("")}
        </div>
        <span class="alert-count muted"></span>
      </div>
      <div class="alert-table-wrap">
        <table class="list alert-table">
          <caption class="visually-hidden" data-i18n="alerts.table"></caption>
          <thead><tr>
            <th scope="col" data-i18n="alerts.col_time"></th>
            <th scope="col" data-i18n="alerts.col_severity"></th>
            <th scope="col" data-i18n="alerts.col_source"></th>
            <th scope="col" data-i18n="alerts.col_kind"></th>
            <th scope="col" data-i18n="alerts.col_value"></th>
            <th scope="col" data-i18n="alerts.col_state"></th>
            ${this.options.canManage ? '<th scope="col" class="actions" data-i18n="alerts.col_actions"></th>' : ""}
          </tr></thead>
          <tbody></tbody>
        </table>
      </div>
      <p class="alert-empty muted" data-i18n="alerts.none" hidden></p>
      <p class="alert-keys muted" data-i18n="${this.options.canManage ? "alerts.keys" : "alerts.keys_readonly"}"></p>
      <p class="alert-status" role="status" aria-live="polite"></p>`;
    this.toolbar = root.querySelector(".alert-filters");
    this.toolbar.dataset.i18nAttr = "aria-label:alerts.filters";
    this.body = root.querySelector("tbody");
    this.statusEl = root.querySelector(".alert-status");
    this.toolbar.addEventListener("click", (e) => this._onFilter(e));
    this.body.addEventListener("click", (e) => this._onClick(e));
    this.body.addEventListener("keydown", (e) => this._onKey(e));
    this.body.addEventListener("focusin", (e) => {
      const row = e.target.closest("tr[data-alert-id]");
      if (row) this.focusId = row.dataset.alertId;
    });
    this._onLanguage = () => this.render();
    document.addEventListener("ecc:language", this._onLanguage);
  }

  destroy() {
    document.removeEventListener("ecc:language", this._onLanguage);
    this.root.replaceChildren();
  }

  /** Replace every alert (a reload after a reconnect). */
  set(list) {
    this.alerts = new Map(list.map((a) => [a.id, a]));
    this.render();
  }

  /** Add or change one alert (an "alert" event or an answer to ack/resolve). */
  upsert(alert) {
    const old = this.alerts.get(alert.id);
    if (!newer(alert, old)) return;
    if (!old) this.fresh.add(alert.id);
    this.alerts.set(alert.id, alert);
    this.render();
  }

  setFilter({ state, severities } = {}) {
    if (state) this.state = state;
    if (severities) this.severities = new Set(severities);
    this.render();
  }

  visible() {
    return [...this.alerts.values()]
      .filter((a) => this._matches(a))
      .sort(
        (a, b) =>
          STATE_ORDER[a.state] - STATE_ORDER[b.state] ||
          rank(b.severity) - rank(a.severity) ||
          Date.parse(b.raised_at) - Date.parse(a.raised_at),
      )
      .slice(0, MAX_ROWS);
  }

  _matches(a) {
    if (!this.severities.has(a.severity)) return false;
    if (this.state === "all") return true;
    if (this.state === "open") return a.state !== "resolved";
    return a.state === this.state;
  }

  _sourceName(a) {
    return this.options.sourceName ? this.options.sourceName(a.source) : a.source.id;
  }

  _valueText(a) {
    if (a.value === null || a.value === undefined) return "";
    const value = alertQuantity(a, a.value);
    if (a.threshold === null || a.threshold === undefined) return value;
    return t("alerts.value_of", {
      value,
      level: a.kind === "rise" ? t("level.rise") : levelName(a.metric || "", a.severity),
      threshold: alertQuantity(a, a.threshold),
    });
  }

  _kindText(a) {
    return alertWhat(a);
  }

  render() {
    const fmt = this.options.formatTime || ((iso) => iso);
    for (const b of this.toolbar.querySelectorAll("[data-state]")) {
      b.setAttribute("aria-pressed", String(b.dataset.state === this.state));
    }
    for (const b of this.toolbar.querySelectorAll("[data-severity]")) {
      b.setAttribute("aria-pressed", String(this.severities.has(b.dataset.severity)));
    }
    const rows = this.visible();
    const hadFocus = this.body.contains(document.activeElement);
    const focusButton = hadFocus && document.activeElement.dataset.action;
    if (!rows.some((a) => a.id === this.focusId)) this.focusId = rows.length ? rows[0].id : null;
    this.body.replaceChildren(
      ...rows.map((a) => {
        const tr = document.createElement("tr");
        tr.dataset.alertId = a.id;
        tr.dataset.state = a.state;
        tr.dataset.severity = a.severity;
        tr.tabIndex = a.id === this.focusId ? 0 : -1;
        if (this.fresh.has(a.id)) tr.classList.add("is-new");
        const source = this._sourceName(a);
        const kind = this._kindText(a);
        const href = this.options.sourceHref?.(a.source);
        let sourceCell = source;
        if (href) {
          sourceCell = document.createElement("a");
          sourceCell.href = href;
          sourceCell.textContent = source;
        }
        const cells = [
          fmt(a.raised_at),
          badge(a.severity),
          sourceCell,
          kind,
          this._valueText(a),
          this._stateCell(a, fmt),
        ];
        for (const c of cells) {
          const td = document.createElement("td");
          td.append(c);
          tr.append(td);
        }
        tr.cells[0].className = "num";
        tr.cells[4].className = "num";
        if (this.options.canManage) {
          const td = document.createElement("td");
          td.className = "actions";
          if (a.state === "active") td.append(this._button(a, "ack", source, kind));
          if (a.state !== "resolved") td.append(this._button(a, "resolve", source, kind));
          tr.append(td);
        }
        return tr;
      }),
    );
    this.fresh.clear();
    this.root.querySelector(".alert-empty").hidden = rows.length > 0;
    this.root.querySelector(".alert-table").hidden = rows.length === 0;
    this.root.querySelector(".alert-count").textContent = t("alerts.count", { n: rows.length });
    for (const el of this.root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    this.toolbar.setAttribute("aria-label", t("alerts.filters"));
    if (hadFocus) this._focusRow(this.focusId, focusButton);
  }

  _stateCell(a, fmt) {
    const span = document.createElement("span");
    span.className = `state state-${a.state}`;
    const word = document.createElement("span");
    word.textContent = t(`state.${a.state}`);
    span.append(word);
    if (a.state === "acknowledged" && a.acknowledged_by) {
      const by = document.createElement("small");
      by.className = "muted";
      by.textContent = t("alerts.by", { who: a.acknowledged_by, time: fmt(a.acknowledged_at) });
      span.append(by);
    }
    return span;
  }

  _button(a, action, source, kind) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.action = action;
    b.className = action === "ack" ? "primary" : "";
    b.textContent = t(`alerts.${action}`);
    b.setAttribute("aria-label", t(`alerts.${action}_label`, { source, kind }));
    b.disabled = this.busy.has(a.id);
    return b;
  }

  _focusRow(id, button) {
    const row = id && this.body.querySelector(`tr[data-alert-id="${CSS.escape(id)}"]`);
    if (!row) return;
    for (const r of this.body.rows) r.tabIndex = r === row ? 0 : -1;
    const target = (button && row.querySelector(`button[data-action="${button}"]:not([disabled])`)) || row;
    target.focus();
    this.focusId = id;
  }

  /** Put the keyboard focus on the list (the first alert). */
  focus() {
    this._focusRow(this.focusId, null);
  }

  _onFilter(e) {
    const b = e.target.closest("button");
    if (!b) return;
    if (b.dataset.state) this.state = b.dataset.state;
    if (b.dataset.severity) {
      const s = b.dataset.severity;
      if (this.severities.has(s)) this.severities.delete(s);
      else this.severities.add(s);
    }
    this.render();
  }

  _onClick(e) {
    const row = e.target.closest("tr[data-alert-id]");
    if (!row) return;
    const b = e.target.closest("button[data-action]");
    if (b) this.act(row.dataset.alertId, b.dataset.action);
    else if (this.options.onOpen && !e.target.closest("a, button")) {
      this.options.onOpen(this.alerts.get(row.dataset.alertId));
    }
  }

  _onKey(e) {
    const row = e.target.closest("tr[data-alert-id]");
    if (!row || e.altKey || e.ctrlKey || e.metaKey) return;
    const rows = [...this.body.rows];
    const i = rows.indexOf(row);
    const onRow = e.target === row;
    let next = null;
    if (e.key === "ArrowDown") next = rows[Math.min(i + 1, rows.length - 1)];
    else if (e.key === "ArrowUp") next = rows[Math.max(i - 1, 0)];
    else if (e.key === "Home" && onRow) next = rows[0];
    else if (e.key === "End" && onRow) next = rows[rows.length - 1];
    else if ((e.key === "a" || e.key === "A") && this.options.canManage) {
      e.preventDefault();
      if (row.dataset.state === "active") this.act(row.dataset.alertId, "ack");
      return;
    } else if (e.key === "Enter" && onRow && this.options.onOpen) {
      e.preventDefault();
      this.options.onOpen(this.alerts.get(row.dataset.alertId));
      return;
    }
    if (next) {
      e.preventDefault();
      this._focusRow(next.dataset.alertId, null);
    }
  }

  /** Acknowledge ("ack") or resolve ("resolve") one alert. */
  async act(id, action) {
    const a = this.alerts.get(id);
    if (!a || this.busy.has(id) || !this.options.canManage) return;
    const params = { source: this._sourceName(a), kind: this._kindText(a) };
    this.busy.add(id);
    this.render();
    try {
      const changed = await api(`/api/alerts/${encodeURIComponent(id)}/${action}`, {
        method: "POST",
        body: action === "ack" ? {} : undefined,
      });
      this.busy.delete(id);
      this.upsert(changed);
      this._say(t(action === "ack" ? "alerts.acked" : "alerts.resolved", params));
    } catch (err) {
      this.busy.delete(id);
      this._say(t("alerts.failed", { detail: err.detail || err.message }), true);
      // Someone else may have changed it meanwhile: show what is true now.
      try {
        this.upsert(await api(`/api/alerts/${encodeURIComponent(id)}`));
      } catch (_) {
        /* the failure above is already shown */
      }
      this.render();
    }
  }

  _say(text, error = false) {
    this.statusEl.textContent = text;
    this.statusEl.classList.toggle("error", error);
  }
}
