// An in-page check of a page's layout, for any page and any screen size (tests/browser/layout.py).
// Returns a list of problems, each a sentence naming the elements:
//   - the page scrolls (with `fit`: a wall must fit its screen);
//   - text cut off: an element that hides overflow (or scrolls sideways) is narrower than its
//     content, or shorter when it hides vertical overflow;
//   - clipped: a visible box sticks out of an ancestor that hides overflow;
//   - overlap: two boxes (text, controls, icons) cover each other.
// What is drawn on purpose over something else is exempt: text over a video or a canvas, the
// content of a map, and layers marked `data-layer` (a dialog, a popover, a full-screen tile),
// which are compared only with boxes of the same layer.
({ root = "body", fit = true } = {}) => {
  const top = document.querySelector(root) || document.body;
  const problems = [];
  const W = window.innerWidth;
  const H = window.innerHeight;
  const TOL = 1;

  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += `#${el.id}`;
    const cls = typeof el.className === "string" ? el.className.trim().split(/\s+/).filter(Boolean).slice(0, 2) : [];
    if (cls.length) s += `.${cls.join(".")}`;
    const text = (el.textContent || el.getAttribute("aria-label") || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return text ? `${s} "${text}"` : s;
  };
  const shown = (el) =>
    el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true }) &&
    el.getClientRects().length > 0;
  // Map content (tiles, markers, labels) may run under anything: it is clipped by the map.
  const mapContent = (el) => el.closest(".leaflet-map-pane") !== null;
  const hiddenText = (el) => el.closest(".visually-hidden") !== null;
  const MEDIA = new Set(["VIDEO", "CANVAS", "IMG"]);
  const CONTROLS = new Set(["BUTTON", "INPUT", "SELECT", "TEXTAREA"]);

  if (fit) {
    const de = document.documentElement;
    if (de.scrollWidth > W + TOL) problems.push(`page: wider than the screen (${de.scrollWidth} > ${W})`);
    if (de.scrollHeight > H + TOL) problems.push(`page: taller than the screen (${de.scrollHeight} > ${H})`);
  }

  const all = [top, ...top.querySelectorAll("*")].filter(
    (el) => !(el instanceof SVGElement && el.ownerSVGElement) && !mapContent(el) && !hiddenText(el) && shown(el),
  );

  // Text cut off, or scrolling sideways.
  for (const el of all) {
    if (el.matches(".leaflet-container, .uplot, .uplot *") || MEDIA.has(el.tagName) || CONTROLS.has(el.tagName)) continue;
    const cs = getComputedStyle(el);
    const hides = (v) => v === "hidden" || v === "clip";
    if ((hides(cs.overflowX) || cs.overflowX === "auto" || cs.overflowX === "scroll") && el.scrollWidth > el.clientWidth + TOL) {
      problems.push(`cut: ${describe(el)} is ${el.scrollWidth - el.clientWidth}px narrower than its content`);
    } else if (hides(cs.overflowY) && el.scrollHeight > el.clientHeight + TOL) {
      problems.push(`cut: ${describe(el)} is ${el.scrollHeight - el.clientHeight}px shorter than its content`);
    }
  }

  // The boxes a person reads or uses.
  const boxes = [];
  for (const el of all) {
    const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    const kind = MEDIA.has(el.tagName) ? "media" : own || CONTROLS.has(el.tagName) || el.tagName === "svg" || el.tagName === "KBD" ? "box" : null;
    if (!kind) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    // Clipped by ancestors: hidden overflow must not cut it; a scroller may hide part of it.
    let visible = { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
    for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (cs.overflowX === "visible" && cs.overflowY === "visible") continue;
      const ar = a.getBoundingClientRect();
      const clips = cs.overflowX === "hidden" || cs.overflowX === "clip" || cs.overflowY === "hidden" || cs.overflowY === "clip";
      const inside = r.left >= ar.left - TOL && r.right <= ar.right + TOL && r.top >= ar.top - TOL && r.bottom <= ar.bottom + TOL;
      if (clips && !inside && kind === "box" && !a.matches(".leaflet-container")) {
        problems.push(`clipped: ${describe(el)} sticks out of ${describe(a)}`);
      }
      visible = {
        left: Math.max(visible.left, ar.left),
        top: Math.max(visible.top, ar.top),
        right: Math.min(visible.right, ar.right),
        bottom: Math.min(visible.bottom, ar.bottom),
      };
    }
    if (fit && kind === "box" && (r.right > W + TOL || r.bottom > H + TOL || r.left < -TOL || r.top < -TOL) && visible.right > visible.left && visible.bottom > visible.top) {
      problems.push(`off screen: ${describe(el)}`);
    }
    if (visible.right - visible.left < 1 || visible.bottom - visible.top < 1) continue; // scrolled away
    const layer = el.closest("[data-layer]");
    boxes.push({ el, kind, r: visible, layer });
  }

  // Overlaps between boxes of one layer; text over pictures is meant.
  for (let i = 0; i < boxes.length; i++) {
    const a = boxes[i];
    if (a.kind === "media") continue;
    for (let j = i + 1; j < boxes.length; j++) {
      const b = boxes[j];
      if (b.kind === "media" || a.layer !== b.layer) continue;
      if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
      const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
      const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
      if (w > TOL && h > TOL) problems.push(`overlap: ${describe(a.el)} and ${describe(b.el)} (${Math.round(w)}×${Math.round(h)}px)`);
    }
  }
  return problems;
}
