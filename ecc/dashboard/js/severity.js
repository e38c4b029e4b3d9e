// Alert severity: order, badges and marker shapes. Severity is never shown by colour alone:
// each level has its own shape (circle, triangle, diamond, octagon) and its word, the same on
// badges (css/app.css .sev-*) and on map markers (css/map.css .mk-*).
import { extend, t } from "./i18n.js";

extend({
  "zh-CN": { "severity.ok": "正常" },
  en: { "severity.ok": "Normal" },
});

export const SEVERITIES = ["info", "warning", "danger", "critical"];

/** -1 for no severity (null), then 0..3 from info to critical. */
export function rank(sev) {
  return sev ? SEVERITIES.indexOf(sev) : -1;
}

/** The worst of some severities, or null when there is none. */
export function worst(sevs) {
  let out = null;
  for (const s of sevs) if (rank(s) > rank(out)) out = s;
  return out;
}

/** A badge: `sev` null shows "normal". */
export function badge(sev) {
  const span = document.createElement("span");
  const key = sev || "ok";
  span.className = `sev sev-${key}`;
  span.dataset.i18n = `severity.${key}`;
  span.textContent = t(`severity.${key}`);
  return span;
}

// Shapes in a 24x24 box, matching the badges' shapes.
const SHAPES = {
  ok: '<circle class="mk-shape" cx="12" cy="12" r="6.5"/>',
  info: '<circle class="mk-shape" cx="12" cy="12" r="9"/><circle class="mk-mark" cx="12" cy="12" r="2.5"/>',
  warning: '<polygon class="mk-shape" points="12,1.5 23,21.5 1,21.5"/><rect class="mk-mark" x="10.8" y="8" width="2.4" height="7.5"/><rect class="mk-mark" x="10.8" y="17" width="2.4" height="2.4"/>',
  danger: '<polygon class="mk-shape" points="12,0.8 23.2,12 12,23.2 0.8,12"/><rect class="mk-mark" x="10.8" y="6" width="2.4" height="7.5"/><rect class="mk-mark" x="10.8" y="15.2" width="2.4" height="2.4"/>',
  critical: '<polygon class="mk-shape" points="7,1 17,1 23,7 23,17 17,23 7,23 1,17 1,7"/><rect class="mk-mark" x="10.8" y="5.5" width="2.4" height="8.5"/><rect class="mk-mark" x="10.8" y="16" width="2.4" height="2.4"/>',
};

/** SVG markup of a severity's shape (`sev` null: normal), for markers and legends. */
export function shape(sev, size = 24) {
  const key = sev || "ok";
  return `<svg class="mk mk-${key}" width="${size}" height="${size}" viewBox="0 0 24 24" aria-hidden="true" focusable="false">${SHAPES[key]}</svg>`;
}
