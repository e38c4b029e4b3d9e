// A time axis with one lane per source: recorded spans, gaps (what is not drawn), motion and
// alert marks, a cursor, a selected range. Zooms from a day to a minute around the cursor or the
// pointer. Several lanes share one cursor, so the incident review shows every source of an
// incident on one axis:
//
//   const tl = createTimeline(el, { timezone, onSeek: (ms) => ..., onSelect: (a, b) => ... });
//   tl.setBounds(dayStart, dayEnd);              // what can be scrolled to, ms
//   tl.setLanes([{ id, label, spans: [{start, end}], marks: [{start, end?, kind, label}] }]);
//   tl.setCursor(ms); tl.zoom(+1 | -1); tl.setSelection(a, b) / tl.setSelection(null);
//
// Click a lane or the ruler to seek; shift+drag (or drag on the ruler) to select a range; the
// wheel zooms around the pointer; the arrow keys move the cursor by a tick when it has focus.

export const ZOOMS = [
  { span: 86400e3, tick: 3600e3, label: 3 * 3600e3 },
  { span: 6 * 3600e3, tick: 900e3, label: 3600e3 },
  { span: 3600e3, tick: 300e3, label: 600e3 },
  { span: 600e3, tick: 60e3, label: 120e3 },
  { span: 60e3, tick: 5e3, label: 10e3 },
];

function parts(ms, timezone) {
  const fmt = new Intl.DateTimeFormat("en-GB", {
    timeZone: timezone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  const out = {};
  for (const p of fmt.formatToParts(new Date(ms))) out[p.type] = p.value;
  return out;
}

/** The time zone's offset from UTC at `ms`, in ms. */
export function zoneOffset(ms, timezone) {
  const p = parts(ms, timezone);
  const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** UTC ms of `date` ("YYYY-MM-DD") at `time` ("HH:MM[:SS]") in the time zone. */
export function zonedTime(date, time, timezone) {
  const [y, m, d] = date.split("-").map(Number);
  const [hh, mm, ss = 0] = time.split(":").map(Number);
  const guess = Date.UTC(y, m - 1, d, hh, mm, Math.floor(ss)) + (ss % 1) * 1000;
  // Twice: the offset at the guess, then at the corrected time (a DST change in between).
  let ms = guess - zoneOffset(guess, timezone);
  ms = guess - zoneOffset(ms, timezone);
  return ms;
}

/** "YYYY-MM-DD" and "HH:MM:SS" of `ms` in the time zone. */
export function zonedParts(ms, timezone) {
  const p = parts(ms, timezone);
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}:${p.second}` };
}

export function createTimeline(el, { timezone = "Asia/Shanghai", onSeek = () => {}, onSelect = () => {}, labels = {} } = {}) {
  el.classList.add("timeline");
  el.tabIndex = 0;
  el.setAttribute("role", "slider");
  el.innerHTML = `
    <div class="tl-ruler"></div>
    <div class="tl-lanes"></div>
    <div class="tl-selection" hidden></div>
    <div class="tl-cursor" hidden><span class="tl-cursor-label"></span></div>`;
  const ruler = el.querySelector(".tl-ruler");
  const lanesEl = el.querySelector(".tl-lanes");
  const selEl = el.querySelector(".tl-selection");
  const cursorEl = el.querySelector(".tl-cursor");
  const state = {
    bounds: [Date.now() - 86400e3, Date.now()],
    view: [Date.now() - 86400e3, Date.now()],
    zoom: 0,
    lanes: [],
    cursor: null,
    selection: null,
  };

  const x = (ms) => ((ms - state.view[0]) / (state.view[1] - state.view[0])) * 100;
  const timeAt = (clientX) => {
    const r = lanesEl.getBoundingClientRect();
    const f = Math.min(1, Math.max(0, (clientX - r.left) / r.width));
    return state.view[0] + f * (state.view[1] - state.view[0]);
  };
  const fmt = (ms, seconds) => {
    const p = parts(ms, timezone);
    return seconds ? `${p.hour}:${p.minute}:${p.second}` : `${p.hour}:${p.minute}`;
  };

  function clampView(start, span) {
    const [b0, b1] = state.bounds;
    span = Math.min(span, b1 - b0);
    start = Math.max(b0, Math.min(start, b1 - span));
    state.view = [start, start + span];
  }

  function drawRuler() {
    const z = ZOOMS[state.zoom];
    const [v0, v1] = state.view;
    const offset = zoneOffset(v0, timezone);
    ruler.replaceChildren();
    // Ticks on the time zone's round minutes and hours.
    let t = Math.ceil((v0 + offset) / z.tick) * z.tick - offset;
    for (; t <= v1; t += z.tick) {
      const tick = document.createElement("div");
      const labelled = Math.abs(((t + offset) % z.label + z.label) % z.label) < 1;
      tick.className = labelled ? "tl-tick tl-tick-label" : "tl-tick";
      tick.style.left = `${x(t)}%`;
      if (labelled) {
        const text = document.createElement("span");
        text.className = "tl-tick-text";
        text.textContent = fmt(t, z.tick < 60e3);
        tick.append(text);
      }
      ruler.append(tick);
    }
  }

  function drawLanes() {
    lanesEl.replaceChildren();
    const [v0, v1] = state.view;
    for (const lane of state.lanes) {
      const row = document.createElement("div");
      row.className = "tl-lane";
      row.dataset.lane = lane.id;
      if (state.lanes.length > 1 || lane.label) {
        const name = document.createElement("span");
        name.className = "tl-lane-name";
        name.textContent = lane.label || lane.id;
        row.append(name);
      }
      for (const s of lane.spans || []) {
        if (s.end < v0 || s.start > v1) continue;
        const d = document.createElement("div");
        d.className = "tl-span";
        const a = Math.max(x(s.start), 0);
        d.style.left = `${a}%`;
        d.style.width = `${Math.max(Math.min(x(s.end), 100) - a, 0.15)}%`;
        row.append(d);
      }
      for (const m of lane.marks || []) {
        const end = m.end ?? m.start;
        if (end < v0 || m.start > v1) continue;
        const d = document.createElement("div");
        d.className = `tl-mark tl-mark-${m.kind}`;
        if (m.severity) d.dataset.severity = m.severity;
        const a = Math.max(x(m.start), 0);
        d.style.left = `${a}%`;
        d.style.width = `${Math.max(Math.min(x(end), 100) - a, 0)}%`;
        if (m.label) d.title = m.label;
        row.append(d);
      }
      lanesEl.append(row);
    }
  }

  function drawCursor() {
    const c = state.cursor;
    const shown = c !== null && c >= state.view[0] && c <= state.view[1];
    cursorEl.hidden = !shown;
    if (shown) {
      cursorEl.style.left = `${x(c)}%`;
      cursorEl.querySelector(".tl-cursor-label").textContent = fmt(c, true);
    }
    el.setAttribute("aria-valuetext", c === null ? "" : fmt(c, true));
    const s = state.selection;
    selEl.hidden = !s || s[1] < state.view[0] || s[0] > state.view[1];
    if (!selEl.hidden) {
      const a = Math.max(x(s[0]), 0);
      selEl.style.left = `${a}%`;
      selEl.style.width = `${Math.max(Math.min(x(s[1]), 100) - a, 0.1)}%`;
    }
  }

  function draw() {
    el.dataset.zoom = String(state.zoom);
    el.dataset.viewStart = String(Math.round(state.view[0]));
    el.dataset.viewEnd = String(Math.round(state.view[1]));
    drawRuler();
    drawLanes();
    drawCursor();
  }

  function zoomTo(level, around) {
    state.zoom = Math.max(0, Math.min(ZOOMS.length - 1, level));
    const span = ZOOMS[state.zoom].span;
    const [v0, v1] = state.view;
    const at = around ?? state.cursor ?? (v0 + v1) / 2;
    const f = Math.min(1, Math.max(0, (at - v0) / (v1 - v0 || 1)));
    clampView(at - f * span, span);
    draw();
  }

  // -- input ------------------------------------------------------------------------------
  let drag = null;
  el.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    const onRuler = e.target === ruler || ruler.contains(e.target);
    drag = { from: timeAt(e.clientX), select: e.shiftKey || onRuler, moved: false, x: e.clientX };
    el.setPointerCapture(e.pointerId);
  });
  el.addEventListener("pointermove", (e) => {
    if (!drag) return;
    if (Math.abs(e.clientX - drag.x) > 4) drag.moved = true;
    if (drag.select && drag.moved) {
      const t = timeAt(e.clientX);
      state.selection = [Math.min(drag.from, t), Math.max(drag.from, t)];
      drawCursor();
    }
  });
  el.addEventListener("pointerup", (e) => {
    if (!drag) return;
    const d = drag;
    drag = null;
    if (d.select && d.moved && state.selection) onSelect(state.selection[0], state.selection[1]);
    else onSeek(timeAt(e.clientX));
  });
  el.addEventListener("wheel", (e) => {
    e.preventDefault();
    zoomTo(state.zoom + (e.deltaY < 0 ? 1 : -1), timeAt(e.clientX));
  }, { passive: false });
  el.addEventListener("keydown", (e) => {
    if (state.cursor === null) return;
    const step = ZOOMS[state.zoom].tick / 5;
    if (e.key === "ArrowLeft") onSeek(state.cursor - step);
    else if (e.key === "ArrowRight") onSeek(state.cursor + step);
    else if (e.key === "+" || e.key === "=") zoomTo(state.zoom + 1);
    else if (e.key === "-") zoomTo(state.zoom - 1);
    else return;
    e.preventDefault();
  });
  const resize = new ResizeObserver(() => draw());
  resize.observe(el);
  if (labels.aria) el.setAttribute("aria-label", labels.aria);

  return {
    el,
    get view() { return [...state.view]; },
    get zoomLevel() { return state.zoom; },
    get selection() { return state.selection ? [...state.selection] : null; },
    get cursor() { return state.cursor; },
    setBounds(start, end) {
      state.bounds = [start, end];
      clampView(start, end - start);
      state.zoom = 0;
      draw();
    },
    setLanes(lanes) {
      state.lanes = lanes;
      drawLanes();
    },
    setCursor(ms, { follow = true } = {}) {
      state.cursor = ms;
      // Keep the cursor in sight: page the view along when it leaves it.
      const [v0, v1] = state.view;
      if (follow && ms !== null && (ms < v0 || ms > v1)) {
        clampView(ms - (v1 - v0) * 0.1, v1 - v0);
        draw();
      } else drawCursor();
    },
    setSelection(a, b) {
      state.selection = a === null || a === undefined ? null : [Math.min(a, b), Math.max(a, b)];
      drawCursor();
    },
    zoom(delta, around) { zoomTo(state.zoom + delta, around); },
    zoomTo,
    destroy() { resize.disconnect(); el.replaceChildren(); },
  };
}
