// Loads the vendored libraries (vendor/README.md) on first use, once per page. They are
// classic scripts that define a global (window.L, window.uPlot, window.Hls), kept byte for
// byte as published, so they are added as <script> elements rather than imported as modules.
const BASE = "/static/vendor";
export const LEAFLET = `${BASE}/leaflet-1.9.4`;
export const UPLOT = `${BASE}/uplot-1.6.32`;
export const HLS = `${BASE}/hls.js-1.7.4`;

const pending = new Map();

function once(url, make) {
  if (!pending.has(url)) pending.set(url, make());
  return pending.get(url);
}

function inserted(el, url, first = false) {
  return new Promise((resolve, reject) => {
    el.addEventListener("load", resolve, { once: true });
    el.addEventListener("error", () => reject(new Error(`cannot load ${url}`)), { once: true });
    if (first) document.head.prepend(el);
    else document.head.append(el);
  });
}

export function script(url) {
  return once(url, () => {
    const el = document.createElement("script");
    el.src = url;
    return inserted(el, url);
  });
}

// Library styles go first in <head>, so that the dashboard's own sheets override them.
export function style(url) {
  return once(url, () => {
    const el = document.createElement("link");
    el.rel = "stylesheet";
    el.href = url;
    return inserted(el, url, true);
  });
}

export async function leaflet() {
  await Promise.all([style(`${LEAFLET}/leaflet.css`), script(`${LEAFLET}/leaflet.js`)]);
  return window.L;
}

export async function uplot() {
  await Promise.all([style(`${UPLOT}/uPlot.min.css`), script(`${UPLOT}/uPlot.iife.min.js`)]);
  return window.uPlot;
}

export async function hls() {
  await script(`${HLS}/hls.min.js`);
  return window.Hls;
}
